import { command } from "./common"
import { listKeys } from "../config/keys"
import { loadConfig } from "../config/load"
import { table } from "../output"

export default command({
  meta: { name: "list", description: "List API keys (ids and names; keys themselves are never stored)" },
  async run(ctx) {
    const { config } = await loadConfig()
    const keys = await listKeys(config.daemon.api_keys)
    ctx.emit("ApiKeyList", { keys }, (d) =>
      d.keys.length === 0
        ? "no API keys (create one with `cca keys create`)"
        : table(d.keys, [
            { header: "id", get: (k) => k.id },
            { header: "name", get: (k) => k.name },
            { header: "status", get: (k) => (k.revoked_at ? `revoked ${k.revoked_at}` : "active") },
            { header: "created", get: (k) => k.created_at ?? "" },
            { header: "source", get: (k) => k.source },
          ]),
    )
  },
})
