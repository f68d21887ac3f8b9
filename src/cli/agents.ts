import { group, lazy } from "./common"

export default group({ name: "agents", description: "Agents registered with the daemon" }, {
  list: lazy(() => import("./agents-list")),
})
