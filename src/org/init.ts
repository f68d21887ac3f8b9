import { existsSync } from "node:fs"
import { UsageError } from "../errors"
import { writeFileAtomic } from "../files"
import { repoPaths } from "../paths"

// `scc init`: a commented .scc.yaml that only uses keys ProjectConfig knows
// (a test parses it back and checks every key, commented ones included).

export const PROJECT_TEMPLATE = `# .scc.yaml: what this project adds to your organisation's and team's config.
# Additions take effect only where the org config delegates them to projects
# (delegation.projects.inherit_team_delegation, and your team's
# allow_project_overrides). Items the org blocks are never enabled.
# See what applies, and why: scc config explain

# Plugins this project needs, as name@marketplace.
additional_plugins: []
# additional_plugins:
#   - docs-writer@acme

# MCP servers this project needs. type is sse, http or stdio; sse and http
# need a url, stdio needs an absolute command (and the org must allow stdio).
additional_mcp_servers: []
# additional_mcp_servers:
#   - name: project-docs
#     type: http
#     url: https://docs.example.com/mcp
#     headers:
#       X-Project: my-project
#   - name: local-tools
#     type: stdio
#     command: /usr/local/bin/tools-mcp
#     args: ["--read-only"]
#     env:
#       TOOLS_MODE: safe

# Hours before an idle sandbox session ends; used only when your team
# allows project overrides.
# session:
#   timeout_hours: 4

# The container image for this project (checked against the org's
# security.blocked_base_images).
# sandbox:
#   image: ghcr.io/acme/dev:2030.1
`

export function writeProjectTemplate(workspaceRoot: string, force = false): { path: string; overwritten: boolean } {
  const path = repoPaths.projectConfig(workspaceRoot)
  const exists = existsSync(path)
  if (exists && !force) throw new UsageError(`${path} already exists`, { hint: "scc init --force overwrites it" })
  writeFileAtomic(path, PROJECT_TEMPLATE, 0o644)
  return { path, overwritten: exists }
}
