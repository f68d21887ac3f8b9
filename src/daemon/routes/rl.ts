import { Elysia } from "elysia"
import * as v from "valibot"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"

// Learned routing (src/rl): the policy's state, training on the recorded
// decisions, the algorithm in use, its parameters, and off-policy estimates.
// Values are checked by src/rl/params.ts (one place for the routes, the CLI
// and MCP): an unknown algorithm or an out-of-range parameter is a 400 naming
// the field and the allowed range.

const TrainBody = v.optional(v.strictObject({ algorithm: v.optional(v.string()) }))
const AlgorithmBody = v.strictObject({ algorithm: v.string() })
const ParamsBody = v.record(v.string(), v.unknown())

export function rlRoutes(ctx: DaemonContext) {
  const rl = ctx.rl
  return new Elysia({ name: "rl", prefix: `${API_PREFIX}/rl` })
    .get("/status", () => rl.status(), {
      detail: doc({ summary: "The routing policy's state: algorithm, experiences, recent rewards next to the heuristic's, ε, loss, model version, off-policy estimates", tags: ["rl"] }),
    })
    .post("/train", ({ body }) => rl.train({ algorithm: body?.algorithm }), {
      body: TrainBody,
      detail: doc({ summary: "Retrain from the recorded decisions (one algorithm, or all), save the models, refresh the estimates", tags: ["rl"], responses: { 200: "What was trained", 400: "Unknown algorithm" } }),
    })
    .get("/algorithm", () => ({ algorithm: rl.getParams().algorithm }), { detail: doc({ summary: "The active algorithm", tags: ["rl"] }) })
    .post("/algorithm", ({ body }) => rl.setAlgorithm(body.algorithm), {
      body: AlgorithmBody,
      detail: doc({ summary: "Switch the algorithm (heuristic, linucb, q_learning, dqn, ppo); persists across restarts", tags: ["rl"], responses: { 200: "The new and the previous algorithm", 400: "Unknown algorithm" } }),
    })
    .get("/params", () => rl.getParams(), { detail: doc({ summary: "The parameters and their ranges", tags: ["rl"] }) })
    .post("/params", ({ body }) => rl.setParams(body), {
      body: ParamsBody,
      detail: doc({ summary: "Change parameters (learning_rate, discount, epsilon, batch_size, exploration, ...); persists across restarts", tags: ["rl"], responses: { 200: "The parameters now", 400: "A parameter out of range, or unknown" } }),
    })
    .post("/evaluate", () => rl.evaluate(), {
      detail: doc({ summary: "Off-policy estimates (IPS, SNIPS, doubly robust) of every algorithm on the recorded decisions", tags: ["rl"] }),
    })
}
