import { group, lazy } from "./common"

export default group({ name: "agents", description: "The daemon's agents: spawn, list, stop, logs, send, attach" }, {
  list: lazy(() => import("./agents-list")),
  spawn: lazy(() => import("./agents-spawn")),
  stop: lazy(() => import("./agents-stop")),
  logs: lazy(() => import("./agents-logs")),
  send: lazy(() => import("./agents-send")),
  attach: lazy(() => import("./agents-attach")),
})
