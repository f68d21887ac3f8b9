import { readRegularFile } from "../safe-read"
import * as flag from "../flag"
import { paths } from "../paths"

// The org source, auth spec and team the user chose, read without valibot:
// `config explain` needs them on every run. A file that is not the plain
// shape falls back to readUserConfig, which reports exactly what is wrong.

export type OrgSettings = {
  /** The org source spec, or undefined when none is configured. */
  source?: string
  /** The auth spec (`env:VAR` / `command:CMD`) that goes with the source. */
  auth?: string
  /** SCC_TEAM, else the user config's team. */
  team?: string
}

type Plain = { organization_source?: { url?: unknown; auth?: unknown }; team?: unknown }

async function readPlainUserConfig(): Promise<{ url?: string; auth?: string; team?: string }> {
  const text = await readRegularFile(paths.sccConfigFile())
  if (text === undefined || text.trim() === "") return {}
  let raw: Plain | undefined
  try {
    raw = JSON.parse(text) as Plain
  } catch {
    raw = undefined
  }
  const src = raw?.organization_source
  const plain =
    raw !== null &&
    typeof raw === "object" &&
    !Array.isArray(raw) &&
    (src === undefined || (typeof src === "object" && src !== null && typeof src.url === "string" && (src.auth === undefined || typeof src.auth === "string"))) &&
    (raw.team === undefined || typeof raw.team === "string")
  if (!plain || !raw) {
    const { readUserConfig } = await import("./user-config")
    const c = await readUserConfig()
    return { url: c.organization_source?.url, auth: c.organization_source?.auth, team: c.team }
  }
  return { url: src?.url as string | undefined, auth: src?.auth as string | undefined, team: raw.team as string | undefined }
}

/** Explicit values win; then SCC_ORG_SOURCE / SCC_ORG_AUTH / SCC_TEAM; then ~/.config/scc/config.json. */
export async function orgSettings(explicit: { source?: string; auth?: string } = {}): Promise<OrgSettings> {
  const user = await readPlainUserConfig()
  const source = explicit.source ?? flag.sccOrgSource() ?? user.url
  // The stored auth spec belongs to the stored source; do not send it elsewhere.
  const auth = explicit.auth ?? flag.sccOrgAuth() ?? (source !== undefined && source === user.url ? user.auth : undefined)
  return { source, auth, team: flag.sccTeam() ?? user.team }
}
