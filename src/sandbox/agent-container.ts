import type Docker from "dockerode"
import { rmSync } from "node:fs"
import type { Duplex } from "node:stream"
import { PassThrough } from "node:stream"
import type { ChildProcess, ExitInfo, ProcessHost, SpawnSpec, TerminalProcess } from "../agent/process"
import { engineCall } from "./containers"
import { KEEPALIVE } from "./launch"
import type { Mount } from "./workspace"

// One daemon agent's claude inside its own governed container, as a
// ProcessHost the agent drivers use like a local process:
// - stream: the container's main process is claude itself; the driver talks
//   to it over the container's attached stdin/stdout/stderr, and the
//   container's exit is the process's exit;
// - pty: the container runs the keep-alive, claude runs as an exec with a TTY.
// Each start of the process gets a fresh container; once the process has
// ended, the container and its injected files are removed before `exited`
// settles, so a stopped (or crashed) agent leaves nothing behind.

export type AgentContainerSpec = {
  docker: Docker
  name: string
  image: string
  labels: Record<string, string>
  mounts: Mount[]
  /** The plan's environment, resolved (secrets in memory only). The agent's own variables are added at spawn. */
  env: Record<string, string>
  networkMode: string
  /** The claude command inside the container. */
  claude: string
  /** The host directory of the injected files; removed with the container. */
  sessionDir: string
  /** Told once the container is gone (usage stats). */
  onGone?: (e: ExitInfo) => void
}

const SIGNALS: Record<number, string> = { 9: "SIGKILL", 15: "SIGTERM", 2: "SIGINT", 6: "SIGABRT", 11: "SIGSEGV" }

/** A container's status code as a process exit: 128+n is death by signal n. */
export function exitFromStatus(status: number | null | undefined): ExitInfo {
  if (typeof status !== "number" || status < 0) return { code: null, signal: null }
  const signal = status > 128 ? SIGNALS[status - 128] : undefined
  return signal ? { code: null, signal } : { code: status, signal: null }
}

function envList(...parts: Record<string, string>[]): string[] {
  return Object.entries(Object.assign({}, ...parts) as Record<string, string>).map(([k, v]) => `${k}=${v}`)
}

function createOptions(s: AgentContainerSpec, extra: Partial<Docker.ContainerCreateOptions>): Docker.ContainerCreateOptions {
  return {
    name: s.name,
    Image: s.image,
    Labels: s.labels,
    HostConfig: {
      Mounts: s.mounts.map((m) => ({ Type: "bind" as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      NetworkMode: s.networkMode,
    },
    ...extra,
  }
}

/**
 * Problem: dockerode's attach sends its options as the request body too, and
 * Podman hands that body to the container's stdin (claude then reads
 * `{"stream":true,...}` as its first input line). Fix: dial the attach
 * ourselves with the options in the query string and an empty body.
 */
function attach(docker: Docker, id: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const modem = docker.modem as unknown as { dial(o: Record<string, unknown>, cb: (e: Error | null, s: Duplex) => void): void }
    modem.dial(
      {
        path: `/containers/${id}/attach?`,
        method: "POST",
        isStream: true,
        hijack: true,
        openStdin: true,
        statusCodes: { 101: true, 200: true, 404: "no such container", 500: "server error" },
        options: { stream: true, stdin: true, stdout: true, stderr: true },
        file: Buffer.alloc(0),
      },
      (e, s) => (e ? reject(e) : resolve(s)),
    )
  })
}

export class AgentContainer implements ProcessHost {
  readonly where: string
  readonly claude: string
  readonly inheritEnv = false
  readonly mcpFlags = false
  private id: string | undefined
  private removal: Promise<void> | undefined

  constructor(private readonly s: AgentContainerSpec) {
    this.where = `container ${s.name}`
    this.claude = s.claude
  }

  async spawn(spec: SpawnSpec): Promise<ChildProcess> {
    const { docker } = this.s
    const [entry, ...args] = spec.argv
    const options = createOptions(this.s, {
      Entrypoint: [entry!],
      Cmd: args,
      Env: envList(this.s.env, spec.env),
      WorkingDir: spec.cwd,
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    })
    const container = await this.create(options)
    let stream: Duplex
    try {
      stream = await engineCall(`attaching to ${this.s.name}`, () => attach(docker, container.id))
      await engineCall(`starting ${this.s.name}`, () => container.start())
    } catch (e) {
      await this.remove()
      throw e
    }
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    docker.modem.demuxStream(stream, stdout, stderr)
    stream.once("end", () => (stdout.end(), stderr.end()))
    stream.once("close", () => (stdout.end(), stderr.end()))
    stream.on("error", () => {})
    const pid = await container
      .inspect()
      .then((i) => i.State?.Pid || undefined)
      .catch(() => undefined)
    const exited = container
      .wait()
      .then((r: { StatusCode?: number }) => exitFromStatus(r.StatusCode))
      .catch(() => ({ code: null, signal: null }))
      .then(async (e) => (await this.remove(), this.s.onGone?.(e), e))
    return {
      pid,
      write: (data) => void stream.write(data),
      end: () => void stream.end(),
      stdout,
      stderr,
      exited,
      kill: (signal) => void container.kill({ signal }).catch(() => {}),
    }
  }

  async spawnTerminal(spec: SpawnSpec, size: { cols: number; rows: number; name: string }): Promise<TerminalProcess> {
    const { docker } = this.s
    const container = await this.create(createOptions(this.s, { Entrypoint: KEEPALIVE, Cmd: [], Env: envList(this.s.env, spec.env), WorkingDir: spec.cwd }))
    let stream: Duplex
    let exec: Docker.Exec
    try {
      await engineCall(`starting ${this.s.name}`, () => container.start())
      exec = await engineCall(`starting claude in ${this.s.name}`, () =>
        container.exec({ Cmd: spec.argv, Env: envList(spec.env, { TERM: size.name }), WorkingDir: spec.cwd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true }),
      )
      // The size goes with the start (see session.ts): a TTY exec starts at 0x0 otherwise.
      const start = { hijack: true, stdin: true, Tty: true, ConsoleSize: [size.rows, size.cols], h: size.rows, w: size.cols }
      stream = (await engineCall(`attaching to claude in ${this.s.name}`, () => exec.start(start as Docker.ExecStartOptions))) as Duplex
    } catch (e) {
      await this.remove()
      throw e
    }
    const data = new Set<(d: string) => void>()
    const exits = new Set<(e: ExitInfo) => void>()
    const decoder = new TextDecoder()
    stream.on("data", (b: Buffer) => {
      const text = decoder.decode(b, { stream: true })
      for (const l of data) l(text)
    })
    stream.on("error", () => {})
    let ended = false
    const onEnd = async () => {
      if (ended) return
      ended = true
      const info = await exec.inspect().catch(() => undefined)
      const e = exitFromStatus(info?.ExitCode)
      await this.remove()
      this.s.onGone?.(e)
      for (const l of exits) l(e)
    }
    stream.once("end", onEnd)
    stream.once("close", onEnd)
    const pid = await exec
      .inspect()
      .then((i) => (i as { Pid?: number }).Pid || undefined)
      .catch(() => undefined)
    return {
      pid,
      onData: (l) => void data.add(l),
      onExit: (l) => void exits.add(l),
      write: (d) => void stream.write(d),
      // Podman answers 201 where dockerode expects 200; the exec may also have just ended.
      resize: (cols, rows) => void exec.resize({ h: rows, w: cols }).catch(() => {}),
      // The keep-alive ends on SIGTERM at once, and claude with it; SIGKILL kills the whole container.
      kill: (signal) => void container.kill({ signal }).catch(() => {}),
    }
  }

  private async create(options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    const { docker } = this.s
    // A container of this name left by an earlier start that was cut short (the daemon died) goes first.
    await docker
      .getContainer(this.s.name)
      .remove({ force: true })
      .catch(() => {})
    const container = await engineCall(`creating ${this.s.name} (image ${this.s.image})`, () => docker.createContainer(options))
    this.id = container.id
    this.removal = undefined
    return container
  }

  /** Removes the container and its injected files; once per container. */
  remove(): Promise<void> {
    if (!this.id) return Promise.resolve()
    const id = this.id
    this.removal ??= this.s.docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch(() => {})
      .then(() => rmSync(this.s.sessionDir, { recursive: true, force: true }))
    return this.removal
  }
}
