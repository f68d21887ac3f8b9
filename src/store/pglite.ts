import type { Extension, PGlite } from "@electric-sql/pglite"
import { mkdirSync } from "node:fs"
import { acquireDirLock, type DirLock } from "./dir-lock"
import { pgliteAssets } from "./pglite-assets"
import { storableParams, toDbError, type Queryable, type Sql } from "./sql"
import { assertOutsideTransaction, insideTransaction } from "./tx-guard"

// The embedded engine: Postgres compiled to WASM, in this process, with
// pgvector. PGlite is one backend: it runs one statement at a time. Since
// 0.5, `query()` waits on the same mutex as `transaction()`, so a statement
// from outside never lands inside someone else's transaction (a test holds
// it to that). This module is imported lazily: only the daemon and `db` pay
// for loading PGlite.

export type PgliteSql = Sql & {
  readonly engine: "pglite"
  /** The PGlite instance, for serving it over the wire in tests. */
  readonly db: PGlite
}

export type PgliteOptions = {
  /** Where the cluster lives; undefined keeps it in memory (tests, benchmarks). */
  dataDir?: string
  /** Extra server settings (`-c name=value` at start), e.g. `{ shared_buffers: "512MB" }`; PGlite's own start parameters are kept. */
  settings?: Record<string, string>
}

function vectorExtension(bundlePath: URL): Extension {
  return { name: "vector", setup: async (_pg, emscriptenOpts) => ({ emscriptenOpts, bundlePath }) }
}

export async function openPglite(opts: PgliteOptions = {}): Promise<PgliteSql> {
  let lock: DirLock | undefined
  if (opts.dataDir) {
    lock = acquireDirLock(opts.dataDir)
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 })
  }
  try {
    const [{ PGlite }, assets] = await Promise.all([import("@electric-sql/pglite"), pgliteAssets()])
    const db = await PGlite.create({
      dataDir: opts.dataDir,
      extensions: { vector: vectorExtension(assets.vectorBundle) },
      pgliteWasmModule: assets.pgliteWasmModule,
      initdbWasmModule: assets.initdbWasmModule,
      fsBundle: assets.fsBundle,
      ...(opts.settings
        ? { startParams: [...PGlite.defaultStartParams, ...Object.entries(opts.settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])] }
        : {}),
    })
    return wrap(db, lock)
  } catch (e) {
    lock?.release()
    throw e
  }
}

type Runner = Pick<PGlite, "query" | "exec">

function queryable(q: Runner): Queryable {
  return {
    async query<T>(text: string, params?: readonly unknown[]) {
      try {
        return (await q.query<T>(text, storableParams(params))).rows
      } catch (e) {
        throw toDbError(e)
      }
    },
    async exec(script) {
      try {
        await q.exec(script)
      } catch (e) {
        throw toDbError(e)
      }
    },
  }
}

function wrap(db: PGlite, lock: DirLock | undefined): PgliteSql {
  let closed = false
  const outer = queryable(db)
  return {
    engine: "pglite",
    db,
    query(text, params) {
      assertOutsideTransaction(db)
      return outer.query(text, params)
    },
    exec(script) {
      assertOutsideTransaction(db)
      return outer.exec(script)
    },
    async transaction(fn) {
      assertOutsideTransaction(db)
      try {
        return await db.transaction((tx) => insideTransaction(db, () => fn(queryable(tx))))
      } catch (e) {
        throw toDbError(e)
      }
    },
    async close() {
      if (closed) return
      closed = true
      try {
        await db.close()
      } finally {
        lock?.release()
      }
    },
  }
}
