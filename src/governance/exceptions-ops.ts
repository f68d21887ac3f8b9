import { NotFoundError, UsageError } from "../errors"
import * as flag from "../flag"
import { paths, repoPaths } from "../paths"
import { isExpired, newExceptionId, resolveExpiry, type ExceptionScope, type ExceptionTargets, type ExpiryArgs, type LocalException } from "./exceptions"
import { backupPath, readStore, updateStore, type StoreFile } from "./exceptions-store"
import { localStores } from "./explain"
import { findWorkspace } from "./workspace"

// What the `exceptions` commands (and `unblock`) do, as domain functions.
// Every function takes the clock; nothing here reads the time itself.

export type ExceptionRow = {
  id: string
  scope: ExceptionScope
  reason: string
  allow: ExceptionTargets
  created_at: string | null
  created_by: string | null
  expires_at: string | null
  expired: boolean
  /** The file it lives in; the org config source for policy exceptions. */
  where: string
}

export type ListFilter = "active" | "all" | "expired"

/** The repo store for `cwd`, or null outside a repository. */
export async function repoStore(cwd = process.cwd()): Promise<StoreFile | null> {
  const ws = await findWorkspace(cwd)
  return ws.repo ? { path: repoPaths.repoExceptions(ws.root), scope: "repo" } : null
}

async function storesFor(cwd: string): Promise<StoreFile[]> {
  const ws = await findWorkspace(cwd)
  return localStores(ws.repo ? ws.root : null)
}

/** Local exceptions from both stores and policy exceptions from the org config (when it can be loaded). */
export async function listExceptions(opts: { filter: ListFilter; now: Date; cwd?: string; offline?: boolean }): Promise<{ rows: ExceptionRow[]; warnings: string[] }> {
  const rows: ExceptionRow[] = []
  const warnings: string[] = []
  for (const file of await storesFor(opts.cwd ?? process.cwd())) {
    const read = await readStore(file.path, opts.now)
    warnings.push(...read.warnings)
    for (const e of read.exceptions) rows.push(localRow(e, file, opts.now))
  }
  try {
    const { loadOrgConfig } = await import("../org/load")
    const org = await loadOrgConfig({ offline: opts.offline, now: () => opts.now.getTime() })
    warnings.push(...org.warnings)
    for (const e of org.config.exceptions ?? []) {
      const reason = e.teams ? `${e.reason} (teams: ${e.teams.join(", ")})` : e.reason
      rows.push({ id: e.id, scope: "policy", reason, allow: e.allow, created_at: null, created_by: null, expires_at: e.expires_at ?? null, expired: isExpired(e, opts.now), where: org.source })
    }
  } catch (e) {
    warnings.push(`policy exceptions not shown: ${(e as Error).message}`)
  }
  const keep = (r: ExceptionRow) => (opts.filter === "all" ? true : opts.filter === "expired" ? r.expired : !r.expired)
  return { rows: rows.filter(keep), warnings }
}

function localRow(e: LocalException, file: StoreFile, now: Date): ExceptionRow {
  return {
    id: e.id,
    scope: file.scope,
    reason: e.reason,
    allow: e.allow,
    created_at: e.created_at ?? null,
    created_by: e.created_by ?? null,
    expires_at: e.expires_at,
    expired: isExpired(e, now),
    where: file.path,
  }
}

export type CreateRequest = ExpiryArgs & {
  reason: string | undefined
  allow: ExceptionTargets
  /** Write the repo's shared file instead of the user's. */
  shared?: boolean
  cwd?: string
  now: Date
}

function targetsOf(given: ExceptionTargets): ExceptionTargets {
  const allow: ExceptionTargets = {}
  for (const key of ["plugins", "mcp_servers", "base_images"] as const) {
    const items = (given[key] ?? []).map((s) => s.trim()).filter(Boolean)
    if (items.length > 0) allow[key] = items
  }
  if (Object.keys(allow).length === 0) throw new UsageError("name what the exception allows", { hint: "--allow-plugin NAME@MARKETPLACE, --allow-mcp NAME or --allow-image IMAGE" })
  return allow
}

export async function createException(req: CreateRequest): Promise<{ exception: LocalException; scope: "user" | "repo"; path: string; warnings: string[] }> {
  const reason = req.reason?.trim()
  if (!reason) throw new UsageError("an exception needs a reason", { hint: '--reason "why you need it, e.g. a ticket id"' })
  const allow = targetsOf(req.allow)
  const expires = resolveExpiry(req, req.now)
  let file: StoreFile = { path: paths.userExceptions(), scope: "user" }
  if (req.shared) {
    const repo = await repoStore(req.cwd)
    if (!repo) throw new UsageError("--shared writes <repo>/.scc/exceptions.json, but this is not inside a git repository", { hint: "run it inside the repository, or drop --shared" })
    file = repo
  }
  const exception: LocalException = { id: newExceptionId(), reason, created_at: req.now.toISOString(), expires_at: expires.toISOString(), allow }
  const user = flag.sccUser()
  if (user) exception.created_by = user
  const { warnings } = await updateStore(file, req.now, (list) => [...list, exception])
  return { exception, scope: file.scope, path: file.path, warnings }
}

/** Delete the one local exception whose id starts with `prefix` (from either store). */
export async function deleteException(prefix: string, opts: { now: Date; cwd?: string }): Promise<{ exception: LocalException; path: string; scope: "user" | "repo" }> {
  const p = prefix.trim().toLowerCase()
  if (!p) throw new UsageError("give the id (or a unique prefix of it) of the exception to delete", { hint: "scc exceptions list --all" })
  const matches: { e: LocalException; file: StoreFile }[] = []
  for (const file of await storesFor(opts.cwd ?? process.cwd())) {
    for (const e of (await readStore(file.path, opts.now)).exceptions) if (e.id.toLowerCase().startsWith(p)) matches.push({ e, file })
  }
  if (matches.length === 0)
    throw new NotFoundError(`no local exception has an id starting with '${prefix}'`, { hint: "scc exceptions list --all (policy exceptions live in the org config and are removed there)" })
  if (matches.length > 1) throw new UsageError(`'${prefix}' matches ${matches.length} exceptions: ${matches.map((m) => m.e.id).join(", ")}`, { hint: "give more of the id" })
  const { e, file } = matches[0]!
  await updateStore(file, opts.now, (list) => list.filter((x) => x.id !== e.id))
  return { exception: e, path: file.path, scope: file.scope }
}

/** Drop expired entries from both stores; files without any are left untouched. */
export async function cleanupExceptions(opts: { now: Date; cwd?: string }): Promise<{ removed: { id: string; scope: "user" | "repo"; expires_at: string }[]; warnings: string[] }> {
  const removed: { id: string; scope: "user" | "repo"; expires_at: string }[] = []
  const warnings: string[] = []
  for (const file of await storesFor(opts.cwd ?? process.cwd())) {
    const read = await readStore(file.path, opts.now)
    warnings.push(...read.warnings)
    const expired = read.exceptions.filter((e) => isExpired(e, opts.now))
    if (expired.length === 0 || read.newer) continue
    await updateStore(file, opts.now, (list) => list)
    for (const e of expired) removed.push({ id: e.id, scope: file.scope, expires_at: e.expires_at })
  }
  return { removed, warnings }
}

/** Empty one store (`scc exceptions reset --user|--repo --yes`), after copying it to `<file>.bak-YYYYMMDD`. */
export async function resetExceptions(opts: { scope: "user" | "repo"; now: Date; cwd?: string }): Promise<{ path: string; removed: number; backup: string | null }> {
  let file: StoreFile = { path: paths.userExceptions(), scope: "user" }
  if (opts.scope === "repo") {
    const repo = await repoStore(opts.cwd)
    if (!repo) throw new UsageError("--repo resets <repo>/.scc/exceptions.json, but this is not inside a git repository", { hint: "run it inside the repository" })
    file = repo
  }
  const read = await readStore(file.path, opts.now)
  const { existsSync, copyFileSync } = await import("node:fs")
  if (!existsSync(file.path)) return { path: file.path, removed: 0, backup: null }
  const backup = backupPath(file.path, opts.now)
  copyFileSync(file.path, backup)
  await updateStore(file, opts.now, () => [])
  return { path: file.path, removed: read.exceptions.length, backup }
}

/** The org config entry a policy exception needs (`--policy --id ID`): for the config repository, not a local file. */
export function policySnippet(req: CreateRequest & { id: string | undefined }): { id: string; reason: string; allow: ExceptionTargets; expires_at: string } {
  const id = req.id?.trim()
  if (!id) throw new UsageError("--policy needs --id: the id the exception gets in the org config", { hint: "--policy --id TICKET-123" })
  const reason = req.reason?.trim()
  if (!reason) throw new UsageError("an exception needs a reason", { hint: '--reason "why you need it, e.g. a ticket id"' })
  const allow = targetsOf(req.allow)
  return { id, reason, allow, expires_at: resolveExpiry(req, req.now).toISOString() }
}
