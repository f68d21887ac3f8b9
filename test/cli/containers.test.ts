import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { LABEL } from "../../src/sandbox/plan"
import { cli } from "../support/cli"
import { startPodman, TEST_IMAGE, type Podman } from "../support/podman"

// `list`, `stop` and `prune` through the compiled binary against a real
// engine: they see and touch only containers labelled scc.managed=true.

let pm: Podman
let env: Record<string, string>
const KEEPALIVE = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 86400 & wait $!; done"]

async function container(name: string, labels: Record<string, string>, running = true): Promise<string> {
  const c = await pm.docker.createContainer({ name, Image: TEST_IMAGE, Entrypoint: KEEPALIVE, Cmd: [], Labels: labels })
  if (running) await c.start()
  return c.id
}

const managed = (workspace: string, branch: string) => ({ [LABEL.managed]: "true", [LABEL.workspace]: workspace, [LABEL.branch]: branch, [LABEL.team]: "platform", [LABEL.session]: "s-1" })

async function state(name: string): Promise<string | null> {
  try {
    return (await pm.docker.getContainer(name).inspect()).State.Status
  } catch {
    return null
  }
}

beforeAll(async () => {
  pm = await startPodman()
  await pm.importImage(TEST_IMAGE)
  env = { DOCKER_HOST: pm.dockerHost }
  await container("scc-app-main-1", managed("/work/app", "main"))
  await container("scc-app-feature-2", managed("/work/app", "feature"), false)
  await container("scc-other-main-3", managed("/work/other", "main"))
  await container("bystander-running", { "com.example": "x" })
  await container("bystander-stopped", { [LABEL.managed]: "false" }, false)
})

afterAll(async () => {
  await pm?.[Symbol.asyncDispose]()
})

describe("list", () => {
  test("--json lists only managed containers, with their labels decoded", async () => {
    const r = await cli(["list", "--json"], { env })
    expect(r.code).toBe(0)
    const data = r.json().data as { name: string; state: string; workspace: string; branch: string; team: string }[]
    expect(data.map((c) => c.name)).toEqual(["scc-app-feature-2", "scc-app-main-1", "scc-other-main-3"])
    expect(data[1]).toMatchObject({ state: "running", workspace: "/work/app", branch: "main", team: "platform" })
    expect(data[0]!.state).not.toBe("running")
  })

  test("text output is a table", async () => {
    const r = await cli(["list"], { env })
    expect(r.code).toBe(0)
    expect(r.stdout.split("\n")[0]).toMatch(/^NAME\s+STATE\s+BRANCH\s+TEAM\s+AGENT\s+IMAGE\s+WORKSPACE$/)
    expect(r.stdout).not.toContain("bystander")
  })

  test("no engine: exit 5 with a hint", async () => {
    const r = await cli(["list", "--json"], { env: { DOCKER_HOST: "unix:///nonexistent/engine.sock" } })
    expect(r.code).toBe(5)
    expect(r.json().status.errors[0]).toMatchObject({ code: "missing_prerequisite" })
    expect(r.stderr).toContain("Try:")
  })
})

describe("stop and prune", () => {
  test("stop NAME stops that managed container; an unmanaged name is not found", async () => {
    const r = await cli(["stop", "scc-other-main-3", "--json"], { env })
    expect(r.code).toBe(0)
    expect(r.json().data.stopped).toEqual(["scc-other-main-3"])
    expect(await state("scc-other-main-3")).toBe("exited")
    const other = await cli(["stop", "bystander-running"], { env })
    expect(other.code).toBe(1)
    expect(await state("bystander-running")).toBe("running")
  })

  test("stop with neither a name nor --all stops the current workspace's containers", async () => {
    const ws = join(pm.dir, "ws")
    mkdirSync(ws, { recursive: true })
    await container("scc-ws-main-4", managed(ws, "main"))
    const r = await cli(["stop", "--json"], { env, cwd: ws })
    expect(r.code).toBe(0)
    expect(r.json().data.stopped).toEqual(["scc-ws-main-4"])
    expect(await state("scc-app-main-1")).toBe("running")
  })

  test("prune --dry-run removes nothing; prune removes stopped managed containers only", async () => {
    const before = (await cli(["prune", "--dry-run", "--json"], { env })).json().data
    expect(before.removed).toEqual(["scc-app-feature-2", "scc-other-main-3", "scc-ws-main-4"])
    expect(await state("scc-app-feature-2")).not.toBeNull()
    const sessions = join(process.env.XDG_CACHE_HOME!, "scc", "sessions", "scc-other-main-3")
    mkdirSync(sessions, { recursive: true })

    const r = await cli(["prune", "--json"], { env })
    expect(r.code).toBe(0)
    expect(r.json().data.removed).toEqual(["scc-app-feature-2", "scc-other-main-3", "scc-ws-main-4"])
    for (const gone of ["scc-app-feature-2", "scc-other-main-3", "scc-ws-main-4"]) expect(await state(gone)).toBeNull()
    expect(existsSync(sessions)).toBe(false)
    expect(await state("scc-app-main-1")).toBe("running")
    expect(await state("bystander-running")).toBe("running")
    expect(await state("bystander-stopped")).toBe("created")
  })

  test("stop --all stops every managed container and nothing else", async () => {
    const r = await cli(["stop", "--all", "--json"], { env })
    expect(r.code).toBe(0)
    expect(r.json().data.stopped).toEqual(["scc-app-main-1"])
    expect(await state("scc-app-main-1")).toBe("exited")
    expect(await state("bystander-running")).toBe("running")
    expect((await cli(["stop", "x", "--all"], { env })).code).toBe(2)
  })
})
