import { command, group } from "./common"
import { installPrePushHook, uninstallPrePushHook } from "../git/hooks"

const workspace = { type: "string", description: "A path inside the repository (default: the current directory)" } as const

const install = command({
  meta: { name: "install", description: "Install a pre-push hook that refuses pushes to protected branches" },
  args: { workspace },
  async run(ctx, args) {
    const r = await installPrePushHook(args.workspace ?? process.cwd())
    ctx.emit("HookInstall", r, (d) => `${d.action} ${d.path}\nprotected: ${d.protected.join(", ")}`)
  },
})

const uninstall = command({
  meta: { name: "uninstall", description: "Remove scc's pre-push hook (never a hook scc did not write)" },
  args: { workspace },
  async run(ctx, args) {
    const r = await uninstallPrePushHook(args.workspace ?? process.cwd())
    ctx.emit("HookUninstall", r, (d) => (d.removed ? `removed ${d.path}` : `no hook at ${d.path}`))
  },
})

export default group(
  { name: "hooks", description: "Manage scc's git pre-push hook" },
  { install: async () => install, uninstall: async () => uninstall },
)
