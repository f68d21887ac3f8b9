import { command, type Ctx } from "./common"
import { UsageError } from "../errors"
import { keyValues } from "../output"
import type { LoadedOrgConfig } from "../org/load"
import { fetchForSetup, saveSetup } from "../org/setup"
import { listTeams } from "../org/teams"
import { readUserConfig } from "../org/user-config"
import { prompter, type Prompter } from "./prompt"

const SOURCE_HELP = "https URL, github:owner/repo[@ref]:path, gitlab:group/repo[@ref]:path, or a file"

export default command({
  meta: { name: "setup", description: "Choose the organization config, how to authenticate to it, and your team" },
  args: {
    org: { type: "string", description: `Org config source: ${SOURCE_HELP}` },
    team: { type: "string", description: "Your team (a profile in the org config)" },
    auth: { type: "string", description: "How to get a token: env:VAR or 'command:program args' (never the token itself)" },
    "non-interactive": { type: "boolean", description: "Do not prompt; --org (and --team when the org has teams) are required" },
  },
  async run(ctx, args) {
    const interactive = !args["non-interactive"]
    if (!interactive && !args.org) throw new UsageError("--org is required with --non-interactive", { hint: `scc setup --org <${SOURCE_HELP}> --team <team> --non-interactive` })
    const ask = interactive ? prompter() : undefined
    ctx.defer(() => ask?.close())

    // Run again, it offers what is saved: Enter keeps each value.
    const current = ask ? await readUserConfig() : undefined
    const source = args.org ?? (await required(ask!, "Organization config source", SOURCE_HELP, current?.organization_source?.url))
    const savedAuth = source === current?.organization_source?.url ? current?.organization_source?.auth : undefined
    const auth = args.auth ?? (ask ? authAnswer(await ask.ask(`Auth for the source (env:VAR or command:CMD; ${savedAuth ? '"none" for none' : "empty for none"})`, savedAuth)) : undefined)
    const loaded = await fetchForSetup(source, auth)
    for (const w of loaded.warnings) ctx.warn(w)
    const team = args.team ?? (ask ? await chooseTeam(ctx, ask, loaded, current?.team) : undefined)
    const result = await saveSetup(loaded, { source, auth, team })

    ctx.emit("Setup", { ...result, source: result.config.organization_source?.url, auth: auth ?? null }, (r) =>
      [
        `Saved ${r.path}`,
        keyValues([
          ["organization", r.organization],
          ["source", r.source],
          ["auth", r.auth ?? "none"],
          ["team", r.team ?? "none"],
        ]),
        "Next: scc config explain",
      ].join("\n"),
    )
  },
})

const authAnswer = (a: string | undefined) => (a === undefined || a === "" || a === "none" ? undefined : a)

async function required(ask: Prompter, question: string, help: string, fallback?: string): Promise<string> {
  for (;;) {
    const answer = await ask.ask(`${question} (${help})`, fallback)
    if (answer === undefined) throw new UsageError(`no answer for '${question}'`, { hint: "scc setup --org <source> --team <team> --non-interactive" })
    if (answer !== "") return answer
  }
}

async function chooseTeam(ctx: Ctx, ask: Prompter, loaded: LoadedOrgConfig, saved?: string): Promise<string | undefined> {
  const teams = listTeams(loaded.config, undefined)
  if (teams.length === 0) return undefined
  const menu = teams.map((t, i) => `  ${String(i + 1).padStart(2)}. ${t.name}${t.description ? `  ${t.description}` : ""}`).join("\n")
  console.error(`Teams in ${loaded.config.organization.name}:\n${menu}`)
  for (;;) {
    const answer = await ask.ask("Your team (number or name)", teams.some((t) => t.name === saved) ? saved : undefined)
    if (answer === undefined) throw new UsageError("no team chosen", { hint: `scc setup --team <${teams.map((t) => t.name).join("|")}>` })
    const n = Number(answer)
    const picked = Number.isInteger(n) && n >= 1 && n <= teams.length ? teams[n - 1]!.name : teams.find((t) => t.name === answer)?.name
    if (picked) return picked
    ctx.warn(`'${answer}' is not one of the teams`)
  }
}
