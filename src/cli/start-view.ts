import { keyValues, table } from "../output"
import type { planView } from "../sandbox/plan"

// Human rendering of `start --dry-run`: the launch plan, section by section.
// The effective configuration under it is `config explain`'s own rendering.

type PlanView = ReturnType<typeof planView>

const indent = (text: string, by = "  ") =>
  text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n")

export function renderPlan(p: PlanView, notes: string[], explained: string): string {
  const head = keyValues([
    ["Container", p.container],
    ["Image", `${p.image} (${p.imageSource})`],
    ["Workspace", `${p.workspace}${p.branch ? ` (branch ${p.branch})` : ""}`],
    ["Team", p.team ?? "(none)"],
    ["Session", p.session],
    ["Network", p.networkMode],
    ["Command", `${p.command.join(" ")} (exec in the container, in the workspace)`],
  ])
  const mounts = table(p.mounts, [
    { header: "source", get: (m) => m.source },
    { header: "target", get: (m) => m.target },
    { header: "mode", get: (m) => (m.readOnly ? "ro" : "rw") },
    { header: "why", get: (m) => m.why },
  ])
  const labels = table(Object.entries(p.labels), [
    { header: "label", get: ([k]) => k },
    { header: "value", get: ([, v]) => v },
  ])
  const env = table(p.env, [
    { header: "name", get: (e) => e.name },
    { header: "value", get: (e) => e.value },
    { header: "from", get: (e) => e.from },
  ])
  const files = p.files.map((f) => `${f.path} (read-only): ${f.why}\n${indent(f.content.trimEnd(), "    ")}`).join("\n\n")
  return [
    "Launch plan (dry run: nothing was created, started or written)",
    ...(notes.length ? [notes.map((n) => `note: ${n}`).join("\n")] : []),
    head,
    `Mounts\n${indent(mounts)}`,
    `Labels\n${indent(labels)}`,
    `Environment (secrets masked; resolved only at launch)\n${indent(env)}`,
    `Injected files\n${indent(files)}`,
    explained,
  ].join("\n\n")
}
