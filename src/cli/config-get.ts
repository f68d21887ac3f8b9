import { command } from "./common"
import { getUserValue } from "../org/user-settings"

export default command({
  meta: { name: "get", description: "Print one value of the user config (dotted key, e.g. organization_source.url)" },
  args: { key: { type: "positional", required: true, description: "Dotted key" } },
  async run(ctx, args) {
    const value = await getUserValue(args.key)
    ctx.emit("ConfigValue", { key: args.key, value }, (d) => (typeof d.value === "string" ? d.value : JSON.stringify(d.value)))
  },
})
