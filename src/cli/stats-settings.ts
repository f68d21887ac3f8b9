import { DEFAULT_STATS_POLICY, type StatsPolicy } from "../stats/events"

// What the stats commands need from the org config: the stats policy, the id
// mixed into identity hashes, and how long an unended session is counted.
// TODO(gov merge): read these from loadOrgConfig({ offline: true }).

/** Counted for an unended session that recorded no expected duration and no org default applies. */
export const FALLBACK_SESSION_HOURS = 8

export type StatsSettings = { policy: StatsPolicy; orgId: string | null; defaultExpectedHours: number }

export async function statsSettings(): Promise<StatsSettings> {
  return { policy: DEFAULT_STATS_POLICY, orgId: null, defaultExpectedHours: FALLBACK_SESSION_HOURS }
}
