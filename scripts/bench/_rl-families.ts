// The simulator's task families: realistic descriptions from templates, and
// the hidden truth per role (success probability, budget tokens in
// thousands, duration in seconds) that no router sees. Some families carry
// the keywords the heuristic routes by (and their best role agrees with the
// keywords), two carry misleading keywords, four carry none at all.
// Role order: coordinator, frontend, backend, security, qa.

export type Truth = { p: number; tokensK: number; durationS: number }
export type Family = { name: string; templates: string[]; fill: Record<string, string[]>; roles: [Truth, Truth, Truth, Truth, Truth] }

const t = (p: number, tokensK: number, durationS: number): Truth => ({ p, tokensK, durationS })

export const FAMILIES: Family[] = [
  {
    name: "ui-component",
    templates: ["Add a {thing} component to the {area} page", "The {thing} button on the {area} screen looks broken in dark mode", "Make the {area} form responsive on small browsers"],
    fill: { thing: ["date picker", "avatar", "toast", "tabs"], area: ["settings", "checkout", "profile", "billing"] },
    roles: [t(0.55, 70, 140), t(0.92, 25, 60), t(0.45, 30, 80), t(0.3, 30, 70), t(0.5, 20, 50)],
  },
  {
    name: "rest-endpoint",
    templates: ["Add a paginated REST endpoint for {thing}", "The {thing} API returns 500 when the database is slow", "Write the SQL migration that adds {thing} to the schema"],
    fill: { thing: ["invoices", "orders", "refunds", "shipments"] },
    roles: [t(0.55, 70, 150), t(0.35, 30, 70), t(0.9, 30, 70), t(0.4, 30, 80), t(0.45, 25, 60)],
  },
  {
    name: "auth-hardening",
    templates: ["Rotate the {thing} secrets and check who can read them", "Add CSRF protection to the {thing} login", "Audit the OAuth scopes of the {thing} integration"],
    fill: { thing: ["payments", "admin", "partner", "mobile"] },
    roles: [t(0.5, 75, 160), t(0.25, 30, 70), t(0.6, 30, 80), t(0.9, 35, 90), t(0.35, 25, 60)],
  },
  {
    name: "flaky-test",
    templates: ["The {thing} integration test is flaky on CI", "Raise the coverage of the {thing} module with unit tests", "Reproduce the failing {thing} regression test and fix it"],
    fill: { thing: ["cart", "search", "export", "sync"] },
    roles: [t(0.45, 65, 150), t(0.4, 25, 60), t(0.55, 30, 70), t(0.3, 25, 60), t(0.88, 20, 45)],
  },
  {
    name: "slow-nightly",
    templates: ["Find out why the nightly {thing} run takes three hours now", "The {thing} import got ten times slower since Tuesday", "Cut the time the {thing} reconciliation needs in half"],
    fill: { thing: ["ledger", "warehouse", "payroll", "catalogue"] },
    roles: [t(0.5, 70, 160), t(0.3, 30, 80), t(0.85, 35, 90), t(0.3, 30, 80), t(0.55, 25, 70)],
  },
  {
    name: "rollout-plan",
    templates: ["Plan the rollout of the new {thing} across the three regions", "Split the {thing} relaunch into steps for the whole team", "Organise the move of the {thing} to the new provider"],
    fill: { thing: ["pricing", "onboarding", "newsletter", "loyalty scheme"] },
    roles: [t(0.85, 60, 120), t(0.3, 25, 60), t(0.45, 30, 70), t(0.3, 25, 60), t(0.4, 20, 50)],
  },
  {
    name: "tests-for-login-form",
    templates: ["Write tests for the login form validation of the {thing} app", "Add end-to-end tests that the {thing} login form rejects bad passwords"],
    fill: { thing: ["admin", "partner", "customer", "kiosk"] },
    roles: [t(0.5, 70, 150), t(0.55, 25, 60), t(0.45, 30, 70), t(0.5, 30, 70), t(0.9, 20, 50)],
  },
  {
    name: "licence-review",
    templates: ["Review the licences of the packages we ship in the {thing}", "Check whether the {thing} bundles anything under a copyleft licence", "List which third-party code in the {thing} needs attribution"],
    fill: { thing: ["desktop installer", "mobile app", "appliance image", "SDK"] },
    roles: [t(0.45, 60, 130), t(0.25, 25, 60), t(0.5, 30, 70), t(0.85, 30, 80), t(0.45, 25, 60)],
  },
  {
    name: "pdf-layout",
    templates: ["Fix the layout of the {thing} PDF export: columns overflow the page", "The {thing} PDF pages render with the wrong margins"],
    fill: { thing: ["invoice", "statement", "packing slip", "contract"] },
    roles: [t(0.5, 70, 150), t(0.45, 25, 60), t(0.88, 30, 75), t(0.25, 25, 60), t(0.4, 20, 50)],
  },
  {
    name: "email-copy",
    templates: ["Rewrite the {thing} emails so they sound friendlier", "Shorten the wording of the {thing} notifications", "Make the {thing} messages clearer for first-time customers"],
    fill: { thing: ["onboarding", "renewal", "reminder", "welcome"] },
    roles: [t(0.5, 60, 120), t(0.85, 20, 50), t(0.4, 25, 60), t(0.2, 25, 60), t(0.5, 20, 50)],
  },
]
