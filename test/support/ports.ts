/** A TCP port on 127.0.0.1 that was free a moment ago (for servers that must be told their port up front). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

/** Stop test processes still running: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcesses(procs: readonly (Bun.Subprocess | undefined)[], graceMs = 20_000): Promise<void> {
  for (const p of procs) {
    if (!p || p.exitCode !== null || p.signalCode !== null) continue
    p.kill("SIGTERM")
    if ((await Promise.race([p.exited, Bun.sleep(graceMs).then(() => null)])) === null) p.kill("SIGKILL")
  }
}
