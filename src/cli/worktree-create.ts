import { command } from "./common"
import { createWorktree } from "../git/worktree"
import { keyValues, writeErr } from "../output"

export default command({
  meta: { name: "create", description: "Create <repo>-worktrees/NAME on branch scc/NAME, with .worktreeinclude files" },
  args: {
    workspace: { type: "positional", description: "The repository (or a path inside it)", required: true },
    name: { type: "positional", description: "Worktree name (becomes scc/<name>)", required: true },
    base: { type: "string", description: "Branch or commit to start from (default: the current branch)" },
    "install-deps": { type: "boolean", description: "Detect the package manager and install dependencies" },
  },
  async run(ctx, args) {
    const wt = await createWorktree(args.workspace, args.name, {
      base: args.base,
      installDeps: Boolean(args["install-deps"]),
      install: { onStep: (plan, cmd) => writeErr(`installing dependencies (${plan.evidence}): ${cmd.join(" ")}`) },
    })
    ctx.emit("Worktree", wt, (d) =>
      keyValues([
        ["path", d.path],
        ["branch", d.branch],
        ["base", d.base],
        ["copied", d.copied.length ? d.copied.join(", ") : "nothing (no .worktreeinclude matches)"],
        ["installed", args["install-deps"] ? d.installed.map((p) => p.manager).join(", ") || "no package manager found" : "skipped (--install-deps)"],
      ]),
    )
  },
})
