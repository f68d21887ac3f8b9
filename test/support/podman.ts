import type Docker from "dockerode"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

// A real container engine for tests: Podman's Docker-compatible API, served
// from a directory of the test's own (storage, run state, socket, and a
// containers.conf with the settings ENVIRONMENT.md found necessary here:
// runtime runc, lowered nofile/nproc ulimits), so a test never sees or
// touches the host's podman state. The image is imported from a tiny root
// filesystem built on the spot: busybox-static and its applet links, plus
// whatever files a test adds (e.g. a stand-in `claude` script).
//
// If the service cannot start, this throws with podman's own stderr: the
// tests fail loudly, they never skip.

export const TEST_IMAGE = "localhost/scc-test:latest"

const BUSYBOX = "/bin/busybox"
const APPLETS = ["sh", "cat", "echo", "sleep", "env", "id", "ls", "stty", "test", "true", "false", "printf", "head", "wc", "mkdir", "touch", "rm", "stat", "tr", "grep", "sed"]

const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
exit_command_delay = 10
`

export type Podman = {
  dir: string
  socket: string
  dockerHost: string
  docker: Docker
  /** Run the podman CLI against the same storage as the service (for floors and cross-checks). */
  cliArgs(args: string[]): string[]
  cliEnv: Record<string, string>
  /** Import a root filesystem image made of busybox plus `files` (path -> [content, mode]; content may be bytes, e.g. a host library). */
  importImage(name: string, files?: Record<string, [string | Uint8Array, number]>): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

async function waitForSocket(docker: Docker, proc: Bun.Subprocess<"ignore", "ignore", "pipe">, stderrFile: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let exited = false
  proc.exited.then(() => (exited = true))
  let last: unknown
  while (performance.now() < deadline) {
    if (exited) break
    try {
      await docker.ping()
      return
    } catch (e) {
      last = e
    }
    await Bun.sleep(25) // polling a readiness condition, bounded by the deadline
  }
  proc.kill()
  const stderr = await Bun.file(stderrFile).text().catch(() => "")
  throw new Error(`podman system service did not come up (${exited ? `exited ${proc.exitCode}` : `no answer within ${timeoutMs} ms`}; last error: ${String(last)}).\npodman stderr:\n${stderr}`)
}

/**
 * After a test was cut short (a timeout kills the test, not the containers'
 * conmon processes, which are daemons): kill the processes this service
 * started (their command lines name its private directory) and unmount what
 * they left mounted there, so the directory can be removed.
 */
function reapLeftovers(dir: string): void {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir)) process.kill(Number(pid), "SIGKILL")
    } catch {
      // gone already, or not ours to read
    }
  }
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(`${dir}/`))
  for (const m of mounts.reverse()) Bun.spawnSync(["umount", "-l", m], { stdout: "ignore", stderr: "ignore" })
}

export async function startPodman(): Promise<Podman> {
  for (const bin of ["podman", "runc", BUSYBOX]) {
    if (!Bun.which(bin) && !existsSync(bin)) throw new Error(`${bin} is missing: apt-get install -y podman runc busybox-static (see .ci/run)`)
  }
  const dir = mkdtempSync(join(tmpdir(), "scc-podman-"))
  const conf = join(dir, "containers.conf")
  writeFileSync(conf, CONTAINERS_CONF)
  const socket = join(dir, "podman.sock")
  const base = ["podman", "--root", join(dir, "root"), "--runroot", join(dir, "runroot"), "--tmpdir", join(dir, "tmp"), "--storage-driver", "vfs"]
  const cliEnv = { ...(process.env as Record<string, string>), CONTAINERS_CONF: conf, XDG_RUNTIME_DIR: join(dir, "xdg") }
  mkdirSync(cliEnv.XDG_RUNTIME_DIR!, { recursive: true, mode: 0o700 })
  const stderrFile = join(dir, "service.log")
  const proc = Bun.spawn([...base, "system", "service", "--time=0", `unix://${socket}`], {
    env: cliEnv,
    stdin: "ignore",
    stdout: "ignore",
    stderr: Bun.file(stderrFile),
  }) as unknown as Bun.Subprocess<"ignore", "ignore", "pipe">
  const { default: Dockerode } = await import("dockerode")
  const docker = new Dockerode({ socketPath: socket })
  await waitForSocket(docker, proc, stderrFile, 20_000)

  const podman: Podman = {
    dir,
    socket,
    dockerHost: `unix://${socket}`,
    docker,
    cliEnv,
    cliArgs: (args) => [...base, ...args],
    async importImage(name, files = {}) {
      const root = mkdtempSync(join(dir, "rootfs-"))
      for (const d of ["bin", "tmp", "etc", "usr/local/bin", "root"]) mkdirSync(join(root, d), { recursive: true })
      chmodSync(join(root, "tmp"), 0o1777)
      writeFileSync(join(root, "bin", "busybox"), await Bun.file(BUSYBOX).bytes(), { mode: 0o755 })
      for (const a of APPLETS) symlinkSync("busybox", join(root, "bin", a))
      writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n")
      for (const [path, [content, mode]] of Object.entries(files)) {
        const full = join(root, path)
        mkdirSync(join(full, ".."), { recursive: true })
        writeFileSync(full, content, { mode })
      }
      const tar = join(dir, `${Bun.hash(name).toString(16)}.tar`)
      const r = Bun.spawnSync(["tar", "-C", root, "-cf", tar, "."], { stderr: "pipe" })
      if (r.exitCode !== 0) throw new Error(`tar failed: ${r.stderr}`)
      const [repo, tag] = name.split(/:(?=[^:/]+$)/)
      const stream = await docker.importImage(tar, { repo: `${repo}:${tag ?? "latest"}` })
      await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())))
      await docker.getImage(name).inspect() // fails loudly if the import did not land
      rmSync(root, { recursive: true, force: true })
    },
    async [Symbol.asyncDispose]() {
      try {
        for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {})
      } finally {
        proc.kill("SIGTERM")
        await proc.exited
        reapLeftovers(dir)
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
  return podman
}
