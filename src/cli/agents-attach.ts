import { command } from "./common"
import { connect } from "../daemon/client"
import { ConflictError, NetworkError, UsageError } from "../errors"
import { writeErr } from "../output"
import type { AttachServerText } from "../pool/attach"
import type { AgentView } from "./agents-view"

// `cca agents attach ID`: this terminal on a pty agent's terminal, over the
// daemon's WebSocket (protocol: src/pool/attach.ts). The terminal goes to raw
// mode so every key reaches Claude Code; the agent's terminal follows this
// one's size; Ctrl-] detaches (the agent keeps running). The terminal is
// restored however the session ends.

const DETACH_KEYS: Record<string, number> = { "ctrl-]": 0x1d, "ctrl-\\": 0x1c, "ctrl-q": 0x11 }

type Ended = { code: number; reason: string }

function attachTerminal(url: string, apiKey: string | undefined, agentId: string, detachKey: string, detachByte: number): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} })
    ws.binaryType = "arraybuffer"
    const stdin = process.stdin
    const stdout = process.stdout
    const out = Bun.stdout.writer()
    const raw = Boolean(stdin.isTTY)
    let opened = false
    let reason = ""
    const say = (text: string) => writeErr(raw ? `\r\n[cca] ${text}\r` : `[cca] ${text}`)
    const size = () => ws.readyState === WebSocket.OPEN && stdout.isTTY && ws.send(JSON.stringify({ type: "resize", cols: stdout.columns, rows: stdout.rows }))
    const input = (chunk: Buffer) => {
      const at = chunk.indexOf(detachByte)
      if (at === -1) return void ws.send(chunk)
      if (at > 0) ws.send(chunk.subarray(0, at))
      reason = "detached; the agent keeps running"
      ws.close(1000, "detached")
    }
    // A signal to this process ends the session the same way as a detach, so the terminal is restored.
    const onSignal = () => {
      reason = "interrupted"
      ws.close(1000, "client interrupted")
    }
    const restore = () => {
      process.off("SIGTERM", onSignal)
      process.off("SIGHUP", onSignal)
      stdin.off("data", input)
      stdout.off("resize", size)
      if (raw) stdin.setRawMode(false)
      stdin.pause()
    }
    ws.onopen = () => {
      opened = true
      writeErr(`attached to ${agentId} (${detachKey} detaches)`)
      if (raw) stdin.setRawMode(true)
      stdin.on("data", input)
      stdin.resume()
      process.on("SIGTERM", onSignal)
      process.on("SIGHUP", onSignal)
      stdout.on("resize", size)
      size()
    }
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        out.write(new Uint8Array(ev.data as ArrayBuffer))
        void out.flush()
        return
      }
      let m: AttachServerText
      try {
        m = JSON.parse(ev.data)
      } catch {
        return // not ours to act on; the terminal stays usable
      }
      if (m.type === "exit") say(m.crashed ? `claude ${m.signal ? `was killed by ${m.signal}` : `exited with code ${m.code}`}; the pool restarts it` : "claude exited")
      else if (m.type === "restarted") say("the agent restarted")
      else if (m.type === "stopped") reason = "the agent was stopped"
      else if (m.type === "error") reason = m.message ?? "refused"
    }
    ws.onerror = () => {
      if (!opened) reject(new NetworkError(`cannot attach to ${agentId} at ${url}`, { hint: "check that the daemon runs (`cca status`) and the agent exists (`cca agents list`)" }))
    }
    ws.onclose = (ev) => {
      restore()
      if (opened) resolve({ code: ev.code, reason: reason || ev.reason || `connection closed (${ev.code})` })
    }
  })
}

export default command({
  meta: { name: "attach", description: "Connect this terminal to a pty agent (Ctrl-] detaches)" },
  args: {
    id: { type: "positional", description: "Agent id (a pty agent: `cca agents spawn --role R --driver pty`)", required: true },
    "detach-key": { type: "string", description: "ctrl-] (default), ctrl-\\ or ctrl-q", default: "ctrl-]" },
  },
  async run(_ctx, args) {
    const detachKey = String(args["detach-key"]).toLowerCase()
    const detachByte = DETACH_KEYS[detachKey]
    if (detachByte === undefined) throw new UsageError(`unknown --detach-key ${args["detach-key"]}`, { hint: `use one of: ${Object.keys(DETACH_KEYS).join(", ")}` })
    const id = encodeURIComponent(String(args.id))
    const client = await connect()
    const agent = await client.get<AgentView>(`/api/v1/agents/${id}`)
    if (agent.kind !== "local" || agent.driver !== "pty") {
      throw new ConflictError(`agent ${agent.id} runs the ${agent.kind === "local" ? agent.driver : "remote"} driver, which has no terminal to attach to`, { hint: `spawn a pty agent: cca agents spawn --role ${agent.role} --driver pty` })
    }
    const ended = await attachTerminal(`${client.url.replace(/^http/, "ws")}/api/v1/agents/${id}/attach`, client.apiKey, agent.id, detachKey, detachByte)
    writeErr(`\n[cca] ${ended.reason}`)
    if (ended.code !== 1000) throw new NetworkError(`the attach session of ${agent.id} ended: ${ended.reason}`, { hint: "attach again with `cca agents attach ID`" })
  },
})
