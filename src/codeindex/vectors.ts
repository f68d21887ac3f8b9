import type { Embedder } from "../embeddings/types"
import type { Queryable } from "../store/sql"
import { splitIdentifier } from "./text"

// Chunk vectors (0010_codeindex_vectors), filled in the background.
//
// Problem: the local model embeds 8-30 chunks a second on a busy 2-core
// machine, so 40k chunks take over half an hour; indexing and lexical search
// must not wait for that.
// Fix: an index job only writes chunks. A background pass embeds chunks that
// have no vector of the embedder's space (model + dimension), a batch at a
// time, oldest first, and starts again when a job adds more. Search uses a
// vector wherever one exists and says in each result whether it had one.
// Vectors are bytea (float32 LE) scored over the lexical candidates, so the
// same code runs with or without pgvector; nothing of one model is ever
// compared with another's (the space is in every query).

const BATCH = 32
const EMBED_CHARS = 1200

export type VectorStatus = {
  model: string
  dimensions: number
  kind: string
  embedded: number
  pending: number
  running: boolean
  error?: string
}

/** Float32 little-endian bytes (what the bytea column holds). */
export function encodeVector(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))
}

export function decodeVector(bytes: Uint8Array): Float32Array {
  // A copy: the driver's buffer may not be 4-byte aligned.
  return new Float32Array(Uint8Array.from(bytes).buffer)
}

// Problem: binding a bytea parameter (and reading one back) costs ~4x more
// than text on PGlite (the driver hex-encodes in JS). Fix: vectors travel as
// base64 text and Postgres's encode/decode turn them into bytea.
export function toBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")
}

export function fromBase64(s: string): Float32Array {
  return decodeVector(Buffer.from(s, "base64"))
}

/** What a chunk is embedded as: its name's words, signature, doc comment and the start of its body. */
export function embedText(c: { name: string | null; parent: string | null; path: string; signature: string; doc: string; content: string }): string {
  const words = [c.parent, c.name].filter((x): x is string => !!x).flatMap((x) => splitIdentifier(x.replaceAll(".", "_")))
  return `${words.join(" ")}\n${c.signature}\n${c.doc}\n${c.content}`.slice(0, EMBED_CHARS)
}

export class ChunkVectors {
  private running?: Promise<void>
  private again = false
  private closed = false
  private abort = new AbortController()
  private error?: string

  constructor(private readonly o: { db: Queryable; embedder: Embedder; log?: { warn(msg: string): void } }) {}

  get space() {
    return this.o.embedder.space
  }

  /** Start the background pass if it is not running (or make a running one look again when it ends). */
  kick(): void {
    if (this.closed) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.loop()
      .catch((e) => {
        this.error = e instanceof Error ? e.message : String(e)
        this.o.log?.warn(`code vectors: ${this.error}`)
      })
      .finally(() => {
        this.running = undefined
        if (this.again && !this.closed && !this.error) {
          this.again = false
          this.kick()
        }
      })
  }

  /** Resolves when no pass is running (tests, the bench). */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  private async loop(): Promise<void> {
    this.error = undefined
    const { db, embedder } = this.o
    const { model, dimensions } = embedder.space
    // Keyset over ids: each batch starts after the last one (no rescan of what is done).
    let after = 0
    for (;;) {
      this.again = false
      if (this.closed) return
      const rows = await db.query<{ id: string | number; name: string | null; parent: string | null; path: string; signature: string; doc: string; content: string }>(
        `SELECT c.id, c.name, c.parent, c.path, c.signature, c.doc, left(c.content, ${EMBED_CHARS}) AS content FROM codeindex_chunks c
         WHERE c.id > $3 AND NOT EXISTS (SELECT 1 FROM codeindex_vectors v WHERE v.chunk_id = c.id AND v.embedding_model = $1 AND v.embedding_dim = $2)
         ORDER BY c.id LIMIT ${BATCH}`,
        [model, dimensions, after],
      )
      if (rows.length === 0) return
      after = Number(rows.at(-1)!.id)
      const vecs = await embedder.embed(rows.map(embedText), { purpose: "document", signal: this.abort.signal })
      if (this.closed) return
      const params: unknown[] = [model, dimensions]
      const values = rows.map((r, i) => `($${params.push(Number(r.id))}::bigint, $1::text, $2::int, decode($${params.push(toBase64(vecs[i]!))}, 'base64'))`)
      // A chunk deleted meanwhile (its file re-indexed) has no row to point at: insert only those still there.
      await db.query(
        `INSERT INTO codeindex_vectors (chunk_id, embedding_model, embedding_dim, embedding)
         SELECT v.id, v.model, v.dim, v.emb FROM (VALUES ${values.join(", ")}) AS v(id, model, dim, emb) WHERE EXISTS (SELECT 1 FROM codeindex_chunks c WHERE c.id = v.id)
         ON CONFLICT (chunk_id) DO UPDATE SET embedding_model = EXCLUDED.embedding_model, embedding_dim = EXCLUDED.embedding_dim, embedding = EXCLUDED.embedding, embedded_at = now()`,
        params,
      )
    }
  }

  /** The stored vectors of the embedder's space for these chunk ids. */
  async get(ids: readonly number[]): Promise<Map<number, Float32Array>> {
    if (ids.length === 0) return new Map()
    const rows = await this.o.db.query<{ chunk_id: string | number; embedding: string }>(
      "SELECT chunk_id, encode(embedding, 'base64') AS embedding FROM codeindex_vectors WHERE chunk_id = ANY($1::bigint[]) AND embedding_model = $2 AND embedding_dim = $3",
      [ids, this.space.model, this.space.dimensions],
    )
    return new Map(rows.map((r) => [Number(r.chunk_id), fromBase64(r.embedding)]))
  }

  async embedQuery(query: string): Promise<Float32Array> {
    const [v] = await this.o.embedder.embed([query], { purpose: "query" })
    return v!
  }

  async status(): Promise<VectorStatus> {
    const { model, dimensions } = this.space
    const [r] = await this.o.db.query<{ embedded: number; total: number }>(
      "SELECT (SELECT count(*)::int FROM codeindex_vectors WHERE embedding_model = $1 AND embedding_dim = $2) AS embedded, (SELECT count(*)::int FROM codeindex_chunks) AS total",
      [model, dimensions],
    )
    return { model, dimensions, kind: this.o.embedder.kind, embedded: r!.embedded, pending: Math.max(0, r!.total - r!.embedded), running: !!this.running, ...(this.error ? { error: this.error } : {}) }
  }

  async close(): Promise<void> {
    this.closed = true
    this.abort.abort()
    await this.running?.catch(() => {})
  }
}
