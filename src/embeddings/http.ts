import { EmbeddingsUnavailableError } from "./errors"
import type { HealthTracker } from "./health"

// One JSON POST to an embedding server (ollama, openai), with a time limit,
// and every way it can fail turned into an EmbeddingsUnavailableError that
// says which server, what happened and what to do. Nothing here logs headers:
// the API key travels in one and must never reach a log.

export type Post = {
  /** "ollama" / "the OpenAI-compatible server", for messages. */
  what: string
  url: string
  body: unknown
  headers?: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal
  tracker: HealthTracker
  /** The hint for an HTTP error status, from the server's own message. */
  hintFor(status: number, message: string): string | undefined
}

const DOWN_HINT = "check that the server runs and [embeddings] url points at it, or pick another [embeddings] provider"

export async function postJson(p: Post): Promise<unknown> {
  const timeout = AbortSignal.timeout(p.timeoutMs)
  const signal = p.signal ? AbortSignal.any([p.signal, timeout]) : timeout
  let res: Response
  try {
    res = await fetch(p.url, { method: "POST", headers: { "content-type": "application/json", ...p.headers }, body: JSON.stringify(p.body), signal })
  } catch (e) {
    if (p.signal?.aborted) throw p.signal.reason
    const message = timeout.aborted ? `did not answer within ${p.timeoutMs / 1000} s` : `does not answer (${(e as Error).message})`
    throw down(p, `${p.what} at ${origin(p.url)} ${message}`, timeout.aborted ? "raise [embeddings] timeout_s or lower batch_size, or check the server's load" : DOWN_HINT)
  }
  const text = await res.text().catch(() => "")
  if (!res.ok) {
    const message = serverMessage(text) ?? res.statusText
    throw down(p, `${p.what} at ${origin(p.url)} answered ${res.status}: ${message}`, p.hintFor(res.status, message) ?? DOWN_HINT)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw down(p, `${p.what} at ${origin(p.url)} answered with something that is not JSON: ${text.slice(0, 120)}`, DOWN_HINT)
  }
}

/** An answer that is JSON but not the expected shape. */
export function badAnswer(p: Pick<Post, "what" | "url" | "tracker">, detail: string, hint = "check that [embeddings] provider matches the server's API"): Error {
  return down(p, `${p.what} at ${origin(p.url)} gave an unusable answer: ${detail}`, hint)
}

function down(p: Pick<Post, "tracker">, message: string, hint: string): Error {
  p.tracker.down(message)
  return new EmbeddingsUnavailableError(message, { hint })
}

function origin(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return url
  }
}

/** `{"error": "..."}` (ollama) or `{"error": {"message": "..."}}` (OpenAI), else the text's start. */
function serverMessage(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown }
    if (typeof j.error === "string") return j.error
    if (j.error && typeof j.error === "object" && typeof (j.error as { message?: unknown }).message === "string") return (j.error as { message: string }).message
    if (typeof j.message === "string") return j.message
  } catch {}
  return text.trim() ? text.trim().slice(0, 200) : undefined
}

/** Vectors of an answer, checked: one per text, numbers only, the configured size. */
export function checkVectors(p: Pick<Post, "what" | "url" | "tracker">, rows: unknown, count: number, dimensions: number): number[][] {
  if (!Array.isArray(rows)) throw badAnswer(p, "no list of vectors")
  if (rows.length !== count) throw badAnswer(p, `${rows.length} vectors for ${count} texts`)
  for (const r of rows) {
    if (!Array.isArray(r) || r.some((x) => typeof x !== "number" || !Number.isFinite(x))) throw badAnswer(p, "a vector that is not a list of numbers")
    if (r.length !== dimensions) {
      throw badAnswer(p, `${r.length}-d vectors, but [embeddings] dimensions is ${dimensions}`, `set [embeddings] dimensions = ${r.length} (vectors of the old size become stale; \`cca memory reembed\` redoes them)`)
    }
  }
  return rows as number[][]
}
