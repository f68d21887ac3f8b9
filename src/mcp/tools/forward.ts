import type { DaemonLink, Query } from "../daemon"
import { asObject, jsonText, type Answer, type Call } from "../tool"

// Tools that hand their arguments to one daemon route and show its answer.
// The answer drives them: an older daemon without a route answers 501
// `not_available`, which becomes a "not available in this version" tool error.

export async function forward(daemon: DaemonLink, call: Call, method: "GET" | "POST", path: string, opts: { body?: Record<string, unknown>; query?: Query; title: string }): Promise<Answer> {
  const answer = await daemon.call<unknown>(method, path, { body: opts.body, query: opts.query, signal: call.signal })
  return { summary: opts.title, detail: jsonText(answer), data: asObject(answer) }
}

/** Drop undefined values, so optional arguments left out are not sent. */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}
