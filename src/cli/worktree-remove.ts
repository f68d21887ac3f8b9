import { command } from "./common"
import { removeWorktree } from "../git/worktree"

export default command({
  meta: { name: "remove", description: "Remove a worktree (refuses uncommitted changes unless --force)" },
  args: {
    name: { type: "positional", description: "Worktree name, branch or path", required: true },
    force: { type: "boolean", description: "Discard uncommitted changes and delete an unmerged scc/ branch" },
    workspace: { type: "string", description: "A path inside the repository (default: the current directory)" },
  },
  async run(ctx, args) {
    const result = await removeWorktree(args.workspace ?? process.cwd(), args.name, { force: Boolean(args.force) })
    ctx.emit("WorktreeRemoved", result, (d) => {
      const branch = d.branchDeleted ? `deleted branch ${d.branch}` : d.branch ? `kept branch ${d.branch}: ${d.branchKept}` : "no branch (detached)"
      return `removed ${d.path}\n${branch}`
    })
  },
})
