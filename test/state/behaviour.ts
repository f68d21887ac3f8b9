import { afterAll, afterEach, expect, test } from "bun:test"
import { Channels, type Channel, type StateStore } from "../../src/state/types"

// The behaviour every StateStore must show, run against each implementation
// (state.test.ts). A fixture supplies a fresh store per test, a clock it
// controls (for heartbeat times) and a way to make an agent's state expire.

export type StateFixture = {
  store: StateStore
  /** Move the store's clock forward. */
  advance(ms: number): void
  /** Let the agent's state, written with `ttlMs`, expire the way the backend expires it (agents with longer TTLs live on). */
  expireAgent(id: string, ttlMs: number): Promise<void>
  close(): Promise<void>
}

/** Subscribe (waiting until the subscription is live), and resolve `message` with the first message. */
export async function nextMessage(store: StateStore, channel: Channel, timeoutMs = 5000): Promise<{ message: Promise<unknown> }> {
  let resolve!: (m: unknown) => void
  let reject!: (e: Error) => void
  const message = new Promise<unknown>((res, rej) => ((resolve = res), (reject = rej)))
  const off = await store.subscribe(channel, (m) => {
    clearTimeout(timer)
    off()
    resolve(m)
  })
  const timer = setTimeout(() => {
    off()
    reject(new Error(`no message on ${channel} within ${timeoutMs} ms`))
  }, timeoutMs)
  return { message }
}

export function stateBehaviour(name: string, setup: () => Promise<StateFixture>, teardownAll?: () => Promise<void>): void {
  let fx: StateFixture
  afterEach(async () => {
    await fx?.close()
  })
  if (teardownAll) afterAll(teardownAll)

  const fresh = async () => {
    fx = await setup()
    return fx
  }

  test(`${name}: agent state round-trips, with heartbeat and update times`, async () => {
    const { store, advance } = await fresh()
    const set = await store.setAgent({ id: "backend-1", role: "backend", status: "idle", pid: 42, metadata: { model: "m" } })
    expect(set.lastHeartbeatAt).toBe(set.updatedAt)
    const got = await store.getAgent("backend-1")
    expect(got).toEqual(set)
    expect(got).toMatchObject({ id: "backend-1", role: "backend", status: "idle", pid: 42, metadata: { model: "m" } })

    advance(1000)
    expect(await store.heartbeat("backend-1")).toBe(true)
    const beat = await store.getAgent("backend-1")
    expect(beat!.lastHeartbeatAt).toBe(set.lastHeartbeatAt + 1000)
    expect(beat!.updatedAt).toBe(set.updatedAt)
    expect(await store.heartbeat("nobody")).toBe(false)
    expect(await store.getAgent("nobody")).toBeUndefined()
  })

  test(`${name}: listAgents is ordered by id and drops expired agents`, async () => {
    const { store, expireAgent } = await fresh()
    for (const id of ["qa-1", "backend-2"]) await store.setAgent({ id, role: id.split("-")[0]!, status: "idle" })
    await store.setAgent({ id: "frontend-1", role: "frontend", status: "idle" }, 1000)
    expect((await store.listAgents()).map((a) => a.id)).toEqual(["backend-2", "frontend-1", "qa-1"])
    await expireAgent("frontend-1", 1000)
    expect(await store.getAgent("frontend-1")).toBeUndefined()
    expect(await store.heartbeat("frontend-1")).toBe(false) // an expired agent cannot be revived by a heartbeat
    expect((await store.listAgents()).map((a) => a.id)).toEqual(["backend-2", "qa-1"])
    await store.removeAgent("qa-1")
    expect((await store.listAgents()).map((a) => a.id)).toEqual(["backend-2"])
  })

  test(`${name}: sessions are kept, replaced and deleted`, async () => {
    const { store } = await fresh()
    expect(await store.getSession("s1")).toBeUndefined()
    await store.setSession("s1", { agentId: "backend-1", turns: 1 })
    await store.setSession("s1", { agentId: "backend-1", turns: 2 })
    expect(await store.getSession("s1")).toEqual({ agentId: "backend-1", turns: 2 })
    await store.deleteSession("s1")
    expect(await store.getSession("s1")).toBeUndefined()
  })

  test(`${name}: an agent's task queue is first in, first out`, async () => {
    const { store } = await fresh()
    expect(await store.pushTask("a1", "t1")).toBe(1)
    expect(await store.pushTask("a1", "t2")).toBe(2)
    expect(await store.pushTask("a1", "t3")).toBe(3)
    await store.pushTask("a2", "u1")
    expect(await store.agentTasks("a1")).toEqual(["t1", "t2", "t3"])
    expect(await store.removeTask("a1", "t2")).toBe(true)
    expect(await store.removeTask("a1", "t2")).toBe(false)
    expect(await store.popTask("a1")).toBe("t1")
    expect(await store.popTask("a1")).toBe("t3")
    expect(await store.popTask("a1")).toBeUndefined()
    expect(await store.agentTasks("a2")).toEqual(["u1"])
  })

  test(`${name}: pub/sub delivers a copy to every subscriber of the channel, and only that channel`, async () => {
    const { store } = await fresh()
    const got: { ch: string; m: unknown }[] = []
    const offA = await store.subscribe(Channels.broadcast, (m, ch) => got.push({ ch, m }))
    const offB = await store.subscribe(Channels.coord, (m, ch) => got.push({ ch, m }))
    const message = { type: "hello", n: 1, nested: { list: [1, 2] } }
    const arrived = await nextMessage(store, Channels.broadcast)
    await store.publish(Channels.broadcast, message)
    expect(await arrived.message).toEqual(message)
    expect(await arrived.message).not.toBe(message)
    expect(got).toEqual([{ ch: Channels.broadcast, m: message }])

    offA()
    offB()
    const after = await nextMessage(store, Channels.status)
    await store.publish(Channels.broadcast, { type: "unheard" })
    await store.publish(Channels.status, { type: "status" })
    expect(await after.message).toEqual({ type: "status" })
    expect(got).toHaveLength(1) // the unsubscribed handlers heard nothing more
  })

  test(`${name}: a subscriber that throws does not keep the message from the others`, async () => {
    const { store } = await fresh()
    await store.subscribe(Channels.status, () => {
      throw new Error("bad subscriber")
    })
    const arrived = await nextMessage(store, Channels.status)
    await store.publish(Channels.status, { ok: true })
    expect(await arrived.message).toEqual({ ok: true })
  })

  test(`${name}: reports healthy`, async () => {
    const { store } = await fresh()
    expect(store.health()).toMatchObject({ backend: store.backend, state: "ok" })
  })
}
