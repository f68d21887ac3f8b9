import type { Subprocess } from "bun"
import { freePort } from "./ports"

// A throwaway redis-server on a free loopback port, no persistence. `stop()`
// and `start()` take it away and bring it back on the same port, for the
// degrade-and-recover tests. Fails loudly when redis-server is missing.

export type RedisServer = {
  url: string
  port: number
  /** Kill the server (SIGKILL: no goodbye to clients), and wait for it to exit. */
  stop(): Promise<void>
  /** Start it again on the same port. */
  start(): Promise<void>
  /** Freeze it (SIGSTOP): connections stay open, nothing answers. */
  pause(): void
  resume(): void
  close(): Promise<void>
}

async function spawnRedis(port: number): Promise<Subprocess<"ignore", "pipe", "pipe">> {
  const bin = Bun.which("redis-server")
  if (!bin) throw new Error("redis-server is not installed: apt-get install -y redis-server (see .ci/run)")
  const proc = Bun.spawn([bin, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "notice"], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  })
  const reader = proc.stdout.getReader()
  let out = ""
  const deadline = Date.now() + 10_000
  while (!out.includes("Ready to accept connections")) {
    const timeout = new Promise<{ done: true; value: undefined }>((r) => setTimeout(() => r({ done: true, value: undefined }), Math.max(0, deadline - Date.now())))
    const { done, value } = await Promise.race([reader.read(), timeout])
    if (done) {
      proc.kill("SIGKILL")
      throw new Error(`redis-server on port ${port} did not start:\n${out}${await new Response(proc.stderr).text()}`)
    }
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  // Keep draining its output so a chatty server never blocks on a full pipe.
  void proc.stdout.pipeTo(new WritableStream()).catch(() => {})
  return proc
}

export async function startRedis(): Promise<RedisServer> {
  const port = freePort()
  let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined = await spawnRedis(port)
  const stop = async () => {
    if (!proc) return
    proc.kill("SIGKILL")
    await proc.exited
    proc = undefined
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    pause: () => proc?.kill("SIGSTOP"),
    resume: () => proc?.kill("SIGCONT"),
    async start() {
      if (proc) throw new Error("redis-server is already running")
      proc = await spawnRedis(port)
    },
    close: stop,
  }
}
