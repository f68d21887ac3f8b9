import { log } from "../log"
import { loadOrgConfig } from "../org/load"
import { DEFAULT_STATS_POLICY, type StatsPolicy } from "../stats/events"

// What the stats commands need from the org config: the stats policy, and
// how long an unended session that recorded no expected duration counts.
// Read from the cache only (offline): reading local stats must work on a
// plane and never wait on the network. No org config at all is fine: the
// schema defaults apply.

/** Counted for an unended session that recorded no expected duration and no org default applies. */
export const FALLBACK_SESSION_HOURS = 8

export type StatsSettings = { policy: StatsPolicy; defaultExpectedHours: number }

export async function statsSettings(): Promise<StatsSettings> {
  try {
    const org = await loadOrgConfig({ offline: true })
    return {
      policy: org.config.stats ?? DEFAULT_STATS_POLICY,
      defaultExpectedHours: org.config.defaults?.session?.timeout_hours ?? FALLBACK_SESSION_HOURS,
    }
  } catch (e) {
    log().debug(`stats: no org config (${(e as Error).message}); schema defaults apply`)
    return { policy: DEFAULT_STATS_POLICY, defaultExpectedHours: FALLBACK_SESSION_HOURS }
  }
}

export const DISABLED_NOTE = "usage stats are disabled by the org's policy (stats.enabled: false): sessions are no longer recorded"
