import { CLAUDE, claudeEnv, SONNET } from "../test/support/claude"
import { startModelServer } from "../test/support/model-server"
import { tmpdir } from "../test/support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess } from "../test/e2e/daemon-process"

const model = await startModelServer([{ match: { lastUserText: /slow job/ }, reply: { content: "done slow", delayMs: 4000 } }])
const tmp = await tmpdir({ prefix: "cca-requeue-" })
const env = homeEnv(tmp.path, { ...claudeEnv(model), CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__AGENTS__MODEL: SONNET, CCA__AGENTS__WORKSPACE: tmp.path, CCA__AGENTS__MAX_AGENTS: "2" })
const key = await createKey(env)
let d = await startDaemonProcess(env)
const t0 = performance.now()
const ids: string[] = []
for (let i = 0; i < 4; i++) {
  const r = await (await api(d.ready, key)("POST", "/api/v1/tasks", { description: `slow job ${i}`, role: "backend" })).json()
  ids.push(r.id)
}
// wait until two running
for (;;) {
  const l = await (await api(d.ready, key)("GET", "/api/v1/tasks?status=running")).json()
  if ((l.items ?? []).length >= 2) break
  await Bun.sleep(100)
}
console.log("two running at", Math.round(performance.now() - t0))
d.proc.kill("SIGKILL"); await d.exited
const tk = performance.now()
d = await startDaemonProcess(env)
const tr = performance.now(); const t0wall = Date.now()
console.log("restart ready after", Math.round(tr - tk))
const seen = new Map<string, string>()
for (;;) {
  const l = await (await api(d.ready, key)("GET", "/api/v1/tasks?limit=10")).json()
  for (const t of l.items) { const k = `${t.id.slice(-4)}:${t.status}`; if (!seen.has(k)) { seen.set(k, ""); console.log(Math.round(performance.now() - tr), k, t.attempts) } }
  if (l.items.every((t: any) => t.status === "completed" || t.status === "failed")) break
  await Bun.sleep(100)
}
console.log("all done after restart", Math.round(performance.now() - tr))
const ev = await (await api(d.ready, key)("GET", `/api/v1/tasks/${ids[0]}`)).json()
console.log(JSON.stringify(ev).slice(0, 400))
d.proc.kill("SIGTERM"); await d.exited
await model.close()
console.log(d.stderr().slice(-3000)); console.log("restart wall", new Date(t0wall).toISOString()); console.log(await Bun.file(d.ready.log).text().then(t=>t.slice(-6000)))
await tmp[Symbol.asyncDispose]()
