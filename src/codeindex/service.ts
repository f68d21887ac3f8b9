import { lstat, realpath } from "node:fs/promises"
import { homedir } from "node:os"
import { isAbsolute, join, resolve } from "node:path"
import { BlockedError, defineError, ExitCode, NotFoundError, ValidationError } from "../errors"
import type { Embedder } from "../embeddings/types"
import type { Queryable } from "../store/sql"
import { chunkFile } from "./chunk"
import { listFiles, readSource, select, within } from "./files"
import { LexStats, searchCode, type SearchInput, type SearchOptions } from "./search"
import { identifierText } from "./text"
import { ChunkVectors } from "./vectors"

// Indexing jobs and search over the code index (tables of 0006_codeindex).
// Incremental: a file whose content hash is unchanged is skipped, a changed
// one is chunked again, one that is gone is removed. A file whose size and
// mtime match what was recorded is not even read (the mtime must be over a
// second older than the time it was recorded, so a write within the same
// clock tick as the last index is still caught: git's "racy" rule). Search
// is search.ts; chunk vectors are vectors.ts.

export const RootRefusedError = defineError("root_refused", { exitCode: ExitCode.blocked, status: 403 })

export type IndexConfig = { roots: string[]; exclude: string[]; max_file_bytes: number; chunk_lines: number }
export type IndexInput = { path?: unknown; extensions?: unknown; exclude?: unknown }
export type { SearchInput } from "./search"

export type Job = {
  id: string
  root: string
  status: "running" | "completed" | "failed" | "cancelled"
  files_total: number
  files_done: number
  files_skipped: number
  files_unchanged: number
  files_removed: number
  chunks: number
  errors: { path: string; error: string }[]
  rate_files_s: number
  eta_s: number | null
  started_at: string
  finished_at?: string
  error?: string
}

type Known = { content_hash: string | null; size_bytes: string | number | null; mtime_ms: number | null; indexed_ms: number | string }

function field(name: string, message: string): never {
  throw new ValidationError(`${name}: ${message}`, { details: { field: name } })
}

function strings(name: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === "")) field(name, "must be an array of non-empty strings")
  return v as string[]
}

export class CodeIndex {
  private readonly jobs = new Map<string, Job>()
  private readonly cancelled = new Set<string>()
  private readonly listeners = new Map<string, Set<(j: Job) => void>>()

  /** Chunk vectors, when an embedder is given (filled in the background; search never waits for them). */
  readonly vectors?: ChunkVectors
  /** BM25's corpus statistics, dropped when a job changes chunks. */
  private readonly lexStats = new LexStats()

  constructor(private readonly o: { db: Queryable; config: IndexConfig; embedder?: Embedder; log?: { warn(msg: string): void } }) {
    if (o.embedder) this.vectors = new ChunkVectors({ db: o.db, embedder: o.embedder, log: o.log })
  }

  async close(): Promise<void> {
    await this.vectors?.close()
  }

  /** The real path of `path` if it lies in an allowed root; refused (403) with the reason otherwise, 404 when missing. */
  async checkRoot(path: unknown): Promise<string> {
    if (typeof path !== "string" || path.trim() === "") field("path", "is required: the directory to index")
    if (!isAbsolute(path)) field("path", `must be absolute, not ${JSON.stringify(path)}`)
    if (path.split("/").includes("..")) throw new RootRefusedError(`path ${path} has a '..' segment, which is not followed`, { hint: "give the directory's own absolute path" })
    const real = await realpath(path).catch(() => undefined)
    if (!real) throw new NotFoundError(`no such directory: ${path}`, { hint: "check the path; it must exist on the daemon's machine" })
    const roots = await Promise.all(this.o.config.roots.map((r) => realpath(r.replace(/^~(?=$|\/)/, homedir())).catch(() => undefined)))
    if (!roots.some((r) => r && within(r, real))) {
      const why = real !== resolve(path) ? ` (it resolves to ${real} through a symlink)` : ""
      throw new RootRefusedError(`${path} is outside the allowed roots${why}: ${this.o.config.roots.join(", ") || "(none)"}`, { hint: "add it to [indexing] roots in cca.toml", details: { roots: this.o.config.roots } })
    }
    return real
  }

  async start(input: IndexInput): Promise<Job> {
    const root = await this.checkRoot(input?.path)
    const extensions = strings("extensions", input?.extensions)
    const exclude = strings("exclude", input?.exclude)
    const running = [...this.jobs.values()].find((j) => j.root === root && j.status === "running")
    if (running) return running
    const job: Job = { id: crypto.randomUUID(), root, status: "running", files_total: 0, files_done: 0, files_skipped: 0, files_unchanged: 0, files_removed: 0, chunks: 0, errors: [], rate_files_s: 0, eta_s: null, started_at: new Date().toISOString() }
    this.jobs.set(job.id, job)
    void this.run(job, { extensions, exclude }).catch((e) => {
      job.status = "failed"
      job.error = e instanceof Error ? e.message : String(e)
      this.finish(job)
    })
    return job
  }

  job(id: string): Job {
    const j = this.jobs.get(id)
    if (!j) throw new NotFoundError(`no indexing job ${id}`, { hint: "start one with POST /api/v1/code/index" })
    return j
  }

  cancel(id: string): Job {
    const j = this.job(id)
    if (j.status === "running") this.cancelled.add(id)
    return j
  }

  /** Calls `fn` on each progress update of a job; returns the unsubscribe. */
  watch(id: string, fn: (j: Job) => void): () => void {
    let set = this.listeners.get(id)
    if (!set) this.listeners.set(id, (set = new Set()))
    set.add(fn)
    return () => set.delete(fn)
  }

  private emit(job: Job): void {
    const secs = (Date.now() - Date.parse(job.started_at)) / 1000
    job.rate_files_s = secs > 0 ? Math.round((job.files_done / secs) * 10) / 10 : 0
    job.eta_s = job.status === "running" && job.rate_files_s > 0 ? Math.round((job.files_total - job.files_done) / job.rate_files_s) : job.status === "running" ? null : 0
    for (const fn of this.listeners.get(job.id) ?? []) fn(job)
  }

  private finish(job: Job): void {
    job.finished_at = new Date().toISOString()
    this.cancelled.delete(job.id)
    this.emit(job)
    this.listeners.delete(job.id)
  }

  /** Index `root` now (what a job runs); also used directly by the bench. */
  async run(job: Job, opts: { extensions?: string[]; exclude?: string[] } = {}): Promise<Job> {
    const { db, config } = this.o
    const root = job.root
    const { files } = await listFiles(root)
    const listed = select(files, { extensions: opts.extensions, exclude: opts.exclude, configExclude: config.exclude })
    job.files_total = listed.length
    const known = new Map(
      (await db.query<Known & { path: string }>("SELECT path, content_hash, size_bytes, mtime_ms, (extract(epoch FROM indexed_at) * 1000)::float8 AS indexed_ms FROM codeindex_files WHERE root = $1", [root])).map((r) => [r.path, r]),
    )
    const seen = new Set<string>()
    let lastEmit = 0
    for (const f of listed) {
      if (this.cancelled.has(job.id)) {
        job.status = "cancelled"
        this.lexStats.invalidate()
        this.finish(job)
        return job
      }
      seen.add(f.path)
      try {
        await this.indexOne(root, f.path, f.skip, known.get(f.path), job)
      } catch (e) {
        job.errors.push({ path: f.path, error: e instanceof Error ? e.message : String(e) })
        if (job.errors.length > 200) job.errors.shift()
      }
      job.files_done++
      if (Date.now() - lastEmit > 250) {
        lastEmit = Date.now()
        this.emit(job)
      }
    }
    const gone = [...known.keys()].filter((p) => !seen.has(p))
    if (gone.length > 0 && !opts.extensions?.length) {
      await db.query("DELETE FROM codeindex_files WHERE root = $1 AND path = ANY($2::text[])", [root, gone])
      job.files_removed = gone.length
    }
    job.status = "completed"
    if (job.files_unchanged < job.files_done || job.files_removed > 0) this.lexStats.invalidate()
    this.finish(job)
    this.vectors?.kick()
    return job
  }

  private async indexOne(root: string, path: string, skip: string | undefined, known: Known | undefined, job: Job): Promise<void> {
    const { db, config } = this.o
    let mtime: number | null = null
    if (!skip) {
      const st = await lstat(join(root, path)).catch(() => undefined)
      if (st?.isFile()) {
        mtime = st.mtimeMs
        if (known?.content_hash && Number(known.size_bytes) === st.size && known.mtime_ms === mtime && Number(known.indexed_ms) - mtime > 1000) {
          job.files_unchanged++
          return
        }
      }
    }
    const record = (status: string, reason: string | null, hash: string | null, size: number | null, language: string | null, chunks: number, parseErrors: number, tx: Queryable = db) =>
      tx.query(
        `INSERT INTO codeindex_files (root, path, language, status, reason, content_hash, size_bytes, chunk_count, parse_errors, mtime_ms, indexed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
         ON CONFLICT (root, path) DO UPDATE SET language = $3, status = $4, reason = $5, content_hash = $6, size_bytes = $7, chunk_count = $8, parse_errors = $9, mtime_ms = $10, indexed_at = now()`,
        [root, path, language, status, reason, hash, size, chunks, parseErrors, mtime],
      )
    if (skip) {
      job.files_skipped++
      await db.query("DELETE FROM codeindex_chunks WHERE root = $1 AND path = $2", [root, path])
      return void (await record("skipped", skip, null, null, null, 0, 0))
    }
    const read = await readSource(root, path, config.max_file_bytes)
    if ("skip" in read) {
      job.files_skipped++
      await db.query("DELETE FROM codeindex_chunks WHERE root = $1 AND path = $2", [root, path])
      return void (await record("skipped", read.skip, null, read.bytes ?? null, null, 0, 0))
    }
    const hash = new Bun.CryptoHasher("sha256").update(read.text).digest("hex")
    if (hash === known?.content_hash) {
      job.files_unchanged++
      // Same content, new mtime (touched, checked out again): record the mtime so the next pass needs no read.
      if (known.mtime_ms !== mtime) await db.query("UPDATE codeindex_files SET mtime_ms = $3, indexed_at = now() WHERE root = $1 AND path = $2", [root, path, mtime])
      return
    }
    const r = await chunkFile(path, read.text, { windowLines: config.chunk_lines })
    await (db as { transaction?: <R>(fn: (tx: Queryable) => Promise<R>) => Promise<R> }).transaction!(async (tx) => {
      await tx.query("DELETE FROM codeindex_chunks WHERE root = $1 AND path = $2", [root, path])
      await record(r.method === "tree-sitter" ? "indexed" : "lines", r.reason ?? null, hash, read.bytes, r.language, r.chunks.length, r.parseErrors, tx)
      for (let i = 0; i < r.chunks.length; i += 100) {
        const batch = r.chunks.slice(i, i + 100)
        const params: unknown[] = [root, path, r.language]
        const rows = batch.map((c) => {
          const b = params.length
          params.push(c.kind, c.name, c.parent, c.signature, c.doc, c.startLine, c.endLine, c.content, identifierText(`${c.name ?? ""} ${c.parent ?? ""} ${path}`), identifierText(c.signature), identifierText(c.doc), identifierText(c.content))
          const p = (k: number) => `$${b + k}`
          return `($1, $2, $3, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, setweight(to_tsvector('english', ${p(9)}), 'A') || setweight(to_tsvector('english', ${p(10)}), 'B') || setweight(to_tsvector('english', ${p(11)}), 'C') || setweight(to_tsvector('english', ${p(12)}), 'D'))`
        })
        await tx.query(`INSERT INTO codeindex_chunks (root, path, language, kind, name, parent, signature, doc, start_line, end_line, content, tsv) VALUES ${rows.join(", ")}`, params)
      }
    })
    job.chunks += r.chunks.length
  }

  /** Search (see search.ts); vectors join in where chunks have them. */
  search(input: SearchInput, opts?: SearchOptions) {
    this.vectors?.kick()
    return searchCode(this.o.db, this.vectors, this.lexStats, input, opts)
  }

  async stats() {
    const files = await this.o.db.query<{ root: string; status: string; n: number; chunks: number }>("SELECT root, status, count(*)::int AS n, sum(chunk_count)::int AS chunks FROM codeindex_files GROUP BY root, status ORDER BY root")
    const langs = await this.o.db.query<{ language: string | null; n: number }>("SELECT language, count(*)::int AS n FROM codeindex_chunks GROUP BY language ORDER BY n DESC")
    const roots: Record<string, { files: number; chunks: number; by_status: Record<string, number> }> = {}
    for (const r of files) {
      const x = (roots[r.root] ??= { files: 0, chunks: 0, by_status: {} })
      x.files += r.n
      x.chunks += r.chunks ?? 0
      x.by_status[r.status] = r.n
    }
    return {
      roots: Object.entries(roots).map(([root, v]) => ({ root, ...v })),
      files: Object.values(roots).reduce((s, r) => s + r.files, 0),
      chunks: Object.values(roots).reduce((s, r) => s + r.chunks, 0),
      languages: Object.fromEntries(langs.map((l) => [l.language ?? "other", l.n])),
      vectors: this.vectors ? await this.vectors.status() : null,
      jobs: [...this.jobs.values()].slice(-10),
    }
  }
}

export { BlockedError }
