import * as z from "zod"
import { LearningSection } from "../../config/schema"
import { statusLine } from "../../rl/format"
import type { RlStatus } from "../../rl/service"
import { defineTool, jsonText, type ToolContext } from "../tool"

// Learned task routing: the policy's state, training, and the algorithm in
// use. Each tool calls the daemon's /api/v1/rl route (the same domain
// functions as `cca rl`), and leads with a one-line summary a model can act on.

/** The algorithms cca.toml's learning.algorithm accepts. */
const ALGORITHMS = LearningSection.entries.algorithm.wrapped.options

export function rlTools({ daemon }: ToolContext) {
  return [
    defineTool({
      name: "cca_rl_status",
      title: "Routing policy status",
      description: "State of cca's learned task routing: algorithm, decisions learned from, recent rewards vs the heuristic's, exploration, model.",
      input: {},
      readOnly: true,
      async run(_args, call) {
        const s = await daemon.call<RlStatus>("GET", "/api/v1/rl/status", { signal: call.signal })
        return { summary: statusLine(s), detail: jsonText(s), data: s as unknown as Record<string, unknown> }
      },
    }),
    defineTool({
      name: "cca_rl_train",
      title: "Train the routing policy",
      description: "Retrain cca's task routing policies on the decisions recorded from finished tasks, and save them.",
      input: { algorithm: z.enum(ALGORITHMS).optional().describe("only this algorithm (default: the active one, or all when it is the heuristic)") },
      async run({ algorithm }, call) {
        const r = await daemon.call<{ trained: { algorithm: string; version: number; samples: number }[] }>("POST", "/api/v1/rl/train", { body: algorithm ? { algorithm } : {}, signal: call.signal })
        const what = r.trained.map((t) => `${t.algorithm} v${t.version}`).join(", ") || "nothing"
        return { summary: `trained ${what} on ${r.trained[0]?.samples ?? 0} recorded decisions`, detail: jsonText(r), data: r as unknown as Record<string, unknown> }
      },
    }),
    defineTool({
      name: "cca_rl_algorithm",
      title: "Switch the routing algorithm",
      description: "Switch cca's task routing algorithm: heuristic (keyword rules), linucb (the default learned router), q_learning, dqn or ppo.",
      input: { algorithm: z.enum(ALGORITHMS).describe("heuristic, linucb, q_learning, dqn or ppo") },
      async run({ algorithm }, call) {
        const r = await daemon.call<{ algorithm: string; previous: string }>("POST", "/api/v1/rl/algorithm", { body: { algorithm }, signal: call.signal })
        return { summary: `routing algorithm is now ${r.algorithm} (was ${r.previous})`, data: r }
      },
    }),
  ]
}
