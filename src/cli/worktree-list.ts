import { command } from "./common"
import { listWorktrees } from "../git/worktree-list"
import { table } from "../output"

export default command({
  meta: { name: "list", description: "List the repository's worktrees with staged/modified/untracked counts" },
  args: { workspace: { type: "string", description: "A path inside the repository (default: the current directory)" } },
  async run(ctx, args) {
    const worktrees = await listWorktrees(args.workspace ?? process.cwd())
    ctx.emit("WorktreeList", worktrees, (rows) =>
      table(rows, [
        { header: "name", get: (w) => (w.main ? `${w.name} (main)` : w.name) },
        { header: "branch", get: (w) => w.branch ?? "(detached)" },
        { header: "head", get: (w) => w.head?.slice(0, 8) },
        { header: "staged", get: (w) => w.changes?.staged ?? "-", align: "right" },
        { header: "modified", get: (w) => w.changes?.modified ?? "-", align: "right" },
        { header: "untracked", get: (w) => w.changes?.untracked ?? "-", align: "right" },
        { header: "path", get: (w) => (w.prunable ? `${w.path} (missing: scc worktree prune)` : w.path) },
      ]),
    )
  },
})
