import type { LearningSection } from "../config/schema"
import { ConflictError } from "../errors"
import type { Embedder } from "../embeddings/types"
import type { Logger } from "../log"
import { STATE_VERSION } from "../orchestrator/features"
import type { Observation } from "../orchestrator/router"
import type { Sql } from "../store/sql"
import { packBlob, unpackBlob } from "./blob"
import { Dqn } from "./dqn"
import { LinUcb } from "./linucb"
import { TierGate } from "./budget-tier"
import { MemoryGate } from "./memory-gate"
import { evaluateAll, type Evaluation } from "./ope"
import { checkAlgorithm, checkParams, DEFAULT_PARAMS, RANGES } from "./params"
import { Ppo } from "./ppo"
import { QLearning } from "./qlearning"
import { rlRepo, type RlRepo } from "./repo"
import { Rng } from "./rng"
import { LearnedRouter } from "./router"
import { heuristicOfDecision, sampleOf } from "./samples"
import { textPrep } from "./text"
import { LEARNED, type Algorithm, type LearnedAlgorithm, type Params, type Policy, type Sample } from "./types"

// The learned routing of one daemon: the four policies (all of them learn
// from every reward, so switching algorithm never starts from nothing), the
// active algorithm and parameters (persisted in rl_settings when changed at
// run time), models saved per algorithm (rl_models, versioned, one active)
// and reloaded at start, then the decisions recorded after a model was saved
// replayed into it. Every `train_every` rewards the active algorithm is
// retrained from the recorded decisions, every model saved, and the
// off-policy estimates refreshed. The HTTP routes, the CLI and the MCP tools
// all call the methods here.

export type RlOptions = {
  db: Sql
  config: LearningSection
  embedder?: Embedder
  log: Logger
  /** Memory injection is on in this daemon (the memory loop runs): whether to inject becomes half of the composite action. */
  memory?: () => boolean
  /** A token budget is set in this daemon (the tokens stage runs): the budget tier becomes part of the composite action. */
  budget?: () => boolean
}

export type ModelInfo = { version: number | null; updates: number; loss: number | null; savedAt: string | null; trainedThrough: number }

const make = (a: LearnedAlgorithm, p: Params, seed: number): Policy =>
  a === "linucb" ? new LinUcb(p) : a === "q_learning" ? new QLearning(p) : a === "dqn" ? new Dqn(p, seed + 7) : new Ppo(p, seed + 11)

export class RlService {
  readonly router: LearnedRouter
  readonly repo: RlRepo
  readonly space: string
  /** Resolves once saved models are loaded and later decisions replayed into them. */
  ready: Promise<void> = Promise.resolve()
  private algorithm: Algorithm
  private params: Params
  private readonly policies: Record<LearnedAlgorithm, Policy>
  /** The memory half of the composite action (learned from every decision that had one, whatever the algorithm). */
  readonly gate: MemoryGate
  /** The token-budget half of the composite action (learned from every decision that had one, whatever the algorithm). */
  readonly tiers: TierGate
  private readonly models: Record<LearnedAlgorithm, ModelInfo>
  private evaluation: Evaluation | null = null
  private sinceTrain = 0
  private learned = 0
  private training: Promise<unknown> | null = null
  /** Rewards that arrive while an algorithm retrains, applied to the new model once it is in. */
  private readonly backlog = new Map<LearnedAlgorithm, Sample[]>()

  private constructor(private readonly o: RlOptions) {
    this.repo = rlRepo(o.db)
    const c = o.config
    this.algorithm = c.enabled ? c.algorithm : "heuristic"
    this.params = paramsOf(c)
    this.policies = Object.fromEntries(LEARNED.map((a) => [a, make(a, this.params, c.seed)])) as Record<LearnedAlgorithm, Policy>
    this.models = Object.fromEntries(LEARNED.map((a) => [a, { version: null, updates: 0, loss: null, savedAt: null, trainedThrough: 0 }])) as Record<LearnedAlgorithm, ModelInfo>
    this.gate = new MemoryGate(this.params)
    this.tiers = new TierGate(this.params)
    const text = textPrep(o.embedder, o.log)
    this.space = text.space
    this.router = new LearnedRouter({
      algorithm: () => this.algorithm,
      policy: () => (this.algorithm === "heuristic" ? null : this.policies[this.algorithm]),
      params: () => this.params,
      rng: new Rng(c.seed),
      space: () => this.space,
      prepare: text.prepare,
      observe: (s, obs) => this.observe(s, obs),
      gate: () => (o.memory?.() ? this.gate : null),
      tiers: () => (o.budget?.() ? this.tiers : null),
    })
  }

  static async open(o: RlOptions): Promise<RlService> {
    const s = new RlService(o)
    const algorithm = await s.repo.setting<string>("algorithm")
    if (algorithm && o.config.enabled) s.algorithm = checkAlgorithm(algorithm)
    const overrides = await s.repo.setting<Record<string, unknown>>("params")
    if (overrides) s.setLive({ ...s.params, ...safeParams(overrides, o.log) })
    for (const m of await s.repo.activeModels()) {
      try {
        if (m.metrics.stateVersion !== STATE_VERSION || m.metrics.space !== s.space) throw new Error(`it was trained on other features (state v${String(m.metrics.stateVersion)}, text ${String(m.metrics.space)})`)
        s.policies[m.algorithm].load(unpackBlob(m.weights))
        s.models[m.algorithm] = { version: m.version, updates: s.policies[m.algorithm].updates, loss: null, savedAt: m.createdAt.toISOString(), trainedThrough: Number(m.metrics.trainedThrough ?? 0) }
        if (m.metrics.evaluation) s.evaluation = m.metrics.evaluation as Evaluation
      } catch (e) {
        o.log.warn(`routing model ${m.algorithm} v${m.version} not loaded (${(e as Error).message}); it relearns from the recorded decisions`)
      }
    }
    s.ready = s.replay().catch((e: unknown) => o.log.warn(`routing: replaying recorded decisions failed: ${(e as Error).message}`))
    return s
  }

  /** After a restart: the decisions recorded after each model was saved, learned in order. */
  private async replay(): Promise<void> {
    // The memory gate is not saved: with memory on it relearns from all the recorded decisions.
    const from = this.o.memory?.() || this.o.budget?.() ? 0 : Math.min(...LEARNED.map((a) => this.models[a].trainedThrough))
    const rows = await this.repo.decisions(from, this.o.config.history)
    const all = rows.map((r) => sampleOf(r, this.space))
    this.gate.train(all)
    this.tiers.train(all)
    for (const a of LEARNED) {
      const mine = rows.filter((r) => r.id > this.models[a].trainedThrough).map((r) => sampleOf(r, this.space))
      if (mine.length === 0) continue
      if (this.models[a].version === null) await this.policies[a].train(mine)
      else for (const s of mine) this.policies[a].observe(s)
    }
  }

  private setLive(p: Params): void {
    this.params = p
    for (const a of LEARNED) this.policies[a].setParams(p)
    this.gate.setParams(p)
    this.tiers.setParams(p)
  }

  private observe(s: Sample, _o: Observation): void {
    this.gate.observeSample(s)
    this.tiers.observeSample(s)
    for (const a of LEARNED) {
      const queued = this.backlog.get(a)
      if (queued) queued.push(s)
      else this.policies[a].observe(s)
    }
    this.learned++
    const every = this.o.config.train_every
    if (every > 0 && ++this.sinceTrain >= every && !this.training) {
      this.sinceTrain = 0
      void this.train({ auto: true }).catch((e: unknown) => this.o.log.warn(`routing: automatic training failed: ${(e as Error).message}`))
    }
  }

  // ---- the domain functions (HTTP, CLI, MCP) ----

  /** Retrain from the recorded decisions and save: `algorithm` (default: the active one, or all when it is the heuristic). */
  async train(opts: { algorithm?: string; auto?: boolean } = {}): Promise<{ trained: { algorithm: LearnedAlgorithm; version: number; samples: number; loss: number | null; ms: number }[]; evaluation: Evaluation | null }> {
    const pick = opts.algorithm === undefined || opts.algorithm === "all" ? undefined : checkAlgorithm(opts.algorithm)
    const run = async () => {
      await this.ready
      const rows = await this.repo.decisions(0, this.o.config.history)
      const samples = rows.map((r) => sampleOf(r, this.space))
      const through = rows.at(-1)?.id ?? 0
      this.gate.train(samples)
      this.tiers.train(samples)
      const one = opts.algorithm === "all" ? undefined : (pick ?? this.algorithm)
      const retrain: LearnedAlgorithm[] = one && one !== "heuristic" ? [one] : [...LEARNED]
      const trained = []
      for (const a of retrain) {
        const t0 = performance.now()
        const fresh = make(a, this.params, this.o.config.seed)
        this.backlog.set(a, [])
        try {
          await fresh.train(samples)
          for (const s of this.backlog.get(a)!) fresh.observe(s)
          this.policies[a] = fresh
        } finally {
          this.backlog.delete(a)
        }
        trained.push({ algorithm: a, samples: samples.length, loss: fresh.loss, ms: Math.round(performance.now() - t0), version: 0 })
      }
      const evaluation = samples.length >= 20 ? await this.evaluateSamples(rows) : this.evaluation
      this.evaluation = evaluation
      for (const a of LEARNED) {
        const version = await this.save(a, through)
        const t = trained.find((x) => x.algorithm === a)
        if (t) t.version = version
      }
      return { trained, evaluation }
    }
    const p = (this.training ?? Promise.resolve()).then(run, run)
    this.training = p
    try {
      return await p
    } finally {
      if (this.training === p) this.training = null
    }
  }

  private async save(a: LearnedAlgorithm, through: number): Promise<number> {
    const p = this.policies[a]
    const version = await this.repo.saveModel(a, {
      params: this.params,
      weights: packBlob(p.save()),
      metrics: { stateVersion: STATE_VERSION, space: this.space, trainedThrough: through, updates: p.updates, loss: p.loss, evaluation: this.evaluation },
      experiences: p.updates,
    })
    this.models[a] = { version, updates: p.updates, loss: p.loss, savedAt: new Date().toISOString(), trainedThrough: through }
    return version
  }

  private evaluateSamples(rows: Awaited<ReturnType<RlRepo["decisions"]>>): Promise<Evaluation> {
    const samples = rows.map((r) => ({ ...sampleOf(r, this.space), heuristic: heuristicOfDecision(r) }))
    const seed = this.o.config.seed
    return evaluateAll(samples, [{ name: "heuristic", make: () => null, params: { epsilon: 0 } }, ...LEARNED.map((a) => ({ name: a, make: () => make(a, this.params, seed) }))], this.params)
  }

  /** Off-policy estimates of every algorithm on the recorded decisions (trained on the older half, scored on the newer). */
  async evaluate(): Promise<Evaluation> {
    await this.ready
    const rows = await this.repo.decisions(0, this.o.config.history)
    this.evaluation = await this.evaluateSamples(rows)
    return this.evaluation
  }

  async setAlgorithm(name: unknown): Promise<{ algorithm: Algorithm; previous: Algorithm }> {
    const algorithm = checkAlgorithm(name)
    if (!this.o.config.enabled && algorithm !== "heuristic") {
      throw new ConflictError(`learned routing is off (learning.enabled = false): the algorithm stays heuristic`, { hint: "set learning.enabled = true in cca.toml and restart the daemon" })
    }
    const previous = this.algorithm
    await this.repo.setSetting("algorithm", algorithm)
    this.algorithm = algorithm
    this.o.log.info(`routing algorithm: ${previous} -> ${algorithm}`)
    return { algorithm, previous }
  }

  /** One algorithm's policy as it is now (tests, status). */
  policy(a: LearnedAlgorithm): Policy {
    return this.policies[a]
  }

  getParams(): { algorithm: Algorithm; params: Params; ranges: typeof RANGES } {
    return { algorithm: this.algorithm, params: { ...this.params }, ranges: RANGES }
  }

  async setParams(patch: Record<string, unknown>): Promise<{ params: Params; changed: string[] }> {
    const checked = checkParams(patch)
    const next = { ...this.params, ...checked }
    const overrides = { ...((await this.repo.setting<Record<string, unknown>>("params")) ?? {}), ...checked }
    await this.repo.setSetting("params", overrides)
    this.setLive(next)
    return { params: { ...next }, changed: Object.keys(checked) }
  }

  async status() {
    const [counts, recent, curve] = await Promise.all([this.repo.counts(), this.repo.recentRewards(100), this.repo.rewardCurve(this.o.config.history)])
    const active = this.algorithm === "heuristic" ? null : this.policies[this.algorithm]
    return {
      algorithm: this.algorithm,
      enabled: this.o.config.enabled,
      stateVersion: STATE_VERSION,
      textSpace: this.space,
      experiences: counts,
      learnedSinceStart: this.learned,
      recent: { window: 100, policy: recent.policy, heuristic: recent.heuristic },
      /** Mean reward per run of decisions, the policy's next to the heuristic's (the dashboard draws it). */
      curve,
      epsilon: active ? Math.round(active.epsilon() * 1e4) / 1e4 : 0,
      lastLoss: active?.loss ?? null,
      model: active ? { ...this.models[this.algorithm as LearnedAlgorithm], updates: active.updates } : null,
      models: Object.fromEntries(LEARNED.map((a) => [a, { ...this.models[a], updates: this.policies[a].updates, loss: this.policies[a].loss }])),
      evaluation: this.evaluation,
      params: { ...this.params },
      training: this.training !== null,
      /** The memory half of the composite action: on when memory injection runs in this daemon. */
      memoryGate: { active: this.o.memory?.() === true, updates: this.gate.updates },
      /** The token-budget half: on when a token budget is set in this daemon. */
      budgetTier: { active: this.o.budget?.() === true, updates: this.tiers.updates },
    }
  }

  /** Resolves once loading and any training under way are over (tests; shutdown). */
  async settled(): Promise<void> {
    await this.ready
    while (this.training) await this.training.catch(() => {})
  }

  async close(): Promise<void> {
    await this.ready
    await this.training?.catch(() => {})
  }
}

export type RlStatus = Awaited<ReturnType<RlService["status"]>>

function paramsOf(c: LearningSection): Params {
  return {
    ...DEFAULT_PARAMS,
    learning_rate: c.learning_rate,
    network_learning_rate: c.network_learning_rate,
    discount: c.discount,
    epsilon: c.epsilon,
    exploration: c.exploration,
    forgetting: c.forgetting,
    batch_size: c.batch_size,
    warmup: c.warmup,
    margin: c.margin,
  }
}

/** Overrides read back from rl_settings: ones out of range (a newer build's ranges) are dropped with a warning. */
function safeParams(o: Record<string, unknown>, log: Logger): Partial<Params> {
  const out: Partial<Params> = {}
  for (const [k, v] of Object.entries(o)) {
    try {
      Object.assign(out, checkParams({ [k]: v }))
    } catch (e) {
      log.warn(`routing parameter override ignored: ${(e as Error).message}`)
    }
  }
  return out
}
