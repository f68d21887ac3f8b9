import { BlockedError, NotFoundError, UsageError } from "../errors"
import { resolveExpiry, TARGET_KEYS, type ExceptionTargets, type ExpiryArgs, type LocalException } from "./exceptions"
import { createException } from "./exceptions-ops"
import { explain, type ExplainOptions } from "./explain"
import { casefold } from "./match"
import { imagePolicyForms } from "./refs"
import type { BlockedItem, DeniedItem, TargetType } from "./types"

// `scc unblock ITEM`: find ITEM among the current explanation's denials and
// write a local exception for it. A local exception cannot lift a security
// block, so a blocked item is refused (exit 6) with the policy-exception
// route spelled out instead of an exception that would change nothing.

const BLOCK_LIST: Record<TargetType, string> = { plugin: "security.blocked_plugins", mcp_server: "security.blocked_mcp_servers", image: "security.blocked_base_images" }

/** Does what the user typed name this item? Plugins by ref or bare name, images in policy form. */
function names(input: string, item: string, type: TargetType): boolean {
  const a = casefold(input)
  const b = casefold(item)
  if (a === b) return true
  if (type === "plugin") return !a.includes("@") && b.slice(0, b.lastIndexOf("@")) === a
  if (type === "image") return imagePolicyForms(input)[0] === imagePolicyForms(item)[0]
  return false
}

export type UnblockRequest = ExpiryArgs & { item: string; reason: string | undefined; shared?: boolean; now: Date } & Pick<ExplainOptions, "workspace" | "team" | "offline">

export type UnblockResult = { exception: LocalException; scope: "user" | "repo"; path: string; unblocked: DeniedItem[]; warnings: string[] }

export async function unblock(req: UnblockRequest): Promise<UnblockResult> {
  // Bad input fails before anything is loaded or fetched.
  if (!req.reason?.trim()) throw new UsageError("an exception needs a reason", { hint: '--reason "why you need it, e.g. a ticket id"' })
  resolveExpiry(req, req.now)
  const x = await explain({ workspace: req.workspace, team: req.team, offline: req.offline, now: req.now })
  const blocked = x.blocked.filter((b) => names(req.item, b.item, b.target_type))
  const denied = x.denied.filter((d) => names(req.item, d.item, d.target_type))
  if (blocked.length > 0) throw blockedError(req.item, blocked[0]!)
  if (denied.length === 0) {
    const effective = x.effective.plugins.some((p) => names(req.item, p, "plugin")) || x.effective.mcp_servers.some((s) => casefold(s.name) === casefold(req.item))
    const team = x.team ? `team '${x.team}'` : "no team"
    throw new NotFoundError(
      effective ? `'${req.item}' is already allowed for ${team}; nothing to unblock` : `'${req.item}' is neither blocked nor denied for ${team} in ${x.workspace.root}`,
      { hint: "scc config explain lists what is blocked and denied, and why" },
    )
  }
  // A plugin ref that names no usable marketplace is refused before any check an exception could lift.
  const unresolvable = denied.find((d) => d.target_type === "plugin" && !d.item.includes("@"))
  if (unresolvable) throw new UsageError(unresolvable.reason, { hint: "fix the reference where it is configured (the team profile or .scc.yaml); an exception cannot help" })
  const allow: ExceptionTargets = {}
  for (const d of denied) {
    const list = (allow[TARGET_KEYS[d.target_type]] ??= [])
    if (!list.includes(d.item)) list.push(d.item)
  }
  const created = await createException({ ...req, allow, cwd: x.workspace.root })
  return { ...created, unblocked: denied, warnings: [...x.warnings, ...created.warnings] }
}

function blockedError(input: string, b: BlockedItem): InstanceType<typeof BlockedError> {
  // blocked_by is a pattern from a block list, or a sentence from the stdio/URL checks.
  const sentence = /^(stdio |url ')/.test(b.blocked_by)
  const by = sentence ? b.blocked_by : `'${b.blocked_by}' in ${BLOCK_LIST[b.target_type]}`
  const example = JSON.stringify({ id: "TICKET-123", reason: "why", allow: { [TARGET_KEYS[b.target_type]]: [b.item] }, expires_at: "2030-01-01T17:00:00Z" })
  return new BlockedError(`'${input}' is blocked by security (${by}); a local exception cannot lift a security block`, {
    hint: `ask your org's admins for a policy exception: an entry in the org config's "exceptions" list, e.g. ${example}`,
    details: { blocked: b },
  })
}
