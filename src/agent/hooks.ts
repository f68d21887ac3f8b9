import type { HookTarget } from "./types"

// Claude Code hooks injected with `--settings` into the interactive (pty)
// agent: that is how the driver learns when a turn starts and ends and when
// Claude Code waits for a person, without reading the screen.
//
// Facts of Claude Code 2.1.328 (seen in tests):
// - `type: "http"` hooks POST the hook input as JSON (user-agent axios). Header
//   values may name environment variables listed in `allowedEnvVars`; so the
//   token sits in the agent's environment, not on its command line or on disk.
// - Stop, Notification and UserPromptSubmit run http hooks; SessionStart does
//   not (only `command` hooks), so readiness comes from a command hook that
//   writes its input to a file in the agent's state directory.
// - Stop's input carries `last_assistant_message`, the turn's final text.
// - StopFailure fires instead of Stop when an API error ended the turn.

export const HOOK_TOKEN_ENV = "CCA_HOOK_TOKEN"
export const AGENT_HEADER = "x-cca-agent"
export const HOOK_EVENTS = ["UserPromptSubmit", "Stop", "StopFailure", "Notification"] as const

export type HookPayload = {
  hook_event_name: string
  session_id?: string
  transcript_path?: string
  cwd?: string
  prompt?: string
  last_assistant_message?: string
  message?: string
  notification_type?: string
  [key: string]: unknown
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`

/** The `--settings` JSON of an agent whose hooks post to `target` and whose SessionStart writes `readyFile`. */
export function hookSettings(target: HookTarget, agentId: string, readyFile: string): Record<string, unknown> {
  const headers: Record<string, string> = { [AGENT_HEADER]: agentId }
  if (target.token) headers.authorization = `Bearer $${HOOK_TOKEN_ENV}`
  const http = { type: "http", url: target.url, headers, allowedEnvVars: [HOOK_TOKEN_ENV], timeout: 10 }
  const hooks: Record<string, unknown> = Object.fromEntries(HOOK_EVENTS.map((e) => [e, [{ hooks: [http] }]]))
  hooks.SessionStart = [{ hooks: [{ type: "command", command: `cat > ${shellQuote(readyFile)}`, timeout: 10 }] }]
  return { hooks }
}

/** A hook POST body, checked. Returns undefined for anything that is not a hook input. */
export function parseHookPayload(body: unknown): HookPayload | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined
  const name = (body as Record<string, unknown>).hook_event_name
  return typeof name === "string" && name !== "" ? (body as HookPayload) : undefined
}
