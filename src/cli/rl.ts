import { group, lazy } from "./common"

export default group({ name: "rl", description: "Learned task routing: status, training, algorithm, parameters, off-policy evaluation" }, {
  status: lazy(() => import("./rl-status")),
  train: lazy(() => import("./rl-train")),
  algorithm: lazy(() => import("./rl-algorithm")),
  params: lazy(() => import("./rl-params")),
  evaluate: lazy(() => import("./rl-evaluate")),
})
