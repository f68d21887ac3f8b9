import { group, lazy } from "./common"

export default group(
  { name: "exceptions", description: "Time-bounded exceptions to governance: list, create, delete, clean up, reset" },
  {
    list: lazy(() => import("./exceptions-list")),
    create: lazy(() => import("./exceptions-create")),
    delete: lazy(() => import("./exceptions-delete")),
    cleanup: lazy(() => import("./exceptions-cleanup")),
    reset: lazy(() => import("./exceptions-reset")),
  },
)
