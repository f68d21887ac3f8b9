import type { AgentPool, AttachNotice, PoolAttachment } from "./types"

// The attach protocol: a person's terminal on a pty agent, over a WebSocket
// (GET /api/v1/agents/:id/attach; `cca agents attach ID` is its client).
//
// server -> client
//   text   {"type":"attached","agentId","cols","rows"}   first, once
//   binary terminal output: the replay of the ring buffer first, then live
//   text   {"type":"exit",...} | {"type":"restarted","cols","rows"} | {"type":"stopped"} (then close 1000)
// client -> server
//   binary keyboard input, as typed
//   text   {"type":"resize","cols":C,"rows":R} | {"type":"input","data":"..."}
//
// Binary frames keep terminal bytes as they are; control travels as JSON.

export type AttachHello = { type: "attached"; agentId: string; cols: number; rows: number }
export type AttachServerText = AttachHello | AttachNotice | { type: "error"; message: string }
export type AttachClientText = { type: "resize"; cols: number; rows: number } | { type: "input"; data: string }

/** What the server needs from a WebSocket. */
export type AttachSocket = {
  sendText(text: string): void
  sendBinary(data: Uint8Array): void
  /** Bytes queued and not yet sent. */
  buffered(): number
  close(code: number, reason: string): void
}

/** A viewer that falls this far behind is cut off (close 4008) instead of growing the daemon's memory. */
export const MAX_VIEWER_BACKLOG = 4 * 1024 * 1024

export const CloseCodes = { normal: 1000, badMessage: 4400, notFound: 4404, conflict: 4409, tooSlow: 4008 } as const

const encoder = new TextEncoder()

export function parseClientText(text: string): AttachClientText | undefined {
  try {
    const m = JSON.parse(text) as Record<string, unknown>
    if (m.type === "resize" && Number.isInteger(m.cols) && Number.isInteger(m.rows) && (m.cols as number) > 0 && (m.rows as number) > 0 && (m.cols as number) <= 1000 && (m.rows as number) <= 1000) {
      return { type: "resize", cols: m.cols as number, rows: m.rows as number }
    }
    if (m.type === "input" && typeof m.data === "string") return { type: "input", data: m.data }
  } catch {}
  return undefined
}

/** Serves one attached socket: replay, live output, notices; input and resize back to the terminal. */
export function serveAttach(pool: AgentPool, agentId: string, socket: AttachSocket): { message(data: string | Uint8Array): void; close(): void } {
  let attachment: PoolAttachment | undefined
  let closed = false
  const decoder = new TextDecoder() // per socket: a character may be split across frames
  const end = (code: number, reason: string) => {
    if (closed) return
    closed = true
    attachment?.detach()
    socket.close(code, reason)
  }
  const send = (data: Uint8Array) => {
    if (closed) return
    if (socket.buffered() > MAX_VIEWER_BACKLOG) return end(CloseCodes.tooSlow, "viewer too slow")
    socket.sendBinary(data)
  }
  try {
    attachment = pool.attach(agentId, {
      data: (chunk) => send(encoder.encode(chunk)),
      notice: (n) => {
        if (closed) return
        socket.sendText(JSON.stringify(n))
        if (n.type === "stopped") end(CloseCodes.normal, "agent stopped")
      },
    })
  } catch (e) {
    const code = (e as { status?: number }).status === 404 ? CloseCodes.notFound : CloseCodes.conflict
    socket.sendText(JSON.stringify({ type: "error", message: (e as Error).message }))
    end(code, (e as Error).message.slice(0, 120))
    return { message() {}, close() {} }
  }
  socket.sendText(JSON.stringify({ type: "attached", agentId, cols: attachment.cols, rows: attachment.rows } satisfies AttachHello))
  if (attachment.replay) send(encoder.encode(attachment.replay))
  return {
    message(data) {
      if (closed || !attachment) return
      if (typeof data !== "string") return attachment.write(decoder.decode(data, { stream: true }))
      const m = parseClientText(data)
      if (!m) return end(CloseCodes.badMessage, "unknown control message")
      if (m.type === "resize") attachment.resize(m.cols, m.rows)
      else attachment.write(m.data)
    },
    close() {
      closed = true
      attachment?.detach()
    },
  }
}
