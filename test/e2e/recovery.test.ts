import { expect, test } from "bun:test"
import { AcpClient } from "../../src/acp/client"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent } from "./daemon-process"
import { freePort } from "../support/ports"

// A task survives SIGKILL of the daemon: the test agent (the acp client
// library, reconnecting by itself) accepts the task and holds the result;
// the daemon is killed; the restarted daemon requeues what it owned; the
// agent reconnects still running the task, claims it back, and completes it.

test("a running task survives SIGKILL and restart, and completes when its agent reconnects", async () => {
  await using tmp = await tmpdir({ prefix: "cca-e2e-kill-" })
  const env = homeEnv(tmp.path)
  const key = await createKey(env)
  const acpPort = String(freePort())
  let d = await startDaemonProcess(env, ["--acp-port", acpPort])
  let accepted!: (id: string) => void
  const offered = new Promise<string>((r) => (accepted = r))
  let reRegistered!: () => void
  const back = new Promise<void>((r) => (reRegistered = r))
  const agent = new AcpClient({
    url: d.ready.acp,
    apiKey: key,
    agent: { agentId: "survivor-1", role: "survivor" },
    reconnect: { initialDelayMs: 50, maxDelayMs: 300, jitter: 0 },
    handlers: {
      taskAssign: (p) => (accepted(p.taskId), { accepted: true }),
      registered: (_r, afterReconnect) => afterReconnect && reRegistered(),
    },
  })
  try {
    await agent.connect()
    const cca = (args: string[]) => cli(args, { name: "cca", env: { ...env, CCA_API_KEY: key } })
    const id = (await cca(["task", "create", "outlive the daemon", "--role", "survivor"])).stdout.trim()
    expect(await offered).toBe(id)
    await waitForTaskEvent(d.ready, key, id, "accepted")
    expect(agent.runningTasks).toEqual([id])
    const before = await (await api(d.ready, key)("GET", `/api/v1/tasks/${id}`)).json()
    expect(before).toMatchObject({ status: "running", agentId: "survivor-1", attempts: 1 })

    d.proc.kill("SIGKILL")
    expect(await d.exited).toBe(137)
    d = await startDaemonProcess(env, ["--acp-port", acpPort])
    await back
    const reclaimed = await (await api(d.ready, key)("GET", `/api/v1/tasks/${id}`)).json()
    expect(reclaimed).toMatchObject({ status: "running", agentId: "survivor-1", attempts: 2 })

    expect(await agent.result({ taskId: id, status: "completed", output: "still here" })).toEqual({ recorded: true })
    const done = await cca(["task", "watch", id, "--json"])
    expect(done.code).toBe(0)
    const { task, events } = done.json().data
    expect(task).toMatchObject({ status: "completed", result: "still here", attempts: 2 })
    expect(events.map((e: { type: string }) => e.type)).toEqual(["created", "claimed", "accepted", "requeued", "claimed", "completed"])
    expect(events[3].data.reason.code).toBe("daemon_restarted")
  } finally {
    await agent.close()
    d.proc.kill("SIGTERM")
    await d.exited
  }
}, 180_000)
