import { command } from "./common"
import { createKey } from "../config/keys"
import { keyValues } from "../output"

export default command({
  meta: { name: "create", description: "Create an API key; it is printed once and only its hash is stored" },
  args: { name: { type: "string", description: "What the key is for (shown in `cca keys list`)", default: "" } },
  async run(ctx, args) {
    const created = await createKey(String(args.name ?? ""))
    ctx.emit("ApiKey", created, (d) =>
      [
        d.key,
        "",
        keyValues([
          ["id", d.id],
          ["stored in", d.file],
          ["hash for cca.toml", d.hash],
        ]),
        "",
        "This is the only time the key is shown. Clients send it as `Authorization: Bearer KEY` or `X-API-Key: KEY`,",
        "or read it from CCA_API_KEY.",
      ].join("\n"),
    )
  },
})
