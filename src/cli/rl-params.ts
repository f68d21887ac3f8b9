import { command } from "./common"
import { connect } from "../daemon/client"
import { UsageError } from "../errors"

type ParamsView = { algorithm: string; params: Record<string, number>; ranges?: Record<string, { min: number; max: number }> }

export default command({
  meta: { name: "params", description: "Show the routing parameters, or set some: `cca rl params epsilon=0.1 discount=0.9`" },
  variadic: true,
  async run(ctx, args) {
    const client = await connect()
    const pairs = args._.map(String)
    const body: Record<string, unknown> = {}
    for (const p of pairs) {
      const m = /^([a-z_]+)=(.+)$/.exec(p)
      if (!m) throw new UsageError(`${p}: expected name=value`, { hint: "cca rl params epsilon=0.1" })
      body[m[1]!] = Number.isFinite(Number(m[2])) ? Number(m[2]) : m[2]
    }
    const r = pairs.length === 0 ? await client.get<ParamsView>("/api/v1/rl/params") : await client.post<ParamsView>("/api/v1/rl/params", body)
    ctx.emit("RlParams", r, (d) =>
      Object.entries(d.params)
        .map(([k, v]) => `${k.padEnd(22)} ${String(v).padStart(8)}${d.ranges?.[k] ? `   (${d.ranges[k]!.min} .. ${d.ranges[k]!.max})` : ""}`)
        .join("\n"),
    )
  },
})
