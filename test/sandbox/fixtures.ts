import type Docker from "dockerode"
import type { EffectiveConfig } from "../../src/governance/types"

// Effective configs for sandbox tests that run below the governance engine
// (the CLI tests go through the real org config and merge instead).

export function effectiveConfig(over: Partial<EffectiveConfig["effective"]> = {}, team: string | null = "platform"): EffectiveConfig {
  return {
    team,
    effective: {
      plugins: ["reviewer@acme-tools"],
      mcp_servers: [
        { name: "github", type: "http", url: "https://mcp.example.com/github", headers: { Authorization: "env:SCC_TEST_GH_TOKEN", "X-Team": "platform" }, source: "org.defaults" },
        { name: "files", type: "stdio", command: "/usr/local/bin/files-mcp", args: ["--root", "/work"], env: { FILES_TOKEN: "env:SCC_TEST_FILES_TOKEN", MODE: "ro" }, source: `team.platform` },
      ],
      marketplaces: { "acme-tools": { source: "github", repo: "acme/claude-tools" } },
      session: { timeout_hours: 8, auto_resume: false },
      network_policy: "unrestricted",
      safety_net: { action: "block", block_force_push: true, block_reset_hard: true, block_branch_force_delete: true, block_clean: false },
      image: null,
      ...over,
    },
    decisions: [],
    blocked: [],
    denied: [],
    exceptions: [],
    warnings: [],
  }
}

/** Run a command in a running container and return its stdout (stderr appended on failure). */
export async function execIn(docker: Docker, id: string, cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({ hijack: true, stdin: false })
  const { PassThrough } = await import("node:stream")
  const out = new PassThrough()
  const err = new PassThrough()
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] }
  out.on("data", (b: Buffer) => chunks.out.push(b))
  err.on("data", (b: Buffer) => chunks.err.push(b))
  docker.modem.demuxStream(stream, out, err)
  await new Promise((resolve) => stream.on("end", resolve))
  const info = await exec.inspect()
  return { code: info.ExitCode ?? -1, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() }
}

/** The shared libraries (and the loader) a binary needs, as `ldd` names them: path -> bytes, for an image built from host files. */
export async function glibcFiles(binary: string): Promise<Record<string, [Uint8Array, number]>> {
  const { realpathSync } = await import("node:fs")
  const r = Bun.spawnSync(["ldd", binary], { stdout: "pipe", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`ldd ${binary} failed: ${r.stderr}`)
  const files: Record<string, [Uint8Array, number]> = {}
  for (const m of r.stdout.toString().matchAll(/(\/\S+)\s+\(0x/g)) files[m[1]!.slice(1)] = [await Bun.file(realpathSync(m[1]!)).bytes(), 0o755]
  return files
}
