import { UsageError } from "../errors"
import { keyValues, table } from "../output"
import type { Explained } from "./explain"
import type { AppliedException, BlockedItem, Decision, DeniedItem, TargetType } from "./types"

// What `config explain` prints: every value with its source and why, then
// what security blocked, which additions delegation denied, and the
// exceptions in force. `--field F` narrows all of it to one field. Lives in
// the domain (not cli/) so `start --dry-run` can print the same thing.

export const FIELDS = [
  "plugins",
  "mcp_servers",
  "session",
  "session.timeout_hours",
  "session.auto_resume",
  "network_policy",
  "safety_net",
  "image",
  "marketplaces",
  "blocked",
  "denied",
  "exceptions",
] as const

export type FieldView = {
  team: string | null
  field: string
  value: unknown
  decisions: Decision[]
  blocked: BlockedItem[]
  denied: DeniedItem[]
  exceptions: AppliedException[]
}

const TYPE_OF: Record<string, TargetType> = { plugins: "plugin", mcp_servers: "mcp_server", image: "image" }

/** One field of the explanation: `plugins`, `session.timeout_hours`, `mcp_servers.jira`, `blocked`... */
export function explainField(x: Explained, field: string): FieldView {
  const view: FieldView = { team: x.team, field, value: undefined, decisions: [], blocked: [], denied: [], exceptions: [] }
  if (field === "blocked" || field === "denied" || field === "exceptions") return { ...view, value: x[field] }
  const [head, ...rest] = field.split(".")
  if (!head || !(head in x.effective)) {
    throw new UsageError(`unknown field '${field}'`, { hint: `one of: ${FIELDS.join(", ")} (or mcp_servers.NAME, marketplaces.NAME)` })
  }
  let value: unknown = x.effective[head as keyof Explained["effective"]]
  if (rest.length > 0) {
    const key = rest.join(".")
    value = Array.isArray(value) ? value.find((s: { name?: string }) => s.name === key) : (value as Record<string, unknown> | null)?.[key]
    if (value === undefined && head !== "mcp_servers" && head !== "marketplaces") throw new UsageError(`unknown field '${field}'`, { hint: `one of: ${FIELDS.join(", ")}` })
  }
  const type = rest.length === 0 || head === "mcp_servers" ? TYPE_OF[head] : undefined
  const itemName = head === "mcp_servers" && rest.length > 0 ? rest.join(".") : undefined
  const ofType = <T extends { item: string; target_type: TargetType }>(xs: T[]) => xs.filter((b) => b.target_type === type && (itemName === undefined || b.item === itemName))
  return {
    ...view,
    value: value ?? null,
    decisions: x.decisions.filter((d) => d.field === field || d.field.startsWith(`${field}.`)),
    blocked: type ? ofType(x.blocked) : [],
    denied: type ? ofType(x.denied) : [],
    exceptions: type ? x.exceptions.filter((e) => e.lifted.some((l) => l.target_type === type && (itemName === undefined || l.item === itemName))) : [],
  }
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "(none)"
  if (typeof value !== "object") return String(value)
  const o = value as Record<string, unknown>
  if ("block_force_push" in o) {
    // safety_net: the action, then what it guards
    const guards = ["force_push", "reset_hard", "branch_force_delete", "clean"].filter((k) => o[`block_${k}`] === true)
    return `${o.action} (${guards.length ? guards.join(", ") : "nothing"})`
  }
  if (typeof o.source === "string" && !Array.isArray(value)) return [o.source, o.repo ?? o.url ?? o.path, o.ref].filter(Boolean).join(" ")
  return JSON.stringify(value)
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n")
}

function section<R>(title: string, rows: R[], render: (rows: R[]) => string): string {
  return rows.length === 0 ? `${title}: none` : `${title} (${rows.length})\n${indent(render(rows))}`
}

const blockedSection = (rows: BlockedItem[]) =>
  section("Blocked by security", rows, (r) =>
    table(r, [
      { header: "item", get: (x) => x.item },
      { header: "type", get: (x) => x.target_type },
      { header: "blocked by", get: (x) => x.blocked_by },
      { header: "requested by", get: (x) => x.requested_by },
    ]),
  )

const deniedSection = (rows: DeniedItem[]) =>
  section("Denied additions", rows, (r) =>
    table(r, [
      { header: "item", get: (x) => x.item },
      { header: "type", get: (x) => x.target_type },
      { header: "requested by", get: (x) => x.requested_by },
      { header: "reason", get: (x) => x.reason },
    ]),
  )

const exceptionsSection = (rows: AppliedException[]) =>
  section("Active exceptions", rows, (r) =>
    table(r, [
      { header: "id", get: (x) => x.id },
      { header: "scope", get: (x) => x.scope },
      { header: "expires", get: (x) => x.expires_at ?? "never" },
      { header: "lifted", get: (x) => x.lifted.map((l) => `${l.item} (${l.kind})`).join(", ") },
      { header: "reason", get: (x) => x.reason },
    ]),
  )

function decisionsTable(decisions: Decision[]): string {
  return table(decisions, [
    { header: "field", get: (d) => d.field },
    { header: "value", get: (d) => show(d.value) },
    { header: "source", get: (d) => d.source },
    { header: "why", get: (d) => d.reason },
  ])
}

export function renderExplain(x: Explained): string {
  const origin = x.org.origin === "network" ? "fetched now" : x.org.origin === "file" ? "local file" : `cached ${x.org.fetched_at ?? ""}`.trim()
  const head = keyValues([
    ["Team", x.team ?? "(none selected)"],
    ["Org", `${x.org.name} (${x.org.source}, ${origin}${x.org.stale ? ", STALE" : ""})`],
    ["Workspace", `${x.workspace.root}${x.workspace.project_config ? " (.scc.yaml)" : " (no .scc.yaml)"}`],
  ])
  const parts = [head, `Effective configuration\n${indent(decisionsTable(x.decisions))}`, blockedSection(x.blocked), deniedSection(x.denied), exceptionsSection(x.exceptions)]
  const fixes = unblockHints(x.denied)
  if (fixes) parts.push(fixes)
  if (x.expired_local_exceptions > 0)
    parts.push(`${x.expired_local_exceptions} local exception(s) have expired and do nothing; remove them with: scc exceptions cleanup`)
  return parts.join("\n\n")
}

/** Shell quoting for a suggested command line: plain words as they are, anything else in single quotes. */
const quote = (s: string) => (/^[\w@./:+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)

/** The `scc unblock` line for each denied item (a security block needs a policy exception instead). */
export function unblockHints(denied: readonly DeniedItem[]): string | undefined {
  if (denied.length === 0) return undefined
  const seen = new Set<string>()
  const lines: string[] = []
  for (const d of denied) {
    if (seen.has(d.item)) continue
    seen.add(d.item)
    lines.push(`scc unblock ${quote(d.item)} --ttl 8h --reason "..."`)
  }
  return `To allow a denied item for a while:\n${indent(lines.join("\n"))}`
}

export function renderField(v: FieldView): string {
  if (v.field === "blocked") return blockedSection(v.value as BlockedItem[])
  if (v.field === "denied") return deniedSection(v.value as DeniedItem[])
  if (v.field === "exceptions") return exceptionsSection(v.value as AppliedException[])
  const parts = [Array.isArray(v.value) ? `${v.field}: ${v.value.length} effective` : `${v.field}: ${show(v.value)}`]
  if (v.decisions.length > 0) parts.push(decisionsTable(v.decisions))
  if (TYPE_OF[v.field.split(".")[0]!] !== undefined) parts.push(blockedSection(v.blocked), deniedSection(v.denied), exceptionsSection(v.exceptions))
  return parts.join("\n\n")
}
