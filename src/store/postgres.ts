import type postgresT from "postgres"
import { ConfigError, NetworkError, PrerequisiteError } from "../errors"
import { registerSecret } from "../log"
import { PgCode, pgCode, storableParams, toDbError, type Queryable, type Sql } from "./sql"
import type { VectorMissing } from "./vector-support"
import { assertOutsideTransaction, insideTransaction } from "./tx-guard"

// The scale-out engine: PostgreSQL (pgvector when it has it) through postgres.js,
// shared by many daemons. Imported lazily, like PGlite.

export type PostgresOptions = {
  url: string
  /** Pool size. 1 against PGlite served over the wire (it serialises connections anyway). */
  max?: number
  connectTimeoutSec?: number
}

type Client = ReturnType<typeof postgresT>

/** host:port/db of a URL, without the credentials: safe for messages and logs. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`
  } catch {
    return "(unparseable URL)"
  }
}

export async function openPostgres(opts: PostgresOptions): Promise<Sql> {
  let parsed: URL
  try {
    parsed = new URL(opts.url)
  } catch {
    throw new ConfigError("postgres.url is not a valid URL", { hint: "use postgres://USER:PASSWORD@HOST:5432/DATABASE" })
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ConfigError(`postgres.url must start with postgres:// (got ${parsed.protocol}//)`, { hint: "use postgres://USER:PASSWORD@HOST:5432/DATABASE" })
  }
  registerSecret(decodeURIComponent(parsed.password))
  const { default: postgres } = await import("postgres")
  const client = postgres(opts.url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeoutSec ?? 10,
    // postgres.js prints NOTICEs with console.log by default: that is stdout, which belongs to command output.
    onnotice: () => {},
    // Problem: postgres.js waits up to 20 s before reconnecting once a few connection
    // errors have piled up (its retry count is shared by the pool and grows with every
    // query that fails during an outage), so after a PostgreSQL restart the daemon
    // would stay cut off long after the server is back. Fix: the same jittered
    // backoff, capped at 2 s.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.1 * 2 ** Math.min(retries, 10), 2),
  })
  const sql = wrap(client)
  try {
    await sql.query("SELECT 1")
  } catch (e) {
    await client.end({ timeout: 1 }).catch(() => {})
    throw connectError(e, opts.url)
  }
  return sql
}

function connectError(e: unknown, url: string): unknown {
  const where = describeUrl(url)
  const code = pgCode(e)
  if (code === "28P01" || code === "28000") return new ConfigError(`PostgreSQL at ${where} refused the credentials`, { hint: "check the user and password in postgres.url", cause: e })
  if (code === "3D000") return new ConfigError(`database ${where} does not exist`, { hint: "create it (createdb) or fix the database name in postgres.url", cause: e })
  if (code) return e
  const message = e instanceof Error ? e.message : String(e)
  return new NetworkError(`cannot connect to PostgreSQL at ${where}: ${message}`, {
    hint: "start the server or fix postgres.url; unset postgres.url to use the embedded store",
    cause: e,
  })
}

function queryable(q: Client | postgresT.TransactionSql): Queryable {
  return {
    async query<T>(text: string, params?: readonly unknown[]) {
      try {
        return (await q.unsafe(text, (storableParams(params) ?? []) as postgresT.ParameterOrJSON<never>[])) as unknown as T[]
      } catch (e) {
        throw toDbError(e)
      }
    },
    async exec(script) {
      try {
        await q.unsafe(script) // no params: the simple protocol, which takes several statements
      } catch (e) {
        throw toDbError(e)
      }
    },
  }
}

function wrap(client: Client): Sql {
  const outer = queryable(client)
  return {
    engine: "postgres",
    query(text, params) {
      assertOutsideTransaction(client)
      return outer.query(text, params)
    },
    exec(script) {
      assertOutsideTransaction(client)
      return outer.exec(script)
    },
    async transaction(fn) {
      assertOutsideTransaction(client)
      try {
        return (await client.begin((tx) => insideTransaction(client, () => fn(queryable(tx))))) as Awaited<ReturnType<typeof fn>>
      } catch (e) {
        throw toDbError(e)
      }
    },
    async listen(channel, onNotify, onListen) {
      const r = await client.listen(channel, onNotify, onListen)
      return () => r.unlisten()
    },
    close: () => client.end({ timeout: 5 }),
  }
}

/**
 * pgvector on the server: installed already, or created now (needs the
 * privilege). A server that has no pgvector, or a user that may not create
 * it, is not an error: the daemon runs with vectors off (vector-support.ts)
 * and says why and how to turn them on.
 */
export async function probePgvector(sql: Queryable, where: string): Promise<{ version: string } | { missing: VectorMissing }> {
  const installed = async () => (await sql.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'"))[0]?.v
  const found = await installed()
  if (found) return { version: found }
  try {
    await sql.query("CREATE EXTENSION IF NOT EXISTS vector")
  } catch (e) {
    const code = pgCode(e)
    if (code === PgCode.insufficientPrivilege) {
      return { missing: { reason: `pgvector is available on ${where} but this user may not create the extension`, hint: "as a superuser, run CREATE EXTENSION vector; in the database named in postgres.url" } }
    }
    if (code === PgCode.featureNotSupported || code === PgCode.undefinedFile) {
      return {
        missing: {
          reason: `PostgreSQL at ${where} has no pgvector extension`,
          hint: "install pgvector on the server (Debian/Ubuntu: apt install postgresql-<version>-pgvector; Docker: the pgvector/pgvector image), or unset postgres.url to use the embedded store",
        },
      }
    }
    throw e
  }
  const version = await installed()
  if (!version) throw new PrerequisiteError(`pgvector did not install on ${where}`, { hint: "run CREATE EXTENSION vector; as a superuser and check the server log" })
  return { version }
}
