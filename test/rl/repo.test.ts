import { afterAll, expect, test } from "bun:test"
import { STATE_VERSION } from "../../src/orchestrator/features"
import { DECISION_PAGE, rlRepo } from "../../src/rl/repo"
import { pgliteMemory } from "../support/postgres"

// Recorded decisions are read in pages (a long read on PGlite would hold the
// daemon's event loop): across page boundaries the answer is still the newest
// `limit` rewarded decisions after `afterId`, oldest first, none twice.

const db = await pgliteMemory()
afterAll(() => db.close())

const N = DECISION_PAGE * 2 + 37
const state = { v: STATE_VERSION, features: [0], task: {} }
await db.query(
  `INSERT INTO rl_experiences (algorithm, state, action, action_index, reward, done, metadata)
   SELECT 'linucb', $1::jsonb, 'backend', 1, CASE WHEN g % 10 = 0 THEN NULL ELSE g END, true, '{}'::jsonb FROM generate_series(1, $2) g`,
  [state, N],
)
const rewarded = (await db.query<{ id: number }>(`SELECT id FROM rl_experiences WHERE reward IS NOT NULL ORDER BY id`)).map((r) => Number(r.id))

test("decisions: all of them over several pages, oldest first, unrewarded ones left out", async () => {
  const all = await rlRepo(db).decisions(0, 100_000)
  expect(all.map((d) => d.id)).toEqual(rewarded)
  expect(all.every((d) => d.reward % 10 !== 0)).toBe(true)
})

test("decisions: a limit across a page boundary keeps the newest ones", async () => {
  const limit = DECISION_PAGE + 5
  const some = await rlRepo(db).decisions(0, limit)
  expect(some.map((d) => d.id)).toEqual(rewarded.slice(-limit))
})

test("decisions: afterId leaves out the older ones", async () => {
  const after = rewarded[100]!
  const later = await rlRepo(db).decisions(after, 100_000)
  expect(later.map((d) => d.id)).toEqual(rewarded.filter((id) => id > after))
})
