import type Docker from "dockerode"
import type { Duplex } from "node:stream"
import * as flag from "../flag"
import { engineCall } from "./containers"

// The interactive session: an exec of `claude` in the container, wired to the
// user's terminal. With a TTY on stdin the terminal goes raw (keys go straight
// to Claude Code), the exec gets a TTY of the same size and follows resizes
// (SIGWINCH), and the terminal is restored however the session ends. Without a
// TTY (piped input) stdin, stdout and stderr are passed through as streams.

export type SessionIO = {
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
}

export type SessionOptions = { command: string[]; workdir: string; io?: SessionIO }

function size(out: NodeJS.WriteStream): { h: number; w: number } | undefined {
  return out.columns && out.rows ? { h: out.rows, w: out.columns } : undefined
}

/** Run the session to its end; returns the exit code of the command in the container. */
export async function runSession(docker: Docker, containerId: string, opts: SessionOptions): Promise<number> {
  const io = opts.io ?? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }
  const tty = Boolean(io.stdin.isTTY && io.stdout.isTTY)
  const exec = await engineCall("starting the session", () =>
    docker.getContainer(containerId).exec({
      Cmd: opts.command,
      WorkingDir: opts.workdir,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: tty,
      ...(tty ? { Env: [`TERM=${flag.envVar("TERM") ?? "xterm-256color"}`] } : {}),
    }),
  )
  // Problem: a TTY exec starts at 0x0 and a resize can only follow the start,
  // so the program would draw its first screen for no size at all. Fix: send
  // the size with the start, as Docker (ConsoleSize, API 1.42+) and Podman
  // (h, w) each accept it; the resize after the start covers older engines.
  const initial = tty ? size(io.stdout) : undefined
  const startOpts = { hijack: true, stdin: true, Tty: tty, ...(initial ? { ConsoleSize: [initial.h, initial.w], h: initial.h, w: initial.w } : {}) }
  const stream = (await engineCall("attaching to the session", () => exec.start(startOpts))) as Duplex
  const ended = new Promise<void>((resolve) => {
    stream.once("end", resolve)
    stream.once("close", resolve)
    stream.once("error", () => resolve())
  })

  const restore: (() => void)[] = []
  if (tty) {
    io.stdin.setRawMode(true)
    restore.push(() => io.stdin.setRawMode(false))
    const resize = () => {
      const s = size(io.stdout)
      // Podman answers 201 where dockerode expects 200; the exec may also have just ended.
      if (s) exec.resize(s).catch(() => {})
    }
    resize()
    process.on("SIGWINCH", resize)
    io.stdout.on("resize", resize)
    restore.push(() => {
      process.off("SIGWINCH", resize)
      io.stdout.off("resize", resize)
    })
    stream.pipe(io.stdout, { end: false })
  } else {
    docker.modem.demuxStream(stream, io.stdout, io.stderr)
  }
  const forward = (chunk: Buffer) => stream.write(chunk)
  const endInput = () => stream.end()
  io.stdin.on("data", forward)
  io.stdin.once("end", endInput)
  io.stdin.resume()
  restore.push(() => {
    io.stdin.off("data", forward)
    io.stdin.off("end", endInput)
    io.stdin.pause()
  })
  // Killed or hung up: detach and restore the terminal rather than die raw.
  // Claude Code keeps running in the container; `start` attaches to it again.
  let signalled: number | undefined
  const onSignal = (name: NodeJS.Signals, code: number) => () => {
    signalled = code
    stream.destroy()
  }
  const handlers = [
    ["SIGTERM", onSignal("SIGTERM", 143)],
    ["SIGHUP", onSignal("SIGHUP", 129)],
    ...(tty ? [] : [["SIGINT", onSignal("SIGINT", 130)] as const]),
  ] as const
  for (const [sig, fn] of handlers) process.on(sig, fn)
  restore.push(() => {
    for (const [sig, fn] of handlers) process.off(sig, fn)
  })
  try {
    await ended
  } finally {
    for (const fn of restore.reverse()) fn()
  }
  if (signalled !== undefined) return signalled
  const info = await engineCall("reading the session's exit status", () => exec.inspect())
  return info.ExitCode ?? 1
}
