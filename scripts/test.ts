// `bun run test [files...]`: check that the programs the tests start for real
// are installed, build the binary the CLI tests run, then bun test.
import { existsSync, readdirSync } from "node:fs"

const root = `${import.meta.dir}/..`
const run = (cmd: string[]) => Bun.spawnSync(cmd, { cwd: root, stdout: "inherit", stderr: "inherit", stdin: "inherit" }).exitCode ?? 1

// The tests start real servers and tools; none is mocked, and a missing one
// would fail dozens of tests with the same cause. Say it once instead.
const needs: [string, () => boolean][] = [
  ["git", () => Bun.which("git") !== null],
  ["redis-server", () => Bun.which("redis-server") !== null],
  ["podman", () => Bun.which("podman") !== null],
  ["runc", () => Bun.which("runc") !== null || existsSync("/usr/sbin/runc")],
  ["busybox-static", () => existsSync("/bin/busybox")],
  ["chromium", () => existsSync("/usr/bin/chromium")],
  ["postgresql", () => existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))],
]
const missing = needs.filter(([, present]) => !present()).map(([name]) => name)
if (missing.length > 0) {
  console.error(`The tests need these Debian packages, which are missing: ${missing.join(", ")}.`)
  console.error(`Try: sudo apt-get install -y ${missing.join(" ")}   (or \`bash .ci/run\`, which installs them as root and runs the tests)`)
  process.exit(5)
}

const built = run([process.execPath, "run", "build"])
if (built !== 0) process.exit(built)
// bunfig's [test] timeout is not read by this Bun; the default is 5 s, too short
// for tests that start real servers and the real claude.
process.exit(run([process.execPath, "test", "--timeout=60000", ...process.argv.slice(2)]))
