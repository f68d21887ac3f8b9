import { describeSource, loadConfig, type LoadedConfig, type LoadOptions, type Source } from "./load"
import { SECTIONS } from "./schema"

// Every configuration value with the place it came from: its default, the
// file, or an environment variable. Secrets in values (passwords in URLs) are
// masked; API keys are stored as hashes and shown by id only.

export type ExplainedValue = { key: string; value: unknown; source: Source; from: string }

export type DaemonConfigExplanation = {
  file: string | null
  searched: string[]
  values: ExplainedValue[]
}

/** `postgres://user:secret@host/db` -> `postgres://user:****@host/db`. */
export function maskUrl(value: string): string {
  try {
    const u = new URL(value)
    if (!u.password) return value
    u.password = "****"
    return u.toString()
  } catch {
    return value
  }
}

function display(key: string, value: unknown): unknown {
  if (key === "daemon.api_keys" && Array.isArray(value)) return value.map((h) => `key ${String(h).split(":")[1] ?? "?"} (hashed)`)
  if (key.endsWith(".url") && typeof value === "string") return maskUrl(value)
  if (key === "client.api_key" && typeof value === "string" && value) return `${value.slice(0, 12)}**** (set)`
  return value
}

export function explainLoaded(loaded: LoadedConfig): DaemonConfigExplanation {
  const values: ExplainedValue[] = []
  for (const section of SECTIONS) {
    const table = loaded.config[section] as Record<string, unknown>
    for (const [k, value] of Object.entries(table)) {
      const key = `${section}.${k}`
      const source = loaded.sources.get(key) ?? { kind: "default" as const }
      values.push({ key, value: display(key, value), source, from: describeSource(source) })
    }
  }
  return { file: loaded.file ?? null, searched: loaded.searched, values }
}

export async function explainDaemonConfig(opts: LoadOptions = {}): Promise<DaemonConfigExplanation> {
  return explainLoaded(await loadConfig(opts))
}
