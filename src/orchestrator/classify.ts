// Which role a task is for, before any agent is chosen: the task's explicit
// role (with `coordinate`, that role's agent coordinates: a custom lead
// role); `coordinate` alone means the coordinator; otherwise the content decides,
// by keyword patterns per specialist role. A task that clearly spans two or
// more specialities (two roles with strong evidence) goes to the coordinator
// too, but only at the top of a delegation tree: a coordinator's subtask is
// never sent back to a coordinator by content (it names a role, or the
// strongest one wins), so delegation cannot loop on a vague prompt. Ties go
// to the role listed first in SPECIALIST_ROLES.

export const SPECIALIST_ROLES = ["frontend", "backend", "security", "qa"] as const
export type SpecialistRole = (typeof SPECIALIST_ROLES)[number]
export const COORDINATOR = "coordinator"

/** One pattern per concept; a task's score for a role is how many of them it mentions. */
const PATTERNS: Record<SpecialistRole, RegExp[]> = {
  frontend: [
    /\b(front[- ]?end|client[- ]side)\b/i,
    /\b(ui|ux|user interface)\b/i,
    /\b(react|vue|svelte|angular|next\.?js|jsx|tsx)\b/i,
    /\b(css|scss|tailwind|stylesheet|styling)\b/i,
    /\bhtml\b/i,
    /\b(components?|widgets?)\b/i,
    /\b(pages?|screens?|views?|layouts?|modals?|dialogs?)\b/i,
    /\b(buttons?|forms?|inputs?|dropdowns?|navbar|sidebar)\b/i,
    /\b(responsive|accessib\w*|a11y|dark mode)\b/i,
    /\b(browser|dom)\b/i,
  ],
  backend: [
    /\bback[- ]?end\b/i,
    /\b(api|apis|rest|graphql|grpc)\b/i,
    /\bend-?points?\b/i,
    /\b(servers?|services?|microservices?)\b/i,
    /\b(databases?|db|sql|postgres\w*|mysql|sqlite|mongo\w*|redis)\b/i,
    /\b(migrations?|schemas?|orm)\b/i,
    /\b(handlers?|middleware|controllers?)\b/i,
    /\b(queues?|workers?|cron|jobs?)\b/i,
    /\b(http|json|webhooks?)\b/i,
  ],
  security: [
    /\bsecurity\b/i,
    /\b(vulnerab\w*|cve-?\d*|exploits?|threat model\w*)\b/i,
    /\b(xss|csrf|ssrf|sql injection|injection|owasp)\b/i,
    /\b(authenticat\w*|authoriz\w*|oauth|sso|login)\b/i,
    /\b(secrets?|credentials?|passwords?|api keys?)\b/i,
    /\b(encrypt\w*|decrypt\w*|tls|ssl|certificates?|hash(ing)?)\b/i,
    /\b(permissions?|access control|rbac|privileges?)\b/i,
    /\b(audit\w*|pentest\w*|penetration test\w*|sanitiz\w*)\b/i,
  ],
  qa: [
    /\b(qa|quality assurance)\b/i,
    /\b(tests?|testing|test suite|test cases?)\b/i,
    /\b(unit|integration|e2e|end-to-end|regression|smoke) tests?\b/i,
    /\b(coverage|flaky|flakiness)\b/i,
    /\b(jest|vitest|mocha|pytest|playwright|cypress|bun test)\b/i,
    /\b(reproduce|repro|verify|verification|validate)\b/i,
    /\b(bugs?|defects?|failing)\b/i,
  ],
}

/** Evidence at or above this many concepts counts as strong. */
const STRONG = 2

export type RoleScores = Record<SpecialistRole, number>

export type RoleReason = "explicit" | "coordinate" | "multi-role" | "content" | "none"

export type RoleDecision = {
  /** The role to route to; null: any agent. */
  role: string | null
  /** Whether the task is to be coordinated (split by a coordinator). */
  coordinate: boolean
  reason: RoleReason
  scores: RoleScores
}

export function roleScores(text: string): RoleScores {
  const scores = {} as RoleScores
  for (const role of SPECIALIST_ROLES) scores[role] = PATTERNS[role].reduce((n, re) => n + (re.test(text) ? 1 : 0), 0)
  return scores
}

export type ClassifyInput = { description: string; prompt?: string | null; role?: string | null; coordinate?: boolean; depth?: number }

export function classify(t: ClassifyInput): RoleDecision {
  const text = t.prompt ? `${t.description}\n${t.prompt}` : t.description
  const scores = roleScores(text)
  if (t.role) return { role: t.role, coordinate: t.coordinate === true || t.role === COORDINATOR, reason: "explicit", scores }
  if (t.coordinate) return { role: COORDINATOR, coordinate: true, reason: "coordinate", scores }
  const ranked = SPECIALIST_ROLES.filter((r) => scores[r] > 0).sort((a, b) => scores[b] - scores[a])
  const top = ranked[0]
  if (!top) return { role: null, coordinate: false, reason: "none", scores }
  const strong = ranked.filter((r) => scores[r] >= STRONG)
  if (strong.length >= 2 && (t.depth ?? 0) === 0) return { role: COORDINATOR, coordinate: true, reason: "multi-role", scores }
  return { role: top, coordinate: false, reason: "content", scores }
}
