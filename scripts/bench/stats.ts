// `bun run bench stats [runs]`: the fast read commands on realistic data, next
// to a compiled hello-world (the floor) and `scc --version`.
// - `scc stats --json` over a usage log of 500 sessions (a busy user's 90 days)
//   and of 20k sessions (38k lines, ~9 MB: a stress case);
// - `scc audit plugins --json` over 50 installed plugins with three manifests each;
// - appendLine (one session event) in-process, per call.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { appendLine } from "../../src/stats/append"
import { fmt, helloFloor, printTable, stats, timeCommands } from "./_lib"

const runs = Number(process.argv[2] ?? 30)
const dir = mkdtempSync(join(tmpdir(), "bench-stats-"))
const hello = await helloFloor(dir)
const scc = join(import.meta.dir, "..", "..", "dist", "scc")

const now = Date.now()
function usageLog(sessions: number): string {
  const cache = join(dir, `cache-${sessions}`)
  mkdirSync(join(cache, "scc"), { recursive: true })
  const lines: string[] = []
  for (let i = 0; i < sessions; i++) {
    const ts = now - (i % 80) * 86_400_000 - i * 1000
    const base = { v: 1, session: crypto.randomUUID(), user: `h:${(i % 40).toString(16).padStart(16, "0")}`, project: `project-${i % 25}`, team: `team-${i % 6}` }
    lines.push(JSON.stringify({ ...base, type: "session_start", ts: new Date(ts).toISOString(), branch: "scc/work", expected_hours: 8 }))
    if (i % 10) lines.push(JSON.stringify({ ...base, type: "session_end", ts: new Date(ts + 3_600_000).toISOString(), duration_s: 3600, exit_code: 0 }))
  }
  writeFileSync(join(cache, "scc", "usage.jsonl"), `${lines.join("\n")}\n`)
  return cache
}

const home = join(dir, "home")
const plugins: Record<string, unknown[]> = {}
for (let i = 0; i < 50; i++) {
  const root = join(home, ".claude", "plugins", "cache", "acme", `p${i}`, "1.0.0")
  mkdirSync(join(root, ".claude-plugin"), { recursive: true })
  mkdirSync(join(root, "hooks"), { recursive: true })
  writeFileSync(join(root, ".claude-plugin", "plugin.json"), JSON.stringify({ name: `p${i}`, version: "1.0.0" }))
  writeFileSync(join(root, ".mcp.json"), JSON.stringify({ mcpServers: { [`s${i}`]: { type: "http", url: `https://s${i}.example.com/mcp` } } }))
  writeFileSync(join(root, "hooks", "hooks.json"), JSON.stringify({ hooks: { PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "true" }] }] } }))
  plugins[`p${i}@acme`] = [{ scope: "user", installPath: root, version: "1.0.0" }]
}
writeFileSync(join(home, ".claude", "plugins", "installed_plugins.json"), JSON.stringify({ version: 2, plugins }))

const env = (cache: string) => ({ ...process.env, XDG_CACHE_HOME: cache, HOME: home }) as Record<string, string>
const small = env(usageLog(500))
const large = env(usageLog(20_000))
const rows = timeCommands(
  {
    "hello-world (floor)": { cmd: [hello] },
    "scc --version": { cmd: [scc, "--version"], env: small },
    "scc version --json": { cmd: [scc, "version", "--json"], env: small },
    "scc stats --json (500 sessions)": { cmd: [scc, "stats", "--json"], env: small },
    "scc stats --json (20k sessions, 9 MB)": { cmd: [scc, "stats", "--json"], env: large },
    "scc audit plugins --json (50 plugins)": { cmd: [scc, "audit", "plugins", "--json"], env: small },
  },
  runs,
)
printTable(`read commands, ${runs} runs each (wall time of the whole process)`, rows, "hello-world (floor)")

const file = join(dir, "append.jsonl")
const event = JSON.stringify({ v: 1, type: "session_end", ts: new Date().toISOString(), session: crypto.randomUUID(), user: null, project: "p", team: null, duration_s: 1, exit_code: 0 })
const samples: number[] = []
for (let i = 0; i < 2000; i++) {
  const t0 = performance.now()
  appendLine(file, event)
  samples.push(performance.now() - t0)
}
const a = stats(samples)
console.log(`\nappendLine (open, write, close, inode check), 2000 calls: p50 ${fmt(a.p50)}, p95 ${fmt(a.p95)}, p99 ${fmt(a.p99)}`)
rmSync(dir, { recursive: true, force: true })
