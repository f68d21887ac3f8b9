import type { Queryable } from "./sql"

// Token and cost totals of the tasks that finished since a moment (the
// dashboard's "today"). Usage is added to a task when an attempt ends, so
// finished tasks carry all of theirs.

export type UsageTotals = { tasks: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number; costUsd: number }

export async function usageSince(db: Queryable, since: Date): Promise<UsageTotals> {
  const [r] = await db.query<Record<string, unknown>>(
    `SELECT count(*) AS tasks, coalesce(sum(input_tokens), 0) AS input, coalesce(sum(output_tokens), 0) AS output,
            coalesce(sum(cache_read_tokens), 0) AS cache_read, coalesce(sum(cache_creation_tokens), 0) AS cache_creation,
            coalesce(sum(cost_usd), 0) AS cost
       FROM tasks WHERE finished_at >= $1`,
    [since],
  )
  return {
    tasks: Number(r?.tasks ?? 0),
    inputTokens: Number(r?.input ?? 0),
    outputTokens: Number(r?.output ?? 0),
    cacheReadTokens: Number(r?.cache_read ?? 0),
    cacheCreationTokens: Number(r?.cache_creation ?? 0),
    costUsd: Number(r?.cost ?? 0),
  }
}
