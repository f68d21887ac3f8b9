import { STATE_VERSION, type EncodedState } from "../orchestrator/features"
import type { Queryable, Sql } from "../store/sql"
import type { LearnedAlgorithm } from "./types"
import { breathe } from "./inputs"

// What src/rl keeps in SQL: models (rl_models: versioned per algorithm, at
// most one active), run-time settings (rl_settings: the algorithm and
// parameter overrides a person set), and the rewarded decisions it trains
// and evaluates on (rl_experiences, written by src/orchestrator/records.ts).

export type ModelRow = { id: number; algorithm: LearnedAlgorithm; version: number; params: Record<string, unknown>; weights: Uint8Array; metrics: Record<string, unknown>; experiences: number; createdAt: Date }

export type LoggedDecision = {
  id: number
  state: EncodedState
  actionIndex: number
  reward: number
  nextState: EncodedState | null
  done: boolean
  metadata: Record<string, unknown>
}

/** Saved versions kept per algorithm (older ones are deleted when a new one is saved). */
export const KEEP_VERSIONS = 5

function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v
  if (typeof v === "string" && v.startsWith("\\x")) return Uint8Array.from(Buffer.from(v.slice(2), "hex"))
  throw new Error("model weights are not bytes")
}

/** Rows per query when reading recorded decisions. */
export const DECISION_PAGE = 500

function decisionOf(r: Record<string, unknown>): LoggedDecision {
  return {
    id: Number(r.id),
    state: r.state as EncodedState,
    actionIndex: Number(r.action_index),
    reward: Number(r.reward),
    nextState: (r.next_state as EncodedState | null) ?? null,
    done: Boolean(r.done),
    metadata: (r.metadata as Record<string, unknown>) ?? {},
  }
}

export function rlRepo(db: Sql) {
  return {
    async setting<T>(key: string): Promise<T | undefined> {
      const [row] = await db.query<{ value: { v: T } }>("SELECT value FROM rl_settings WHERE key = $1", [key])
      return row?.value?.v
    },

    async setSetting(key: string, value: unknown): Promise<void> {
      // wrapped: a jsonb parameter must be an object (a bare string would be sent as text)
      await db.query("INSERT INTO rl_settings (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()", [key, { v: value }])
    },

    async activeModels(): Promise<ModelRow[]> {
      const rows = await db.query("SELECT * FROM rl_models WHERE active ORDER BY algorithm")
      return rows.map((r) => ({
        id: Number(r.id),
        algorithm: String(r.algorithm) as LearnedAlgorithm,
        version: Number(r.version),
        params: (r.params as Record<string, unknown>) ?? {},
        weights: bytes(r.weights),
        metrics: (r.metrics as Record<string, unknown>) ?? {},
        experiences: Number(r.experiences),
        createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
      }))
    },

    /** Save a new version of an algorithm's model and make it the active one, in one transaction. Resolves with the version. */
    async saveModel(algorithm: LearnedAlgorithm, m: { params: object; weights: Uint8Array; metrics: object; experiences: number }): Promise<number> {
      return db.transaction(async (tx: Queryable) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('rl_models:' || $1))", [algorithm])
        await tx.query("UPDATE rl_models SET active = false WHERE algorithm = $1 AND active", [algorithm])
        const [row] = await tx.query<{ version: number }>(
          `INSERT INTO rl_models (algorithm, version, params, weights, metrics, experiences, active)
           VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM rl_models WHERE algorithm = $1), $2::jsonb, $3, $4::jsonb, $5, true) RETURNING version`,
          [algorithm, m.params, m.weights, m.metrics, m.experiences],
        )
        const version = Number(row!.version)
        // Keep the last KEEP_VERSIONS of each algorithm: a model is saved every train_every rewards.
        await tx.query("DELETE FROM rl_models WHERE algorithm = $1 AND NOT active AND version <= $2", [algorithm, version - KEEP_VERSIONS])
        return version
      })
    },

    /**
     * Rewarded decisions of this state version after `afterId`, oldest first (the newest `limit` of them).
     * Read in pages of `DECISION_PAGE`, newest first: on PGlite a query runs on the daemon's own thread,
     * and one page is a short pause where 5,000 rows at once held the event loop for ~150 ms.
     */
    async decisions(afterId = 0, limit = 5000): Promise<LoggedDecision[]> {
      const pages: LoggedDecision[][] = []
      let before = Number.MAX_SAFE_INTEGER
      for (let left = limit; left > 0; ) {
        const page = Math.min(left, DECISION_PAGE)
        const rows = await db.query(
          `SELECT id, state, action_index, reward, next_state, done, metadata FROM rl_experiences
           WHERE reward IS NOT NULL AND (state->>'v')::int = $1 AND id > $2 AND id < $3 AND action_index IS NOT NULL
           ORDER BY id DESC LIMIT $4`,
          [STATE_VERSION, afterId, before, page],
        )
        pages.push(rows.map(decisionOf))
        if (rows.length < page) break
        left -= rows.length
        before = Number(rows.at(-1)!.id)
        await breathe()
      }
      return pages.flat().reverse()
    },

    async counts(): Promise<{ experiences: number; rewarded: number; current: number }> {
      const [r] = await db.query<{ all: number; rewarded: number; current: number }>(
        `SELECT count(*)::int AS all, count(reward)::int AS rewarded, count(*) FILTER (WHERE reward IS NOT NULL AND (state->>'v')::int = $1)::int AS current FROM rl_experiences`,
        [STATE_VERSION],
      )
      return { experiences: Number(r?.all ?? 0), rewarded: Number(r?.rewarded ?? 0), current: Number(r?.current ?? 0) }
    },

    /** Mean reward of the last `n` decisions made by the learned policy, and of the last `n` the heuristic made. */
    async recentRewards(n = 100): Promise<{ policy: { n: number; mean: number | null }; heuristic: { n: number; mean: number | null } }> {
      const q = (by: "policy" | "heuristic") =>
        db.query<{ n: number; mean: number | null }>(
          `SELECT count(*)::int AS n, avg(reward)::float8 AS mean FROM (
             SELECT reward FROM rl_experiences
             WHERE reward IS NOT NULL AND coalesce(metadata->>'decidedBy', CASE WHEN algorithm = 'heuristic' THEN 'heuristic' ELSE 'policy' END) = $1
             ORDER BY id DESC LIMIT $2) r`,
          [by, n],
        )
      const [[p], [h]] = await Promise.all([q("policy"), q("heuristic")])
      const fix = (r: { n: number; mean: number | null } | undefined) => ({ n: Number(r?.n ?? 0), mean: r?.mean === null || r?.mean === undefined ? null : Math.round(Number(r.mean) * 1e4) / 1e4 })
      return { policy: fix(p), heuristic: fix(h) }
    },

    /**
     * The reward curve of the newest `limit` rewarded decisions, cut into `buckets` equal runs
     * in decision order: per run, the mean reward of the policy's decisions and of the heuristic's
     * (the ones it made, or the policy deferred to it). x is the run's last decision (1 = oldest).
     */
    async rewardCurve(limit = 5000, buckets = 40): Promise<RewardCurve> {
      const rows = await db.query<{ b: number; by: string; mean: number; n: number; last: number }>(
        `WITH r AS (
           SELECT reward, by, row_number() OVER (ORDER BY id) AS i, count(*) OVER () AS total FROM (
             SELECT id, reward, coalesce(metadata->>'decidedBy', CASE WHEN algorithm = 'heuristic' THEN 'heuristic' ELSE 'policy' END) AS by
             FROM rl_experiences WHERE reward IS NOT NULL ORDER BY id DESC LIMIT $1) x)
         SELECT floor((i - 1) * $2::float8 / total)::int AS b, by, avg(reward)::float8 AS mean, count(*)::int AS n, max(i)::int AS last
         FROM r WHERE by IN ('policy', 'heuristic') GROUP BY b, by ORDER BY b`,
        [limit, buckets],
      )
      const out: RewardCurve = { decisions: 0, policy: [], heuristic: [] }
      for (const r of rows) {
        const point = { x: Number(r.last), mean: Math.round(Number(r.mean) * 1e4) / 1e4, n: Number(r.n) }
        ;(r.by === "policy" ? out.policy : out.heuristic).push(point)
        out.decisions = Math.max(out.decisions, point.x)
      }
      return out
    },
  }
}

export type CurvePoint = { x: number; mean: number; n: number }
export type RewardCurve = { decisions: number; policy: CurvePoint[]; heuristic: CurvePoint[] }

export type RlRepo = ReturnType<typeof rlRepo>
