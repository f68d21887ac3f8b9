import { explainDaemonConfig } from "../config/explain"
import { table } from "../output"
import type { Ctx } from "./common"

// `cca config explain --daemon`: every daemon setting (cca.toml, CCA__*
// overrides, defaults), its value and where it came from. Loaded only with
// --daemon, so the governance explain path stays light.

export async function explainDaemon(ctx: Ctx): Promise<void> {
  const explained = await explainDaemonConfig()
  ctx.emit("DaemonConfig", explained, (d) => {
    const head = d.file ? `config file: ${d.file}` : `no config file (looked for ${d.searched.join(", ")}); defaults apply`
    const rows = table(d.values, [
      { header: "key", get: (r) => r.key },
      { header: "value", get: (r) => JSON.stringify(r.value) },
      { header: "source", get: (r) => r.from },
    ])
    const tools = d.agents.roles.map((r) => `  ${r.role} (${r.mode})\n    allowed: ${r.allowed.join(" ") || "(none)"}\n    denied:  ${r.denied.join(" ") || "(none)"}`)
    return `${head}\n\n${rows}\n\nagents work in ${d.agents.workdir}; their tools (file edits only inside it):\n${tools.join("\n")}`
  })
}
