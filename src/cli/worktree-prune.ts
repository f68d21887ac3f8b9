import { command } from "./common"
import { pruneWorktrees } from "../git/worktree"

export default command({
  meta: { name: "prune", description: "Forget worktrees whose directories were deleted" },
  args: { workspace: { type: "string", description: "A path inside the repository (default: the current directory)" } },
  async run(ctx, args) {
    const pruned = await pruneWorktrees(args.workspace ?? process.cwd())
    ctx.emit("WorktreePrune", { pruned }, (d) => (d.pruned.length ? `pruned ${d.pruned.length}:\n${d.pruned.join("\n")}` : "nothing to prune"))
  },
})
