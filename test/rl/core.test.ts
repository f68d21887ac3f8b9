import { expect, test } from "bun:test"
import { ACTIONS, FEATURES } from "../../src/orchestrator/features"
import { packBlob, unpackBlob } from "../../src/rl/blob"
import { choose } from "../../src/rl/chooser"
import { Dqn } from "../../src/rl/dqn"
import { LinUcb } from "../../src/rl/linucb"
import { Mlp } from "../../src/rl/mlp"
import { estimate } from "../../src/rl/ope"
import { checkParams, DEFAULT_PARAMS } from "../../src/rl/params"
import { Ppo } from "../../src/rl/ppo"
import { QLearning } from "../../src/rl/qlearning"
import { Rng } from "../../src/rl/rng"
import type { Policy, Sample } from "../../src/rl/types"

// The numeric core and the safety rules, on data made here.

test("the MLP's gradients match finite differences, and Adam fits a small function", () => {
  const net = new Mlp({ sizes: [3, 5, 2], seed: 3 })
  const x = [0.3, -0.7, 0.9]
  const target = [0.5, -0.2]
  const loss = () => {
    const o = net.forward(x)
    return 0.5 * ((o[0]! - target[0]!) ** 2 + (o[1]! - target[1]!) ** 2)
  }
  net.accumulate(x, (o, d) => {
    d[0] = o[0]! - target[0]!
    d[1] = o[1]! - target[1]!
    return 0
  })
  const grads = (net as unknown as { gw: Float32Array[] }).gw.map((g) => Float32Array.from(g))
  for (const [l, i] of [[0, 0], [0, 7], [1, 3], [1, 9]] as const) {
    const w = net.w[l]!
    const keep = w[i]!
    w[i] = keep + 1e-3
    const up = loss()
    w[i] = keep - 1e-3
    const down = loss()
    w[i] = keep
    expect(grads[l]![i]!).toBeCloseTo((up - down) / 2e-3, 2)
  }
  net.step(0, 1) // clear
  const rng = new Rng(1)
  const data = Array.from({ length: 64 }, () => {
    const a = rng.next() * 2 - 1
    const b = rng.next() * 2 - 1
    return { x: [a, b, 1], y: [a * b, a + b] }
  })
  const mse = () => data.reduce((s, p) => s + (net.forward(p.x)[0]! - p.y[0]!) ** 2 + (net.forward(p.x)[1]! - p.y[1]!) ** 2, 0) / data.length
  const before = mse()
  const fit = new Mlp({ sizes: [3, 16, 2], seed: 3 })
  for (let epoch = 0; epoch < 400; epoch++) {
    for (const p of data) fit.accumulate(p.x, (o, d) => ((d[0] = o[0]! - p.y[0]!), (d[1] = o[1]! - p.y[1]!), 0))
    fit.step(0.01, data.length)
  }
  const after = data.reduce((s, p) => s + (fit.forward(p.x)[0]! - p.y[0]!) ** 2 + (fit.forward(p.x)[1]! - p.y[1]!) ** 2, 0) / data.length
  expect(after).toBeLessThan(0.02)
  expect(after).toBeLessThan(before / 10)
})

const rng = new Rng(9)
const xs = Array.from({ length: 32 }, () => Float32Array.from({ length: FEATURES }, () => rng.next()))
const all = Array.from({ length: ACTIONS }, () => true)
const samples: Sample[] = Array.from({ length: 600 }, (_, i) => {
  const action = rng.int(ACTIONS)
  return { x: xs[i % 32]!, action, reward: action === 2 ? 1.2 : -0.5, next: null, done: true, eligible: all, propensity: 1 / ACTIONS }
})

test("every model saves to bytes and loads back to the same answers", async () => {
  const makers: (() => Policy)[] = [() => new LinUcb(DEFAULT_PARAMS), () => new QLearning(DEFAULT_PARAMS), () => new Dqn(DEFAULT_PARAMS), () => new Ppo(DEFAULT_PARAMS)]
  for (const make of makers) {
    const a = make()
    await a.train(samples)
    const b = make()
    b.load(unpackBlob(packBlob(a.save())))
    expect(b.updates, a.algorithm).toBe(a.updates)
    for (const x of xs.slice(0, 4)) expect(Array.from(b.evaluate(x, all, -1).scores), a.algorithm).toEqual(Array.from(a.evaluate(x, all, -1).scores))
    // and each learned that action 2 pays
    expect(Array.from(a.evaluate(xs[0]!, all, -1).probs).indexOf(Math.max(...a.evaluate(xs[0]!, all, -1).probs)), a.algorithm).toBe(2)
  }
  expect(() => unpackBlob(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow("bad magic")
})

test("safety: only eligible roles; untrained and unsure defer to the heuristic; exploration stays within ε", async () => {
  const p = { ...DEFAULT_PARAMS, epsilon: 0.2, warmup: 10 }
  const lin = new LinUcb(p)
  const r = new Rng(4)
  const eligible = [false, true, false, true, false, false]
  // untrained: the heuristic's role, except the ε share spread over the eligible ones
  let heuristic = 0
  for (let i = 0; i < 2000; i++) {
    const c = choose(lin, xs[i % 32]!, eligible, 3, p, r)!
    expect(eligible[c.action]).toBe(true)
    expect(c.reason).toBe("untrained")
    if (c.action === 3) heuristic++
  }
  expect(heuristic / 2000).toBeGreaterThan(0.86) // 0.8 + 0.2 / 2 = 0.9 expected
  expect(heuristic / 2000).toBeLessThan(0.94)
  // nothing eligible: no choice (the task waits), never an ineligible role
  expect(choose(lin, xs[0]!, new Array(ACTIONS).fill(false), 1, p, r)).toBeNull()
  // one eligible role: that one, with certainty
  expect(choose(lin, xs[0]!, [false, false, true, false, false, false], 1, p, r)).toMatchObject({ action: 2, propensity: 1, reason: "only-choice" })
  // trained with no difference between roles 1 and 3: unsure, so the heuristic's role
  for (let i = 0; i < 40; i++) lin.observe({ x: xs[0]!, action: i % 2 ? 1 : 3, reward: 1, next: null, done: true, eligible, propensity: 0.5 })
  // (the heuristic names the role scored a hair lower: the policy would pick the other, but not by `margin`)
  const s = lin.evaluate(xs[0]!, eligible, -1).scores
  expect(Math.abs(s[1]! - s[3]!)).toBeLessThan(p.margin)
  const lower = s[1]! < s[3]! ? 1 : 3
  const tie = choose(lin, xs[0]!, eligible, lower, { ...p, epsilon: 0 }, r)!
  expect(tie).toMatchObject({ action: lower, decidedBy: "heuristic", reason: "unsure" })
  // the ε bound holds whatever is asked: parameters past 0.5 are refused
  expect(() => checkParams({ epsilon: 0.9 })).toThrow("epsilon: must be a number from 0 to 0.5, not 0.9")
  expect(() => checkParams({ batch_size: 2.5 })).toThrow("batch_size: must be a whole number from 1 to 1024")
  expect(() => checkParams({ gamma: 1 })).toThrow("gamma: no such parameter")
})

test("off-policy estimates: IPS of a policy on uniformly logged data is close to its true value; support and ESS say how much to trust it", async () => {
  const r = new Rng(12)
  const truth = (x: Float32Array, a: number) => (a === (x[0]! > 0.5 ? 1 : 2) ? 1 : 0)
  const logged = Array.from({ length: 4000 }, () => {
    const x = Float32Array.from({ length: FEATURES }, () => r.next())
    const action = r.int(ACTIONS)
    return { x, action, reward: truth(x, action), next: null, done: true, eligible: all, propensity: 1 / ACTIONS, heuristic: 2 }
  })
  const model = new LinUcb({ ...DEFAULT_PARAMS, forgetting: 1 })
  await model.train(logged.slice(0, 2000))
  // the heuristic as the target (always action 2, no exploration): its true value is P(x0 <= 0.5) = 0.5
  const e = await estimate(logged.slice(2000), null, { ...DEFAULT_PARAMS, epsilon: 0 }, model)
  expect(e.ips!).toBeGreaterThan(0.42)
  expect(e.ips!).toBeLessThan(0.58)
  expect(e.dr!).toBeGreaterThan(0.42)
  expect(e.dr!).toBeLessThan(0.58)
  expect(e.support).toBeCloseTo(1 / ACTIONS, 1)
  expect(e.ess).toBeLessThan(2000 / 3)
})
