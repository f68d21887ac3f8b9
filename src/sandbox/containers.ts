import type Docker from "dockerode"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { NotFoundError, ToolError } from "../errors"
import { LABEL } from "./plan"

// Managed containers: the ones carrying `scc.managed=true`. list, stop and
// prune never look at, let alone touch, any other container on the engine.

/** Set on a daemon agent's container (src/pool/sandbox.ts): the agent's id. `start` never reuses such a container. */
export const AGENT_ID_LABEL = "cca.agent"

export type ManagedContainer = {
  id: string
  name: string
  image: string
  /** The engine's state: created, running, exited, paused, ... */
  state: string
  status: string
  workspace: string
  branch: string | null
  team: string | null
  session: string | null
  /** The daemon agent running in it, for an agent's container. */
  agent: string | null
  created: string
  labels: Record<string, string>
}

type Summary = Awaited<ReturnType<Docker["listContainers"]>>[number]

function fromSummary(c: Summary): ManagedContainer {
  const labels = c.Labels ?? {}
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ""),
    image: c.Image,
    state: c.State,
    status: c.Status,
    workspace: labels[LABEL.workspace] ?? "",
    branch: labels[LABEL.branch] || null,
    team: labels[LABEL.team] || null,
    session: labels[LABEL.session] || null,
    agent: labels[AGENT_ID_LABEL] || null,
    created: new Date(c.Created * 1000).toISOString(),
    labels,
  }
}

/** Wrap an engine call so its failure is a ToolError (exit 4) naming what was being done. */
export async function engineCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    if (e instanceof Error && "statusCode" in e) {
      const body = (e as { json?: { message?: string } }).json?.message ?? e.message
      throw new ToolError(`container engine: ${what} failed: ${body}`, { cause: e, details: { statusCode: (e as { statusCode: unknown }).statusCode } })
    }
    throw e
  }
}

export async function listManaged(docker: Docker, match: { workspace?: string; branch?: string | null } = {}): Promise<ManagedContainer[]> {
  const label = [`${LABEL.managed}=true`]
  if (match.workspace !== undefined) label.push(`${LABEL.workspace}=${match.workspace}`)
  const found = await engineCall("listing containers", () => docker.listContainers({ all: true, filters: { label } }))
  // Filtering on an empty label value is not portable across engines: match the branch here.
  return found
    .map(fromSummary)
    .filter((c) => c.labels[LABEL.managed] === "true")
    .filter((c) => match.branch === undefined || c.branch === match.branch)
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** The managed container called `name` (or whose id starts with it). */
export async function findManaged(docker: Docker, name: string): Promise<ManagedContainer> {
  const all = await listManaged(docker)
  const hit = all.find((c) => c.name === name) ?? all.find((c) => c.id.startsWith(name))
  if (!hit) {
    throw new NotFoundError(`no scc-managed container named ${name}`, { hint: "scc list shows the managed containers" })
  }
  return hit
}

export async function stopContainer(docker: Docker, c: ManagedContainer): Promise<boolean> {
  if (c.state !== "running" && c.state !== "paused") return false
  await engineCall(`stopping ${c.name}`, () => docker.getContainer(c.id).stop({ t: 5 }))
  return true
}

export async function removeContainer(docker: Docker, c: Pick<ManagedContainer, "id" | "name">, sessionsRoot: string): Promise<void> {
  await engineCall(`removing ${c.name}`, () => docker.getContainer(c.id).remove({ force: true, v: true }))
  rmSync(join(sessionsRoot, c.name), { recursive: true, force: true })
}

/** A name, every managed container, or (neither given) the containers of one workspace. */
export type StopTarget = { name: string } | { all: true } | { workspace: string }

async function stopTargets(docker: Docker, target: StopTarget): Promise<ManagedContainer[]> {
  if ("all" in target) return listManaged(docker)
  if ("name" in target) return [await findManaged(docker, target.name)]
  const found = await listManaged(docker, { workspace: target.workspace })
  if (found.length === 0) {
    throw new NotFoundError(`no scc-managed container for ${target.workspace}`, { hint: "scc stop NAME (see scc list), or scc stop --all" })
  }
  return found
}

/** Stop the targeted managed containers; returns those that were running. */
export async function stopManaged(docker: Docker, target: StopTarget): Promise<ManagedContainer[]> {
  const targets = await stopTargets(docker, target)
  const stopped: ManagedContainer[] = []
  for (const c of targets) if (await stopContainer(docker, c)) stopped.push(c)
  return stopped
}

/** Remove every managed container that is not running (and its injected files); running ones are left alone. */
export async function pruneManaged(docker: Docker, sessionsRoot: string, opts: { dryRun?: boolean } = {}): Promise<ManagedContainer[]> {
  const idle = (await listManaged(docker)).filter((c) => c.state !== "running" && c.state !== "paused")
  if (!opts.dryRun) for (const c of idle) await removeContainer(docker, c, sessionsRoot)
  return idle
}
