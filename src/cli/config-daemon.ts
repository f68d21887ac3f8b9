import { command } from "./common"
import { explainDaemonConfig } from "../config/explain"
import { table } from "../output"

// `cca daemon-config`: every daemon setting, its value and where it came from.
// Registered as `daemon-config` until the `config` group offers `config explain --daemon`.

export default command({
  meta: { name: "daemon-config", description: "Explain the daemon configuration (cca.toml, CCA__* overrides, defaults)" },
  async run(ctx) {
    const explained = await explainDaemonConfig()
    ctx.emit("DaemonConfig", explained, (d) => {
      const head = d.file ? `config file: ${d.file}` : `no config file (looked for ${d.searched.join(", ")}); defaults apply`
      const rows = table(d.values, [
        { header: "key", get: (r) => r.key },
        { header: "value", get: (r) => JSON.stringify(r.value) },
        { header: "source", get: (r) => r.from },
      ])
      return `${head}\n\n${rows}`
    })
  },
})
