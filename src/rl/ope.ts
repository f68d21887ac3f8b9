import { ACTIONS } from "../orchestrator/features"
import { behaviour } from "./chooser"
import { breathe } from "./inputs"
import { LinUcb } from "./linucb"
import type { Params, Policy, Sample } from "./types"

// Off-policy evaluation: what a policy would have earned on decisions logged
// under another one, from the logged propensities. The logged decisions are
// split in time: every candidate (and the reward model of the doubly robust
// estimate) is trained on the older half and scored on the newer half, so no
// policy is scored on what it learned from.
// - IPS: mean of π(a|x)/p(a|x) · r;  SNIPS: the same, self-normalised;
// - DR: a ridge reward model's value of π, plus the IPS correction of its errors;
// - support: the share of logged decisions whose action π could take at all;
//   ESS: the effective sample size of the weights (small = a noisy estimate).
// A deterministic heuristic log (propensity 1) supports only policies that
// agree with it; the router's bounded exploration is what gives the others support.

export type Estimate = { ips: number | null; snips: number | null; dr: number | null; support: number; ess: number; n: number }

export type Candidate = { name: string; make: () => Policy | null; params?: Partial<Params> }

/** Scores `policy` on `evalSet`, pausing for the event loop every few hundred decisions (it runs inside the daemon). */
export async function estimate(evalSet: readonly (Sample & { heuristic: number })[], policy: Policy | null, params: Params, model: LinUcb): Promise<Estimate> {
  let ips = 0
  let dr = 0
  let wsum = 0
  let w2 = 0
  let supported = 0
  let k = 0
  for (const s of evalSet) {
    if (++k % 250 === 0) await breathe()
    const b = behaviour(policy, s.x, s.eligible, s.heuristic, params)
    const probs = b?.probs ?? new Float64Array(ACTIONS)
    const w = probs[s.action]! / s.propensity
    if (probs[s.action]! > 0) supported++
    ips += w * s.reward
    wsum += w
    w2 += w * w
    let dm = 0
    for (let a = 0; a < ACTIONS; a++) if (probs[a]! > 0) dm += probs[a]! * model.estimate(s.x, a).mean
    dr += dm + w * (s.reward - model.estimate(s.x, s.action).mean)
  }
  const n = evalSet.length
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4
  return {
    ips: n ? r4(ips / n) : null,
    snips: wsum > 0 ? r4(ips / wsum) : null,
    dr: n ? r4(dr / n) : null,
    support: n ? r4(supported / n) : 0,
    ess: w2 > 0 ? Math.round((wsum * wsum) / w2) : 0,
    n,
  }
}

export type Evaluation = { at: string; trainedOn: number; evaluatedOn: number; logged: number | null; policies: Record<string, Estimate> }

/** Train each candidate on the older half of `samples`, score it on the newer half. */
export async function evaluateAll(samples: readonly (Sample & { heuristic: number })[], candidates: readonly Candidate[], params: Params): Promise<Evaluation> {
  const cut = Math.floor(samples.length / 2)
  const train = samples.slice(0, cut)
  const test = samples.slice(cut)
  const model = new LinUcb({ ...params, forgetting: 1 })
  await model.train(train)
  const policies: Record<string, Estimate> = {}
  for (const c of candidates) {
    const p = c.make()
    if (p) await p.train(train)
    policies[c.name] = await estimate(test, p, { ...params, ...c.params }, model)
  }
  const logged = test.length ? Math.round((test.reduce((a, s) => a + s.reward, 0) / test.length) * 1e4) / 1e4 : null
  return { at: new Date().toISOString(), trainedOn: train.length, evaluatedOn: test.length, logged, policies }
}
