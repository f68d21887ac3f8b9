import { AgentBase, settlesWithin } from "./base"
import { AgentCrashedError, AgentStartError, AgentStoppedError } from "./errors"
import { prepareLaunch, type Launch } from "./launch"
import { localHost, type ChildProcess } from "./process"
import { parseStreamLine, totalCost, turnResult, type StreamMessage } from "./stream-json"
import type { AgentOptions, Turn } from "./types"

// The default driver: `claude -p --input-format stream-json --output-format
// stream-json --verbose`, one process per agent kept alive across turns.
// A prompt is one `{"type":"user",...}` line on stdin; a `result` line ends the
// turn. Readiness is the answer to an `initialize` control request (Claude Code
// prints nothing before the first prompt otherwise).

const STDERR_TAIL = 8 * 1024

type Pending = { resolve: (r: StreamMessage & { kind: "control_response" }) => void }

export class StreamAgent extends AgentBase {
  readonly driver = "stream" as const
  private proc: ChildProcess | undefined
  private launch: Launch | undefined
  private session: string
  private lastText = ""
  private turnText = ""
  private stderrTail = ""
  private totalCostSoFar = 0
  private interrupting = false
  private stopping = false
  private requests = new Map<string, Pending>()
  private nextRequest = 0
  private exitInfo: Promise<void> | undefined

  constructor(private readonly opts: AgentOptions) {
    super(opts.id, opts.role)
    this.session = opts.resumeSessionId ?? ""
  }

  get pid(): number | undefined {
    return this.proc?.pid
  }

  get argv(): readonly string[] {
    return this.launch?.argv ?? []
  }

  sessionId(): string {
    return this.session
  }

  lastOutput(): string {
    return this.lastText
  }

  private fullOutput(): string {
    return [this.lastText, this.stderrTail.trim()].filter(Boolean).join("\n--- stderr ---\n")
  }

  async start(): Promise<void> {
    if (this.proc) throw new AgentStoppedError(`agent ${this.id} was already started`, { hint: "start a new agent to run another process" })
    this.launch = await prepareLaunch(this.opts, "stream")
    this.session = this.launch.sessionId
    const host = this.opts.host ?? localHost
    this.proc = await host.spawn({ argv: this.launch.argv, env: this.launch.env, cwd: this.launch.cwd })
    void this.readStdout(this.proc.stdout)
    void this.readStderr(this.proc.stderr)
    this.exitInfo = this.proc.exited.then((e) => this.onExit(e.code, e.signal))

    const timeoutMs = this.opts.readyTimeoutMs ?? 30_000
    let timer: ReturnType<typeof setTimeout> | undefined
    const ready = this.control({ subtype: "initialize" })
    const outcome = await Promise.race([
      ready.then((r) => (r.ok ? "ready" : `initialize failed: ${r.error ?? "unknown error"}`)),
      this.proc.exited.then((e) => `claude exited with ${e.signal ? `signal ${e.signal}` : `code ${e.code}`} before it was ready`),
      new Promise<string>((r) => (timer = setTimeout(() => r(`claude was not ready within ${timeoutMs} ms`), timeoutMs))),
    ]).finally(() => clearTimeout(timer))
    if (outcome === "ready") {
      this.setStatus("idle")
      return
    }
    this.stopping = true
    this.proc.kill("SIGKILL")
    await this.exitInfo
    throw new AgentStartError(`agent ${this.id} (${this.role}) did not start: ${outcome}`, {
      hint: "check the claude command and its credentials; the agent's last output is in details.lastOutput",
      details: { lastOutput: this.fullOutput(), argv: this.launch.argv },
    })
  }

  send(prompt: string): Turn {
    const turn = this.openTurn()
    this.turnText = ""
    this.interrupting = false
    this.write({ type: "user", message: { role: "user", content: prompt } })
    return turn
  }

  async interrupt(): Promise<void> {
    if (!this.turn || !this.proc) return
    this.interrupting = true
    await Promise.race([this.control({ subtype: "interrupt" }), this.proc.exited])
  }

  async stop(): Promise<void> {
    const proc = this.proc
    if (!proc || this.stopping) return void (await this.exitInfo)
    this.stopping = true
    this.setStatus("stopping")
    const timeoutMs = this.opts.stopTimeoutMs ?? 5_000
    // A running turn is interrupted first, so the session on disk ends cleanly and can be resumed.
    if (this.turn) await settlesWithin(this.interrupt(), Math.min(2_000, timeoutMs))
    try {
      proc.end()
    } catch {
      // already closed: the process is on its way out
    }
    if (!(await settlesWithin(proc.exited, timeoutMs))) {
      proc.kill("SIGTERM")
      if (!(await settlesWithin(proc.exited, 1_000))) proc.kill("SIGKILL")
    }
    await this.exitInfo
  }

  private write(message: unknown): void {
    try {
      this.proc?.write(`${JSON.stringify(message)}\n`)
    } catch {
      // stdin is gone because the process died; onExit reports that
    }
  }

  private control(request: Record<string, unknown>): Promise<StreamMessage & { kind: "control_response" }> {
    const id = `cca-${++this.nextRequest}`
    const answer = new Promise<StreamMessage & { kind: "control_response" }>((resolve) => this.requests.set(id, { resolve }))
    this.write({ type: "control_request", request_id: id, request })
    return answer
  }

  private async readStdout(stream: AsyncIterable<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buffered = ""
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true })
      let nl: number
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        for (const m of parseStreamLine(line)) this.handle(m)
      }
    }
  }

  private async readStderr(stream: AsyncIterable<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    for await (const chunk of stream) this.stderrTail = (this.stderrTail + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL)
  }

  private handle(m: StreamMessage): void {
    switch (m.kind) {
      case "event":
        if (m.event.type === "init") this.session = m.event.sessionId || this.session
        if (m.event.type === "text") this.lastText = this.turnText = m.event.text
        this.emit(m.event)
        return
      case "result": {
        const result = turnResult(m.raw, { previousTotalCost: this.totalCostSoFar, interrupted: this.interrupting, fallbackText: this.turnText, sessionId: this.session })
        this.totalCostSoFar = totalCost(m.raw)
        if (result.text) this.lastText = result.text
        this.interrupting = false
        this.finishTurn(result, this.stopping ? "stopping" : "idle")
        return
      }
      case "control_response": {
        const pending = this.requests.get(m.requestId)
        this.requests.delete(m.requestId)
        pending?.resolve(m)
        return
      }
      case "control_request":
        // Claude Code asks its host only when a tool needs approval; agents run
        // with --permission-mode dontAsk, so this is a safety net: deny, never hang.
        this.write({
          type: "control_response",
          response:
            m.subtype === "can_use_tool"
              ? { subtype: "success", request_id: m.requestId, response: { behavior: "deny", message: "denied by the agent's permission policy" } }
              : { subtype: "error", request_id: m.requestId, error: `${m.subtype} is not supported by this host` },
        })
        return
      case "other":
        return
    }
  }

  private onExit(code: number | null, signal: string | null): void {
    const crashed = !this.stopping
    const lastOutput = this.fullOutput()
    for (const p of this.requests.values()) p.resolve({ kind: "control_response", requestId: "", ok: false, error: "claude exited", response: {} })
    this.requests.clear()
    if (this.turn) {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      this.failTurn(
        crashed
          ? new AgentCrashedError(`agent ${this.id} (${this.role}) ${how} during a turn`, { hint: "the pool restarts it; see details.lastOutput for what it printed last", details: { lastOutput, code, signal } })
          : new AgentStoppedError(`agent ${this.id} was stopped during a turn`, { details: { lastOutput } }),
      )
    }
    this.setStatus(crashed ? "crashed" : "stopped")
    this.emit({ type: "exit", code, signal, crashed, lastOutput })
  }
}
