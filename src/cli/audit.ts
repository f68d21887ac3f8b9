import { group } from "./common"

export default group(
  { name: "audit", description: "Audit what Claude Code has installed" },
  { plugins: () => import("./audit-plugins").then((m) => m.default) },
)
