import type Docker from "dockerode"
import { chmodSync, mkdirSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { ConfigError, ConflictError, ToolError } from "../errors"
import { writeFileAtomic } from "../files"
import { registerSecret } from "../log"
import { engineCall, listManaged, removeContainer, type ManagedContainer } from "./containers"
import { LABEL, type EnvEntry, type LaunchPlan } from "./plan"

// Executing a launch plan against the engine: reuse the container of this
// workspace and branch when there is one (attach if running, start if
// stopped), or create it. Injected files are (re)written on every launch, so
// a reused container always runs under the policy computed just now.
//
// Files get in by bind mount, not by copying into the container: two host
// directories per container (~/.cache/scc/sessions/<name>/{claude-code,scc})
// mounted read-only at /etc/claude-code and /etc/scc. A read-only mount cannot
// be changed from inside, even by root, and rewriting the files on the host
// updates a running container (whole directories are mounted, so an atomic
// rename is seen; a single-file mount would keep the old inode). The sessions
// directory is 0700; the mounted directories 0755 and files 0644 so whatever
// user the image runs as can read them. They hold no secrets.

/** Turns a credential spec (`env:VAR`, `command:CMD`) into its value. */
export type SecretResolver = (spec: string) => Promise<string>

export type LaunchAction = "created" | "started" | "attached"

export type LaunchResult = { id: string; container: string; action: LaunchAction; replaced: boolean }

export type LaunchOptions = {
  fresh?: boolean
  resolveSecret: SecretResolver
  /** Progress and notices for the user (stderr). */
  notify?: (message: string) => void
}

/** The container's keep-alive process: PID 1 exits on SIGTERM at once, so `stop` takes no grace period. */
export const KEEPALIVE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"]

export function writeSessionFiles(plan: LaunchPlan): void {
  mkdirSync(dirname(plan.sessionDir), { recursive: true, mode: 0o700 })
  chmodSync(dirname(plan.sessionDir), 0o700)
  for (const dir of new Set(plan.files.map((f) => f.dir))) {
    mkdirSync(join(plan.sessionDir, dir), { recursive: true, mode: 0o755 })
    chmodSync(join(plan.sessionDir, dir), 0o755)
  }
  for (const f of plan.files) writeFileAtomic(join(plan.sessionDir, f.dir, f.path.split("/").at(-1)!), f.content, 0o644)
}

/** `NAME=value` for the engine; secrets resolved here, registered for redaction, kept in memory only. */
export async function resolveEnv(env: readonly EnvEntry[], resolveSecret: SecretResolver): Promise<string[]> {
  const out: string[] = []
  for (const e of env) {
    if (!e.secret) {
      out.push(`${e.name}=${e.value}`)
      continue
    }
    let value: string
    try {
      value = await resolveSecret(e.spec)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      const variable = e.spec.startsWith("env:") ? e.spec.slice(4) : undefined
      throw new ConfigError(`cannot resolve the credential for ${e.from} (${e.spec}): ${why}`, {
        hint: variable ? `export ${variable}=<value> before scc start (it is passed to the container as ${e.name})` : "run that command by hand and fix what it reports",
        cause: err,
      })
    }
    registerSecret(value)
    out.push(`${e.name}=${value}`)
  }
  return out
}

async function pullImage(docker: Docker, image: string, notify: (m: string) => void): Promise<void> {
  notify(`pulling ${image} ...`)
  const events = await engineCall(`pulling ${image}`, async () => {
    const stream = await docker.pull(image)
    return new Promise<{ error?: string }[]>((resolve, reject) => docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out))))
  })
  // A failed pull is reported inside the progress stream, not as an HTTP status.
  const failed = events.find((e) => typeof e.error === "string")
  if (failed) {
    throw new ToolError(`pulling ${image} failed: ${failed.error}`, {
      hint: `check the image name and that its registry is reachable (or pull it yourself); the image comes from sandbox.image or --image`,
    })
  }
}

const isMissingImage = (e: unknown) => (e as { statusCode?: number }).statusCode === 404

/** Create the container; the image is pulled only when the engine says it is missing (one round trip saved per launch). */
async function create(docker: Docker, plan: LaunchPlan, env: string[], notify: (m: string) => void): Promise<string> {
  const options = containerOptions(plan, env)
  try {
    return (await docker.createContainer(options)).id
  } catch (e) {
    if (!isMissingImage(e)) return engineCall(`creating ${plan.container}`, () => Promise.reject(e))
  }
  await pullImage(docker, plan.image, notify)
  return (await engineCall(`creating ${plan.container}`, () => docker.createContainer(options))).id
}

function containerOptions(plan: LaunchPlan, env: string[]): Docker.ContainerCreateOptions {
  return {
    name: plan.container,
    Image: plan.image,
    Entrypoint: KEEPALIVE,
    Cmd: [],
    Labels: plan.labels,
    Env: env,
    WorkingDir: plan.workspace,
    HostConfig: {
      Mounts: plan.mounts.map((m) => ({ Type: "bind" as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      ...(plan.networkMode ? { NetworkMode: plan.networkMode } : {}),
    },
  }
}

/** Run the plan: reuse, start or create the container. Leaves it running. */
export async function ensureContainer(docker: Docker, plan: LaunchPlan, opts: LaunchOptions): Promise<LaunchResult> {
  const notify = opts.notify ?? (() => {})
  let replaced = false
  // A daemon agent's container of the same workspace is the agent's, never a session to attach to.
  const existing: ManagedContainer | undefined = (await listManaged(docker, { workspace: plan.workspace, branch: plan.branch })).find((c) => c.agent === null)
  if (existing) {
    const stale = existing.labels[LABEL.plan] !== plan.labels[LABEL.plan]
    const running = existing.state === "running" || existing.state === "paused"
    if (stale && running && !opts.fresh) {
      throw new ConflictError(`${existing.name} is running with a different launch plan (image, mounts or environment changed)`, {
        hint: `scc start --fresh replaces it (the running session in it ends), or scc stop ${existing.name} first`,
      })
    }
    if (opts.fresh || stale) {
      notify(`${opts.fresh ? "replacing" : "replacing stale"} container ${existing.name}`)
      await removeContainer(docker, existing, dirname(plan.sessionDir))
      replaced = true
    } else {
      writeSessionFiles(plan)
      if (running) return { id: existing.id, container: existing.name, action: "attached", replaced }
      await engineCall(`starting ${existing.name}`, () => docker.getContainer(existing.id).start())
      return { id: existing.id, container: existing.name, action: "started", replaced }
    }
  }
  const env = await resolveEnv(plan.env, opts.resolveSecret)
  writeSessionFiles(plan)
  let id: string
  try {
    id = await create(docker, plan, env, notify)
  } catch (e) {
    rmSync(plan.sessionDir, { recursive: true, force: true })
    throw e
  }
  await engineCall(`starting ${plan.container}`, () => docker.getContainer(id).start())
  return { id, container: plan.container, action: "created", replaced }
}
