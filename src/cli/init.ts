import { command } from "./common"
import { findRepoRoot } from "../git/root"
import { writeProjectTemplate } from "../org/init"

export default command({
  meta: { name: "init", description: "Write a commented .scc.yaml template at the workspace root" },
  args: {
    force: { type: "boolean", description: "Overwrite an existing .scc.yaml" },
    workspace: { type: "string", description: "Workspace (default: the repository around the current directory)" },
  },
  run(ctx, args) {
    const cwd = args.workspace ?? process.cwd()
    const root = findRepoRoot(cwd)?.root ?? cwd
    const r = writeProjectTemplate(root, Boolean(args.force))
    ctx.emit("Init", r, (d) => `${d.overwritten ? "Overwrote" : "Wrote"} ${d.path}\nNext: edit it, then scc config explain`)
  },
})
