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
  const stream = (await engineCall("attaching to the session", () => exec.start({ hijack: true, stdin: true, Tty: tty }))) as Duplex
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
      if (s) exec.resize(s).catch(() => {}) // the exec may have just ended
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
  try {
    await ended
  } finally {
    for (const fn of restore.reverse()) fn()
  }
  const info = await engineCall("reading the session's exit status", () => exec.inspect())
  return info.ExitCode ?? 1
}
