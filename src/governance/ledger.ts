import { TARGET_KEYS, type ActiveException } from "./exceptions"
import { firstMatchFolded } from "./match"
import { imagePattern } from "./refs"
import type { AppliedException, BlockedItem, Decision, DeniedItem, Source, TargetType } from "./types"

// The gate every requested item passes, in the order the policy reads:
// security blocks first (only a policy exception lifts one), then delegation
// and allowlists (a policy or a local exception lifts those). The ledger keeps
// what was decided, blocked, denied and lifted, for the explain output.

const NONE: readonly string[] = []

/** One requested item: what it is called in messages, and its casefolded forms for matching. */
export type Candidate = { item: string; type: TargetType; folded: readonly string[] }

export class Ledger {
  readonly decisions: Decision[] = []
  readonly blocked: BlockedItem[] = []
  readonly denied: DeniedItem[] = []
  readonly warnings: string[] = []
  private readonly applied = new Map<string, AppliedException>()

  /** `exceptions` is ordered by precedence: policy first, then local ones. */
  constructor(private readonly exceptions: readonly ActiveException[]) {}

  /**
   * Let `c` through unless a security block (`block`: the original pattern or
   * the stdio reason) or a denial (`denial`: the reason) stops it and no
   * exception lifts that. Returns the ids of exceptions that lifted something
   * (usually none: a shared empty array), or null when the item is refused.
   */
  admit(c: Candidate, requestedBy: Source, block: string | undefined, denial: string | undefined): readonly string[] | null {
    if (block === undefined && denial === undefined) return NONE
    const lifted: string[] = []
    if (block !== undefined) {
      const ex = this.lifter(c, true)
      if (!ex) {
        this.blocked.push({ item: c.item, target_type: c.type, blocked_by: block, source: "org.security", requested_by: requestedBy })
        return null
      }
      this.record(ex, c, "blocked")
      lifted.push(ex.id)
    }
    const reason = denial
    if (reason !== undefined) {
      const ex = this.lifter(c, false)
      if (!ex) {
        this.denied.push({ item: c.item, target_type: c.type, requested_by: requestedBy === "project" ? "project" : "team", reason })
        return null
      }
      this.record(ex, c, "denied")
      lifted.push(ex.id)
    }
    return lifted
  }

  deny(item: string, type: TargetType, requestedBy: "team" | "project", reason: string): void {
    this.denied.push({ item, target_type: type, requested_by: requestedBy, reason })
  }

  decide(field: string, value: unknown, source: Source, reason: string): void {
    this.decisions.push({ field, value, source, reason })
  }

  appliedExceptions(): AppliedException[] {
    return [...this.applied.values()]
  }

  private lifter(c: Candidate, policyOnly: boolean): ActiveException | undefined {
    const key = TARGET_KEYS[c.type]
    const rewrite = c.type === "image" ? imagePattern : undefined
    for (const ex of this.exceptions) {
      if (policyOnly && ex.scope !== "policy") continue
      const patterns = ex.allow[key]
      if (patterns && firstMatchFolded(c.folded, patterns, rewrite) !== undefined) return ex
    }
    return undefined
  }

  private record(ex: ActiveException, c: Candidate, kind: "blocked" | "denied"): void {
    const key = `${ex.scope}:${ex.id}`
    let entry = this.applied.get(key)
    if (!entry) {
      entry = { id: ex.id, scope: ex.scope, reason: ex.reason, lifted: [] }
      if (ex.expires_at !== undefined) entry.expires_at = ex.expires_at
      this.applied.set(key, entry)
    }
    entry.lifted.push({ item: c.item, target_type: c.type, kind })
  }
}

/** ` (exception a1b2c3d4 lifted it)`, for decision reasons. */
export function liftedNote(ids: readonly string[]): string {
  return ids.length === 0 ? "" : `; let through by exception ${ids.join(", ")}`
}
