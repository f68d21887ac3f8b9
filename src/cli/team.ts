import { group, lazy } from "./common"

export default group(
  { name: "team", description: "List the org's teams, show one, or switch yours" },
  {
    list: lazy(() => import("./team-list")),
    switch: lazy(() => import("./team-switch")),
    info: lazy(() => import("./team-info")),
  },
)
