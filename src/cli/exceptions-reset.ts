import { command } from "./common"
import { UsageError } from "../errors"
import { resetExceptions } from "../governance/exceptions-ops"

export default command({
  meta: { name: "reset", description: "Empty your (--user) or the repository's (--repo) exceptions file, after a backup; needs --yes" },
  args: {
    user: { type: "boolean", description: "Reset ~/.config/scc/exceptions.json" },
    repo: { type: "boolean", description: "Reset <repo>/.scc/exceptions.json" },
    yes: { type: "boolean", description: "Really empty it (a backup is kept next to it)" },
  },
  async run(ctx, args) {
    if (Boolean(args.user) === Boolean(args.repo)) throw new UsageError("say which store to reset: --user or --repo", { hint: "scc exceptions reset --user --yes" })
    const scope = args.user ? "user" : "repo"
    if (!args.yes) throw new UsageError(`this removes every exception in the ${scope} store; add --yes to go ahead`, { hint: `scc exceptions reset --${scope} --yes` })
    const r = await resetExceptions({ scope, now: new Date() })
    ctx.emit("ExceptionReset", r, (d) =>
      d.backup === null ? `${d.path} does not exist; nothing to reset.` : `Removed ${d.removed} exception(s) from ${d.path}; the old file is at ${d.backup}`,
    )
  },
})
