import { command } from "./common"
import { UsageError } from "../errors"
import { writeOut } from "../output"
import { completionScript, commandTree, type Shell } from "./completion-script"

// `scc completion bash|zsh|fish` (and `cca completion ...`): a completion
// script generated from the command tree itself, so it never drifts.

export default command({
  meta: { name: "completion", description: "Print a shell completion script: scc completion bash|zsh|fish" },
  args: { shell: { type: "positional", required: true, description: "bash, zsh or fish" } },
  async run(_ctx, args) {
    const shell = String(args.shell)
    if (shell !== "bash" && shell !== "zsh" && shell !== "fish") throw new UsageError(`no completion for shell '${shell}'`, { hint: "scc completion bash, zsh or fish" })
    const { root } = await import("./root")
    const prog = String((await (typeof root.meta === "function" ? root.meta() : root.meta))?.name ?? "scc")
    writeOut(completionScript(shell as Shell, prog, await commandTree(root)))
  },
})
