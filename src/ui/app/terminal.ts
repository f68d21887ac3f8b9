import { FitAddon } from "@xterm/addon-fit"
import { Terminal } from "@xterm/xterm"
import { useEffect, useRef, useState } from "preact/hooks"
import { csrfToken } from "./api"
import { html } from "./html"

// A pty agent's terminal: xterm.js over the daemon's attach WebSocket
// (src/pool/attach.ts: binary frames are the terminal's bytes both ways,
// JSON text frames carry the hello, resize and notices). The terminal fits
// its box and tells the pty its size; a dropped socket reconnects and the
// replay redraws the screen.

const encoder = new TextEncoder()

export function TerminalView({ agentId }: { agentId: string }) {
  const box = useRef<HTMLDivElement>(null)
  const [status, setStatus] = useState("connecting")
  useEffect(() => {
    const el = box.current
    if (!el) return
    const term = new Terminal({ fontSize: 13, cursorBlink: true, scrollback: 2000, fontFamily: "ui-monospace, Menlo, Consolas, monospace", theme: { background: "#0b0f14" } })
    const fit = new FitAddon()
    term.loadAddon(fit)
    term.open(el)
    let ws: WebSocket | undefined
    let closed = false
    let retry: ReturnType<typeof setTimeout> | undefined
    let backoff = 500
    const send = (data: string | Uint8Array) => ws?.readyState === WebSocket.OPEN && ws.send(data)
    const resize = () => {
      try {
        fit.fit()
      } catch {}
      send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }))
    }
    const connect = () => {
      const proto = location.protocol === "https:" ? "wss" : "ws"
      const socket = new WebSocket(`${proto}://${location.host}/api/v1/agents/${encodeURIComponent(agentId)}/attach?csrf=${encodeURIComponent(csrfToken())}`)
      ws = socket
      socket.binaryType = "arraybuffer"
      socket.onmessage = (ev) => {
        if (typeof ev.data !== "string") return term.write(new Uint8Array(ev.data as ArrayBuffer))
        let m: { type?: string; message?: string } = {}
        try {
          m = JSON.parse(ev.data)
        } catch {}
        if (m.type === "attached") {
          backoff = 500
          term.reset() // the replay that follows redraws the screen
          setStatus("attached")
          resize()
        } else if (m.type === "restarted") setStatus("attached (agent restarted)")
        else if (m.type === "exit") setStatus("claude exited; the pool restarts it")
        else if (m.type === "stopped") setStatus("the agent was stopped")
        else if (m.type === "error") setStatus(m.message ?? "error")
      }
      socket.onclose = (ev) => {
        if (closed || ws !== socket) return
        if (ev.code === 1000 || ev.code === 4404 || ev.code === 4409) return setStatus(ev.code === 1000 ? "the agent was stopped" : ev.reason || "closed")
        setStatus("reconnecting…")
        retry = setTimeout(connect, backoff)
        backoff = Math.min(backoff * 2, 10_000)
      }
    }
    const input = term.onData((d) => send(encoder.encode(d)))
    const observer = new ResizeObserver(() => resize())
    observer.observe(el)
    connect()
    return () => {
      closed = true
      clearTimeout(retry)
      observer.disconnect()
      input.dispose()
      ws?.close(1000)
      term.dispose()
    }
  }, [agentId])
  return html`<div class="terminal-wrap">
    <p class="muted" aria-live="polite">Terminal: <span data-testid="terminal-status">${status}</span>. Click the terminal to type into it.</p>
    <div class="terminal" ref=${box} role="region" aria-label=${`Terminal of agent ${agentId}`} data-testid="terminal"></div>
  </div>`
}
