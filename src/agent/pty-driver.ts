import { rmSync } from "node:fs"
import { AgentBase, settlesWithin } from "./base"
import { AgentCrashedError, AgentStartError, AgentStoppedError } from "./errors"
import { parseHookPayload, type HookPayload } from "./hooks"
import { prepareLaunch, type Launch } from "./launch"
import { localHost, type TerminalProcess } from "./process"
import { RingBuffer } from "./ring-buffer"
import { waitForTurnRecord } from "./transcript"
import type { AgentOptions, Attachment, TerminalAgent, Turn, TurnResult } from "./types"

// The interactive Claude Code UI in a pseudo-terminal, so a person can watch
// and take over. The screen is never parsed for state: readiness comes from
// the SessionStart hook's file, turn starts from UserPromptSubmit, turn ends
// from Stop, waits-for-a-person from Notification (see hooks.ts).
//
// Facts of Claude Code 2.1.328 that shape this file (seen in tests):
// - Keyboard input written before the UI is drawn is kept and used.
// - Enter written in the same chunk as a bracketed paste can be swallowed,
//   so Enter follows after a short pause and is repeated until
//   UserPromptSubmit confirms the prompt was taken.
// - Esc interrupts a running turn; no Stop hook follows, and the interrupted
//   prompt is put back into the input box (Ctrl-U clears it).
// - A turn the API refused (400, 529 after Claude Code's retries, ...) ends
//   with StopFailure instead of Stop: `error` is Claude Code's category
//   (rate_limit, overloaded, ..., unknown), `last_assistant_message` reads
//   "API Error: 400 <the API's text>", and the transcript's synthetic line
//   carries `apiErrorStatus`. Without that hook the turn never ended.

const PASTE_START = "\x1b[200~"
const PASTE_END = "\x1b[201~"
const CTRL_U = "\x15"
const ESC = "\x1b"
const ENTER_DELAY_MS = 120
const ENTER_RETRY_MS = 1_000
const ENTER_RETRIES = 3

/** Terminal output without escape sequences and control characters, for error messages and lastOutput. */
export function plainText(data: string): string {
  return data
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "") // OSC (titles, hyperlinks)
    .replace(/\x1b\[[0-9;?<>=]*[ -/]*[@-~]/g, "") // CSI
    .replace(/\x1b[()][0-9A-Za-z]|\x1b[78=>]|\x1b./g, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "")
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class PtyAgent extends AgentBase implements TerminalAgent {
  readonly driver = "pty" as const
  private term: TerminalProcess | undefined
  private launch: Launch | undefined
  private session: string
  private readonly ring: RingBuffer
  private viewers = new Set<(data: string) => void>()
  private cols: number
  private rows: number
  private lastText = ""
  private stopping = false
  private submitted = false
  private exitSeen = false
  private exited: Promise<void>
  private markExited!: () => void

  constructor(private readonly opts: AgentOptions) {
    super(opts.id, opts.role)
    this.session = opts.resumeSessionId ?? ""
    this.ring = new RingBuffer(opts.terminal?.bufferSize ?? 256 * 1024)
    this.cols = opts.terminal?.cols ?? 120
    this.rows = opts.terminal?.rows ?? 40
    this.exited = new Promise((r) => (this.markExited = r))
  }

  get pid(): number | undefined {
    return this.term?.pid
  }

  get argv(): readonly string[] {
    return this.launch?.argv ?? []
  }

  sessionId(): string {
    return this.session
  }

  lastOutput(): string {
    return this.lastText || this.screenTail()
  }

  private screenTail(): string {
    return plainText(this.ring.tail(4_000)).trim().slice(-2_000)
  }

  size(): { cols: number; rows: number } {
    return { cols: this.cols, rows: this.rows }
  }

  async start(): Promise<void> {
    if (this.term) throw new AgentStoppedError(`agent ${this.id} was already started`, { hint: "start a new agent to run another process" })
    const launch = await prepareLaunch(this.opts, "pty")
    this.launch = launch
    this.session = launch.sessionId
    rmSync(launch.readyFile, { force: true })
    const host = this.opts.host ?? localHost
    this.term = await host.spawnTerminal({ argv: launch.argv, env: launch.env, cwd: launch.cwd }, { name: launch.env.TERM ?? "xterm-256color", cols: this.cols, rows: this.rows })
    this.term.onData((data) => this.onData(data))
    this.term.onExit((e) => this.onExit(e.code, e.signal))

    const timeoutMs = this.opts.readyTimeoutMs ?? 30_000
    const deadline = Date.now() + timeoutMs
    let exited = false
    void this.exited.then(() => (exited = true))
    while (!exited && Date.now() < deadline) {
      const started = await this.readReadyFile(launch.readyFile)
      if (started) {
        if (started.session_id) this.session = started.session_id
        this.setStatus("idle")
        return
      }
      await sleep(25)
    }
    const why = exited ? "claude exited before its session started" : `claude's session did not start within ${timeoutMs} ms`
    this.stopping = true
    this.term.kill("SIGKILL")
    await settlesWithin(this.exited, 2_000)
    throw new AgentStartError(`agent ${this.id} (${this.role}) did not start: ${why}`, {
      hint: "a dialog may be waiting on the screen (details.lastOutput); check the claude command and its credentials",
      details: { lastOutput: this.screenTail(), argv: launch.argv },
    })
  }

  private async readReadyFile(path: string): Promise<HookPayload | undefined> {
    const f = Bun.file(path)
    if (!(await f.exists())) return undefined
    try {
      return parseHookPayload(JSON.parse(await f.text()))
    } catch {
      return undefined // the hook is still writing it
    }
  }

  send(prompt: string): Turn {
    const turn = this.openTurn()
    this.submitted = false
    // No escape character may reach the terminal from a prompt: it could end the paste early and type keys.
    const text = prompt.replaceAll(ESC, "")
    this.term!.write(CTRL_U + PASTE_START + text + PASTE_END)
    void this.pressEnter()
    return turn
  }

  private async pressEnter(): Promise<void> {
    const open = this.turn
    await sleep(ENTER_DELAY_MS)
    for (let i = 0; i < ENTER_RETRIES && !this.submitted && this.turn === open && !this.stopping; i++) {
      this.term?.write("\r")
      await sleep(ENTER_RETRY_MS)
    }
  }

  async hook(body: unknown): Promise<void> {
    const payload = parseHookPayload(body)
    if (!payload) return
    if (payload.session_id) this.session = payload.session_id // /clear in the UI starts a new session
    this.emit({ type: "hook", name: payload.hook_event_name, payload })
    switch (payload.hook_event_name) {
      case "UserPromptSubmit":
        this.submitted = true
        // A person typed the prompt: it is a turn all the same.
        if (!this.turn && (this.current === "idle" || this.current === "waiting")) this.openTurn()
        else this.setStatus("busy")
        return
      case "Notification":
        this.emit({ type: "waiting", message: typeof payload.message === "string" ? payload.message : "" })
        if (this.current === "idle" || this.current === "busy") this.setStatus("waiting")
        return
      case "Stop": {
        const text = typeof payload.last_assistant_message === "string" ? payload.last_assistant_message : ""
        if (text) this.lastText = text
        const startedAt = this.turnStartedAt()
        if (startedAt === undefined) {
          if (this.current === "waiting") this.setStatus("idle")
          return
        }
        // Not awaited: Claude Code waits for this hook's answer, and the transcript is read after it.
        void this.finishFromTranscript(payload.transcript_path, text, startedAt)
        return
      }
      case "StopFailure": {
        const text = typeof payload.last_assistant_message === "string" ? payload.last_assistant_message : ""
        const startedAt = this.turnStartedAt()
        if (startedAt === undefined) return
        const category = typeof payload.error === "string" ? payload.error : "unknown"
        void this.finishFromTranscript(payload.transcript_path, text, startedAt, category)
        return
      }
    }
  }

  /** Ends the open turn with the transcript's usage; `failure` (StopFailure's category) makes it a failed turn with the API's status. */
  private async finishFromTranscript(path: string | undefined, text: string, startedAt: number, failure?: string): Promise<void> {
    const open = this.turn
    const record = path ? await waitForTurnRecord(path, startedAt, text) : undefined
    if (this.turn !== open) return
    if (failure === undefined) return this.finishTurn(this.result({ text, startedAt, usage: record?.usage }))
    const status = record?.apiErrorStatus ?? Number(/^API Error: (\d{3})\b/.exec(text)?.[1] ?? Number.NaN)
    this.finishTurn({
      ...this.result({ text: text.replace(/^API Error: (\d{3} )?/, ""), startedAt, usage: record?.usage }),
      ok: false,
      subtype: "api_error",
      ...(Number.isInteger(status) ? { apiError: { status, type: failure === "unknown" ? "" : failure } } : { errors: [`the turn ended on an API error (${failure}): ${text || "no text"}`] }),
    })
  }

  private result(o: { text: string; startedAt: number; usage?: TurnResult["usage"]; interrupted?: boolean }): TurnResult {
    return {
      sessionId: this.session,
      text: o.text,
      ok: !o.interrupted,
      interrupted: o.interrupted ?? false,
      subtype: o.interrupted ? "interrupted" : "success",
      usage: o.usage ?? { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
      costUsd: undefined,
      durationMs: Date.now() - o.startedAt,
      durationApiMs: undefined,
      numTurns: undefined,
      permissionDenials: [],
      errors: [],
    }
  }

  async interrupt(): Promise<void> {
    const startedAt = this.turnStartedAt()
    if (startedAt === undefined || !this.term) return
    this.term.write(ESC)
    await sleep(300)
    this.term?.write(CTRL_U)
    this.finishTurn(this.result({ text: "", startedAt, interrupted: true }))
  }

  async stop(): Promise<void> {
    if (!this.term || this.stopping) return void (await this.exited)
    if (this.turn) await this.interrupt()
    this.stopping = true
    this.setStatus("stopping")
    this.term.kill("SIGTERM")
    if (!(await settlesWithin(this.exited, this.opts.stopTimeoutMs ?? 5_000))) this.term.kill("SIGKILL")
    await this.exited
  }

  attach(viewer: (data: string) => void): Attachment {
    const replay = this.ring.snapshot()
    this.viewers.add(viewer)
    return { replay, detach: () => this.viewers.delete(viewer) }
  }

  write(data: string): void {
    this.term?.write(data)
  }

  resize(cols: number, rows: number): void {
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) throw new RangeError(`invalid terminal size ${cols}x${rows}`)
    this.cols = cols
    this.rows = rows
    this.term?.resize(cols, rows)
  }

  private onData(data: string): void {
    this.ring.push(data)
    for (const v of this.viewers) {
      try {
        v(data)
      } catch {
        // a viewer's failure is its own
      }
    }
    this.emit({ type: "output", data })
  }

  private onExit(code: number | null, signal: string | null): void {
    if (this.exitSeen) return // bun-pty may report an exit twice
    this.exitSeen = true
    const crashed = !this.stopping
    const lastOutput = [this.lastText, this.screenTail()].filter(Boolean).join("\n--- screen ---\n")
    if (this.turn) {
      this.failTurn(
        crashed
          ? new AgentCrashedError(`agent ${this.id} (${this.role}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`} during a turn`, { hint: "the pool restarts it; see details.lastOutput", details: { lastOutput, code, signal } })
          : new AgentStoppedError(`agent ${this.id} was stopped during a turn`, { details: { lastOutput } }),
      )
    }
    this.setStatus(crashed ? "crashed" : "stopped")
    this.emit({ type: "exit", code, signal, crashed, lastOutput })
    this.viewers.clear()
    this.markExited()
  }
}
