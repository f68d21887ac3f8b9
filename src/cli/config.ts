import { group, lazy } from "./common"

export default group(
  { name: "config", description: "Show, change and check the scc configuration" },
  {
    explain: lazy(() => import("./config-explain")),
    show: lazy(() => import("./config-show")),
    get: lazy(() => import("./config-get")),
    set: lazy(() => import("./config-set")),
    paths: lazy(() => import("./config-paths")),
    validate: lazy(() => import("./config-validate")),
  },
)
