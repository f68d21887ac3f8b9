import { group, lazy } from "./common"

export default group({ name: "plugin", description: "The cca plugin for Claude Code (MCP tools and slash commands)" }, {
  install: lazy(() => import("./plugin-install")),
})
