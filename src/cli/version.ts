import { command } from "./common"
import { VERSION } from "../version"

export default command({
  meta: { name: "version", description: "Print the version" },
  run(ctx) {
    ctx.emit("Version", { version: VERSION, bun: Bun.version }, (d) => d.version)
  },
})
