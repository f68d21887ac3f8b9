import { command } from "./common"
import { revokeKey } from "../config/keys"
import { loadConfig } from "../config/load"

export default command({
  meta: { name: "revoke", description: "Revoke an API key by id (a running daemon stops accepting it within a second)" },
  args: { id: { type: "positional", description: "Key id, from `cca keys list`", required: true } },
  async run(ctx, args) {
    const { config } = await loadConfig()
    const key = await revokeKey(String(args.id), config.daemon.api_keys)
    ctx.emit("ApiKeyRevoked", { id: key.id, name: key.name, revoked_at: key.revoked_at }, (d) => `revoked key ${d.id}${d.name ? ` (${d.name})` : ""}`)
  },
})
