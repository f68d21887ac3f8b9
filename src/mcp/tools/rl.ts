import * as z from "zod"
import { LearningSection } from "../../config/schema"
import { defineTool, type ToolContext } from "../tool"
import { forward } from "./forward"

// Learned task routing: the policy's state, training, and the algorithm in use.

/** The algorithms cca.toml's learning.algorithm accepts. */
const ALGORITHMS = LearningSection.entries.algorithm.wrapped.options

export function rlTools({ daemon }: ToolContext) {
  return [
    defineTool({
      name: "cca_rl_status",
      title: "Routing policy status",
      description: "State of cca's learned task routing: algorithm, episodes, recent rewards, exploration rate.",
      input: {},
      readOnly: true,
      run: (_args, call) => forward(daemon, call, "GET", "/api/v1/rl/status", { title: "routing policy" }),
    }),
    defineTool({
      name: "cca_rl_train",
      title: "Train the routing policy",
      description: "Train cca's task routing policy on the experience recorded from finished tasks.",
      input: {},
      run: (_args, call) => forward(daemon, call, "POST", "/api/v1/rl/train", { body: {}, title: "training" }),
    }),
    defineTool({
      name: "cca_rl_algorithm",
      title: "Switch the routing algorithm",
      description: "Switch cca's task routing algorithm: heuristic, q_learning, dqn or ppo.",
      input: { algorithm: z.enum(ALGORITHMS).describe("heuristic (fixed rules), q_learning, dqn or ppo") },
      run: ({ algorithm }, call) => forward(daemon, call, "POST", "/api/v1/rl/algorithm", { body: { algorithm }, title: `algorithm ${algorithm}` }),
    }),
  ]
}
