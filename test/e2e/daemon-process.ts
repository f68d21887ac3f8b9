import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { binary, cli, type CliResult } from "../support/cli"

// The compiled binary as a daemon: its own HOME (so its own data dir, keys and
// pid file), free ports, and the ready line it prints on stdout.

export type Ready = { ready: true; http: string; acp: string; pid: number; daemonId: string; version: string; log: string }

export type DaemonProcess = {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">
  ready: Ready
  /** stderr so far (for failure messages). */
  stderr(): string
  exited: Promise<number>
}

export function homeEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  // No local agents unless the test configures them: otherwise the daemon would
  // spawn a real `claude` (found on bun run's PATH) for every pending task.
  const wantsAgents = Object.keys(extra).some((k) => k.startsWith("CCA__AGENTS__"))
  // Memory off unless the test is about it: an injected pattern quotes an earlier task's
  // description, which would match another rule of the scripted model.
  const wantsMemory = Object.keys(extra).some((k) => k.startsWith("CCA__MEMORY__"))
  // Any task role accepted unless the test sets tasks.roles: tests queue tasks for agents that connect later.
  const wantsRoles = Object.keys(extra).some((k) => k === "CCA__TASKS__ROLES")
  const env: Record<string, string> = {
    ...(wantsRoles ? {} : { CCA__TASKS__ROLES: "*" }),
    ...(wantsAgents ? {} : { CCA__AGENTS__MAX_AGENTS: "0" }),
    ...(wantsMemory ? {} : { CCA__MEMORY__ENABLED: "false" }),
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    ...extra,
  }
  for (const d of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"]) mkdirSync(env[d]!, { recursive: true })
  return env
}

/** `cca keys create --json` in that home; returns the key. */
export async function createKey(env: Record<string, string>): Promise<string> {
  const r = await cli(["keys", "create", "--name", "e2e", "--json"], { name: "cca", env })
  if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr}`)
  return r.json().data.key as string
}

export async function startDaemonProcess(env: Record<string, string>, args: string[] = [], timeoutMs = 90_000): Promise<DaemonProcess> {
  const full: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) full[k] = v
  // free ports unless the test names its own (a flag given twice is an error)
  const ports = ["--port", "--acp-port"].flatMap((f) => (args.includes(f) ? [] : [f, "0"]))
  const proc = Bun.spawn([binary("cca"), "daemon", ...ports, ...args], { env: full, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  let err = ""
  const errDone = (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk)
  })()
  const reader = proc.stdout.getReader()
  let out = ""
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs)
  try {
    while (!out.includes("\n")) {
      const { value, done } = await reader.read()
      if (done) {
        await errDone
        throw new Error(`the daemon exited before it was ready (code ${await proc.exited}):\n${err}`)
      }
      out += new TextDecoder().decode(value)
    }
  } finally {
    clearTimeout(timer)
  }
  const ready = JSON.parse(out.slice(0, out.indexOf("\n"))) as Ready
  // keep draining stdout so the daemon never blocks on a full pipe
  void (async () => {
    for (;;) if ((await reader.read()).done) break
  })()
  return { proc, ready, stderr: () => err, exited: proc.exited }
}

export function api(ready: Ready, key: string | null) {
  return async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${ready.http}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
}

/** Read a task's event stream until an event of `type` arrives. */
export async function waitForTaskEvent(ready: Ready, key: string, id: string, type: string): Promise<void> {
  const res = await api(ready, key)("GET", `/api/v1/tasks/${id}/events`)
  const reader = res.body!.getReader()
  let text = ""
  while (!text.includes(`event: ${type}\n`)) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream of task ${id} ended without ${type}: ${text}`)
    text += new TextDecoder().decode(value)
  }
  await reader.cancel()
}

export type { CliResult }
