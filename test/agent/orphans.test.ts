import { expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { tmpdir } from "../support/tmpdir"

// Issue 15, probe item 7: an agent dies with the process that started it, even
// when that process is SIGKILLed (parent-death signal via setpriv).

/** Running (a zombie waiting for its new parent to reap it counts as dead). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return !/^\d+ \(.*\) [ZX] /.test(stat)
  } catch {
    return false
  }
}

test("an agent started by localHost dies within 2 s of its parent's SIGKILL", async () => {
  await using tmp = await tmpdir()
  const script = join(tmp.path, "parent.ts")
  await Bun.write(
    script,
    `import { localHost } from ${JSON.stringify(join(import.meta.dir, "../../src/agent/process.ts"))}
const child = await localHost.spawn({ argv: ["sleep", "60"], cwd: process.cwd(), env: { PATH: process.env.PATH ?? "" } })
console.log(child.pid)
await new Promise(() => {})
`,
  )
  const parent = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" })
  const reader = parent.stdout.getReader()
  let out = ""
  while (!out.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error("the parent exited before printing its child's pid")
    out += new TextDecoder().decode(value)
  }
  const pid = Number(out.trim())
  expect(alive(pid)).toBe(true)
  // setpriv sets the parent-death signal, then execs the agent: kill the parent only once the
  // child runs the agent's program (before that, a parent dying first is a race no signal covers).
  const comm = () => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim()
    } catch {
      return ""
    }
  }
  const t = performance.now()
  while (comm() !== "sleep" && performance.now() - t < 5000) await Bun.sleep(5)
  expect(comm()).toBe("sleep")
  parent.kill("SIGKILL")
  await parent.exited
  const t0 = performance.now()
  while (alive(pid) && performance.now() - t0 < 2000) await Bun.sleep(20)
  const still = alive(pid)
  if (still) process.kill(pid, "SIGKILL")
  expect(still).toBe(false)
})
