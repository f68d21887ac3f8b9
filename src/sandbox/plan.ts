import { join } from "node:path"
import * as flag from "../flag"
import { paths } from "../paths"
import type { EffectiveConfig } from "../governance/types"
import { CLAUDE_MANAGED_DIR, credentialRefs, injectedFiles, POLICY_PATH, SCC_POLICY_DIR, type InjectedFile } from "./inject"
import type { Mount, Workspace } from "./workspace"

// The launch plan: everything `start` will ask the engine for, computed from
// the effective config and the workspace alone. `start --dry-run` prints it;
// `start` executes it. Secrets are never in it: a credential is an env entry
// with its spec (`env:VAR`, `command:CMD`), resolved only at launch.

/** Used when neither the config (`sandbox.image`) nor `--image` names one. */
export const DEFAULT_IMAGE = "docker.io/docker/sandbox-templates:claude-code"

/** Per-container directories of injected files on the host (0700). */
export const sessionsRoot = () => join(paths.sccCacheDir(), "sessions")

export const LABEL = {
  managed: "scc.managed",
  workspace: "scc.workspace",
  branch: "scc.branch",
  team: "scc.team",
  session: "scc.session",
  plan: "scc.plan",
} as const

/** Host variables passed into the container when set: Claude Code's own credentials and endpoint. */
export const FORWARDED_SECRETS = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"] as const
export const FORWARDED_PLAIN = ["ANTHROPIC_BASE_URL"] as const
const PROXY_VARS = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"] as const

export type EnvEntry =
  | { name: string; secret: false; value: string; from: string }
  /** Resolved from `spec` at launch; never printed, logged or written to disk. */
  | { name: string; secret: true; spec: string; from: string }

export type LaunchPlan = {
  container: string
  image: string
  imageSource: string
  workspace: string
  branch: string | null
  team: string | null
  session: string
  labels: Record<string, string>
  mounts: Mount[]
  env: EnvEntry[]
  files: InjectedFile[]
  /** `none` for an isolated network policy, else the engine's default. */
  networkMode: string | null
  /** What runs in the container for the interactive session (an exec, in the workspace). */
  command: string[]
  /** The host directory holding the injected files (mounted read-only). */
  sessionDir: string
}

export type PlanInput = {
  config: EffectiveConfig
  workspace: Workspace
  /** `--image`, already normalised and checked by the governance function (it is config.effective.image then). */
  imageFlag?: string
  sessionsRoot: string
  session?: string
  /** The container's name; default: containerName(workspace, branch). A daemon agent's container is named after the agent. */
  container?: string
}

/** `scc-<dir>-<branch>-<hash>`: stable per workspace and branch, valid as a container name. */
export function containerName(workspace: string, branch: string | null): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "")
  const hash = new Bun.CryptoHasher("sha256").update(`${workspace}\0${branch ?? ""}`).digest("hex").slice(0, 8)
  const dir = clean(workspace.split("/").filter(Boolean).at(-1) ?? "root").slice(0, 30) || "ws"
  const br = branch ? clean(branch).slice(0, 30) : ""
  return ["scc", dir, br, hash].filter(Boolean).join("-")
}

function hostEnv(config: EffectiveConfig): EnvEntry[] {
  const out: EnvEntry[] = []
  for (const name of FORWARDED_SECRETS) if (flag.envVar(name)) out.push({ name, secret: true, spec: `env:${name}`, from: `host ${name}` })
  for (const name of FORWARDED_PLAIN) {
    const value = flag.envVar(name)
    if (value) out.push({ name, secret: false, value, from: `host ${name}` })
  }
  if (config.effective.network_policy === "corp-proxy-only") {
    for (const name of PROXY_VARS) {
      const value = flag.envVar(name)
      if (value) out.push({ name, secret: false, value, from: "host proxy (network_policy: corp-proxy-only)" })
    }
  }
  return out
}

/** A digest of what the container was created with; a reused container must match it. Secret values are not in it. */
function fingerprint(p: Pick<LaunchPlan, "image" | "mounts" | "env" | "networkMode">): string {
  const env = p.env.map((e) => (e.secret ? `${e.name}<${e.spec}>` : `${e.name}=${e.value}`))
  const mounts = p.mounts.map((m) => `${m.source}:${m.target}:${m.readOnly ? "ro" : "rw"}`)
  return new Bun.CryptoHasher("sha256").update(JSON.stringify([p.image, mounts, env.sort(), p.networkMode])).digest("hex").slice(0, 16)
}

export function planLaunch(input: PlanInput): LaunchPlan {
  const { config, workspace } = input
  const image = config.effective.image ?? DEFAULT_IMAGE
  const imageSource = input.imageFlag ? "cli (--image)" : config.effective.image ? "config (sandbox.image)" : "default"
  const container = input.container ?? containerName(workspace.path, workspace.branch)
  const session = input.session ?? crypto.randomUUID()
  const sessionDir = join(input.sessionsRoot, container)
  const refs = credentialRefs(config.effective.mcp_servers)
  const files = injectedFiles(config, refs)
  const mounts: Mount[] = [
    ...workspace.mounts,
    { source: join(sessionDir, "claude-code"), target: CLAUDE_MANAGED_DIR, readOnly: true, why: "managed Claude Code settings and MCP config" },
    { source: join(sessionDir, "scc"), target: SCC_POLICY_DIR, readOnly: true, why: "effective_policy.json (safety net)" },
  ]
  const env: EnvEntry[] = [
    { name: "SCC_MANAGED", secret: false, value: "1", from: "scc" },
    { name: "SCC_POLICY_PATH", secret: false, value: POLICY_PATH, from: "scc" },
    { name: "SCC_WORKSPACE", secret: false, value: workspace.path, from: "scc" },
    ...hostEnv(config),
    ...refs.map((r): EnvEntry => ({ name: r.envName, secret: true, spec: r.spec, from: `mcp_servers.${r.server}.${r.field}.${r.key}` })),
  ]
  const networkMode = config.effective.network_policy === "isolated" ? "none" : null
  const labels = {
    [LABEL.managed]: "true",
    [LABEL.workspace]: workspace.path,
    [LABEL.branch]: workspace.branch ?? "",
    [LABEL.team]: config.team ?? "",
    [LABEL.session]: session,
    [LABEL.plan]: fingerprint({ image, mounts, env, networkMode }),
  }
  return { container, image, imageSource, workspace: workspace.path, branch: workspace.branch, team: config.team, session, labels, mounts, env, files, networkMode, command: ["claude"], sessionDir }
}

export const MASK = "****"

/** The plan as `start --dry-run` prints it: secrets masked (they are not even resolved), files in full. */
export function planView(plan: LaunchPlan) {
  return {
    container: plan.container,
    image: plan.image,
    imageSource: plan.imageSource,
    workspace: plan.workspace,
    branch: plan.branch,
    team: plan.team,
    session: plan.session,
    command: plan.command,
    networkMode: plan.networkMode ?? "default",
    labels: plan.labels,
    mounts: plan.mounts,
    env: plan.env.map((e) => ({ name: e.name, value: e.secret ? MASK : e.value, secret: e.secret, from: e.secret ? `${e.from} (${e.spec})` : e.from })),
    files: plan.files.map((f) => ({ path: f.path, readOnly: true, why: f.why, content: f.content })),
  }
}
