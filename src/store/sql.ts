// The one SQL interface every repository is written against. Two engines sit
// behind it: PGlite (Postgres in WASM, in-process) and PostgreSQL over the
// wire (postgres.js). Repositories write plain Postgres SQL with $1 params and
// see the same row shapes from both, so the same code and the same tests run
// on either.

export type Engine = "pglite" | "postgres"

/** Anything that runs a statement: the store itself, or an open transaction. */
export interface Queryable {
  /** Rows of one statement. Params bind to $1..$n; pass objects for jsonb params (not JSON strings). */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>
  /** A script of several statements, no params (migrations). */
  exec(script: string): Promise<void>
}

export interface Sql extends Queryable {
  readonly engine: Engine
  /**
   * Run `fn` in one transaction: committed when it resolves, rolled back when
   * it throws. Use the `tx` it receives, never the outer Sql, inside it (on
   * PGlite the outer one waits for the transaction to end: a deadlock).
   */
  transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R>
  /**
   * LISTEN on a channel on a connection of its own (PostgreSQL only), listening
   * again by itself after a reconnect (`onListen` each time). Resolves with unlisten.
   */
  listen?(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

/**
 * A failed statement from either engine, with the Postgres SQLSTATE in `code`
 * (e.g. "23505" unique violation). Callers branch on `code`, never on message text.
 */
export class DbError extends Error {
  override readonly name = "DbError"
  constructor(
    message: string,
    readonly code: string,
    readonly detail: { constraint?: string; table?: string; column?: string; hint?: string; detail?: string } = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause })
  }
}

/** SQLSTATE codes the code base branches on. */
export const PgCode = {
  uniqueViolation: "23505",
  foreignKeyViolation: "23503",
  checkViolation: "23514",
  notNullViolation: "23502",
  invalidTextRepresentation: "22P02",
  undefinedTable: "42P01",
  undefinedFile: "58P01",
  featureNotSupported: "0A000",
  insufficientPrivilege: "42501",
} as const

type EngineError = {
  message: string
  code?: unknown
  constraint?: string
  constraint_name?: string
  table?: string
  table_name?: string
  column?: string
  column_name?: string
  hint?: string
  detail?: string
}

/** Wrap an engine's error in a DbError when it carries a SQLSTATE; anything else passes through. */
export function toDbError(e: unknown): unknown {
  if (e instanceof DbError || !(e instanceof Error)) return e
  const err = e as Error & EngineError
  if (typeof err.code !== "string" || !/^[0-9A-Z]{5}$/.test(err.code)) return e
  return new DbError(
    err.message,
    err.code,
    {
      constraint: err.constraint ?? err.constraint_name,
      table: err.table ?? err.table_name,
      column: err.column ?? err.column_name,
      hint: err.hint,
      detail: err.detail,
    },
    e,
  )
}

/** The SQLSTATE of an error, if it is a database error. */
export function pgCode(e: unknown): string | undefined {
  return e instanceof DbError ? e.code : undefined
}

/**
 * A failure of the connection rather than of the statement: the server is
 * restarting, unreachable, or closed the connection (postgres.js codes such
 * as CONNECTION_CLOSED, socket errors, SQLSTATE classes 08 and 57P). Worth
 * retrying once the database answers again.
 */
export function isTransient(e: unknown): boolean {
  if (e instanceof DbError) return e.code.startsWith("08") || e.code.startsWith("57P")
  if (!(e instanceof Error)) return false
  const code = (e as Error & { code?: unknown }).code
  if (typeof code === "string" && /^(CONNECT(ION)?_|E(CONN|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|ADDRNOTAVAIL))/.test(code)) return true
  return /connection (closed|ended|terminated|refused)|ECONNREFUSED|ECONNRESET|socket/i.test(e.message)
}

/**
 * Problem: PostgreSQL text and jsonb cannot hold U+0000 (22021 / 22P05), so a
 * NUL anywhere in what an agent or a client sends failed the statement that
 * stored it, and with it the task.
 * Fix: one rule at the storage boundary, applied by both engines to every
 * parameter: U+0000 becomes U+FFFD (the replacement character), in strings and
 * in the strings (keys included) of objects bound to jsonb. Nothing else is
 * touched; typed arrays, buffers and dates pass as they are.
 */
export const NUL_REPLACEMENT = "\uFFFD"

export function storableParams(params: readonly unknown[] | undefined): unknown[] | undefined {
  if (!params) return undefined
  let out: unknown[] | undefined
  for (let i = 0; i < params.length; i++) {
    const p = params[i]
    const s = storable(p)
    if (s !== p) (out ??= params.slice())[i] = s
  }
  return out ?? (params as unknown[])
}

function storable(value: unknown): unknown {
  if (typeof value === "string") return value.includes("\0") ? value.replaceAll("\0", NUL_REPLACEMENT) : value
  if (value === null || typeof value !== "object") return value
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const s = storable(value[i])
      if (s !== value[i]) (out ??= value.slice())[i] = s
    }
    return out ?? value
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  let out: Record<string, unknown> | undefined
  for (const [k, v] of Object.entries(value)) {
    const s = storable(v)
    const key = k.includes("\0") ? k.replaceAll("\0", NUL_REPLACEMENT) : k
    if (s !== v || key !== k) {
      out ??= { ...(value as Record<string, unknown>) }
      if (key !== k) delete out[k]
      out[key] = s
    }
  }
  return out ?? value
}
