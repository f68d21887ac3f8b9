import { existsSync, lstatSync, mkdirSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { writeJsonAtomic } from "../files"
import { paths } from "../paths"

// Each agent gets its own Claude Code config home (CLAUDE_CONFIG_DIR), so
// agents share no sessions, settings or history. The interactive UI asks on
// first start whether to use the API key from the environment and whether to
// trust the folder; both answers are written here beforehand so no dialog
// ever appears (the answers live in `<config>/.claude.json`).

type ClaudeJson = {
  hasCompletedOnboarding?: boolean
  bypassPermissionsModeAccepted?: boolean
  customApiKeyResponses?: { approved?: string[]; rejected?: string[] }
  projects?: Record<string, Record<string, unknown>>
  [key: string]: unknown
}

export type ConfigHomeOptions = {
  dir: string
  /** The agent's working directory, trusted ahead of time. */
  cwd: string
  apiKey?: string
  /** mode = "dangerous": the UI also asks to confirm skipping permissions. */
  dangerous?: boolean
  /** Where the user's own Claude Code home is (for an OAuth login to share). */
  userClaudeHome?: string
}

export async function prepareConfigHome(o: ConfigHomeOptions): Promise<void> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 })
  const file = join(o.dir, ".claude.json")
  const existing = Bun.file(file)
  // Keep what Claude Code wrote on an earlier run (a restarted or resumed agent).
  const json: ClaudeJson = (await existing.exists()) ? ((await existing.json().catch(() => ({}))) as ClaudeJson) : {}
  json.hasCompletedOnboarding = true
  if (o.dangerous) json.bypassPermissionsModeAccepted = true
  if (o.apiKey) {
    const approved = new Set(json.customApiKeyResponses?.approved ?? [])
    approved.add(o.apiKey.slice(-20))
    json.customApiKeyResponses = { approved: [...approved], rejected: json.customApiKeyResponses?.rejected ?? [] }
  }
  json.projects ??= {}
  json.projects[o.cwd] = { ...json.projects[o.cwd], hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true }
  writeJsonAtomic(file, json)
  linkCredentials(o.dir, o.userClaudeHome ?? paths.claudeHome())
}

/**
 * Problem: a user logged in with `claude login` keeps the OAuth credentials in
 * ~/.claude/.credentials.json, which a separate config home cannot see.
 * Fix: link (not copy) the file, so a token refresh by any agent is seen by all
 * and no second copy of the secret is written.
 */
function linkCredentials(dir: string, userHome: string): void {
  const source = join(userHome, ".credentials.json")
  const target = join(dir, ".credentials.json")
  if (!existsSync(source) || lstatSync(target, { throwIfNoEntry: false })) return
  symlinkSync(source, target)
}
