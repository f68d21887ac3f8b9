import { command } from "./common"
import { switchWorktree } from "../git/worktree-switch"

// Prints only the path, for a shell function: wt() { cd "$(scc worktree switch "$@")"; }

export default command({
  meta: { name: "switch", description: "Print a worktree's path (fuzzy name or branch; - previous, ^ main)" },
  args: {
    target: { type: "positional", description: "Worktree name, branch, path, - (previous) or ^ (main checkout)", required: true },
    workspace: { type: "string", description: "A path inside the repository (default: the current directory)" },
  },
  async run(ctx, args) {
    const result = await switchWorktree(args.workspace ?? process.cwd(), args.target)
    ctx.emit("WorktreeSwitch", result, (d) => d.path)
  },
})
