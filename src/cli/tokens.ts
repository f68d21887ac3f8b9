import { group, lazy } from "./common"

export default group({ name: "tokens", description: "Token accounting: analyse and compress texts, usage metrics, recommendations" }, {
  analyze: lazy(() => import("./tokens-analyze")),
  compress: lazy(() => import("./tokens-compress")),
  metrics: lazy(() => import("./tokens-metrics")),
  recommendations: lazy(() => import("./tokens-recommendations")),
})
