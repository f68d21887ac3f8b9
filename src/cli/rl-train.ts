import { command } from "./common"
import { connect } from "../daemon/client"
import { evaluationLines } from "../rl/format"
import type { Evaluation } from "../rl/ope"

type Trained = { trained: { algorithm: string; version: number; samples: number; loss: number | null; ms: number }[]; evaluation: Evaluation | null }

export default command({
  meta: { name: "train", description: "Retrain the routing policies on the recorded decisions and save them" },
  args: { algorithm: { type: "positional", description: "Only this algorithm (default: the active one; all when it is the heuristic)", required: false } },
  async run(ctx, args) {
    const client = await connect()
    const r = await client.post<Trained>("/api/v1/rl/train", args.algorithm ? { algorithm: String(args.algorithm) } : {})
    ctx.emit("RlTraining", r, (d) =>
      [...d.trained.map((t) => `${t.algorithm}: model v${t.version} from ${t.samples} decisions in ${t.ms} ms${t.loss === null ? "" : `, loss ${t.loss.toFixed(4)}`}`), ...evaluationLines(d.evaluation)].join("\n"),
    )
  },
})
