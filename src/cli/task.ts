import { group, lazy } from "./common"

export default group({ name: "task", description: "Create, list, follow and cancel the daemon's tasks" }, {
  create: lazy(() => import("./task-create")),
  list: lazy(() => import("./task-list")),
  status: lazy(() => import("./task-status")),
  cancel: lazy(() => import("./task-cancel")),
  watch: lazy(() => import("./task-watch")),
})
