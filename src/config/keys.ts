import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as v from "valibot"
import { ConfigError, NotFoundError } from "../errors"
import { readTextIfExists, writeJsonAtomic } from "../files"
import { paths } from "../paths"

// API keys of the daemon. A key is `cca_<id>_<secret>`; only a salted SHA-256
// of it is ever stored, as `sha256:<id>:<salt>:<digest>`, either in
// cca.toml's daemon.api_keys (for deployments) or in keys.json next to it
// (what `cca keys create|revoke` manage). The id is not secret: it names the
// key in lists and logs and lets the daemon find the one hash to compare.

export const KEY_PREFIX = "cca_"

export const StoredKey = v.object({
  id: v.string(),
  name: v.string(),
  hash: v.string(),
  created_at: v.string(),
  revoked_at: v.optional(v.nullable(v.string()), null),
})
export type StoredKey = v.InferOutput<typeof StoredKey>

const KeysFile = v.object({ version: v.literal(1), keys: v.array(StoredKey) })
type KeysFile = v.InferOutput<typeof KeysFile>

export type ParsedHash = { id: string; salt: string; digest: string }

export const keysFile = () => join(paths.ccaConfigDir(), "keys.json")

function randomToken(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url")
}

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => b.toString(16).padStart(2, "0")).join("")
}

/** sha256(salt NUL key): what is stored (as hex) and what the daemon compares (as bytes). */
export function digestKeyBytes(salt: string, key: string): Uint8Array {
  return Bun.CryptoHasher.hash("sha256", `${salt}\0${key}`) as Uint8Array
}

export function digestKey(salt: string, key: string): string {
  return Buffer.from(digestKeyBytes(salt, key)).toString("hex")
}

export function hashKey(id: string, key: string, salt = randomToken(16)): string {
  return `sha256:${id}:${salt}:${digestKey(salt, key)}`
}

export function parseHash(entry: string): ParsedHash | undefined {
  const [scheme, id, salt, digest] = entry.split(":")
  if (scheme !== "sha256" || !id || !salt || !digest || digest.length !== 64) return undefined
  return { id, salt, digest }
}

/** The id inside a presented key, or undefined when it is not shaped like one of ours. */
export function keyId(key: string): string | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined
  const end = key.indexOf("_", KEY_PREFIX.length)
  if (end <= KEY_PREFIX.length) return undefined
  return key.slice(KEY_PREFIX.length, end)
}

export function generateKey(): { id: string; key: string; hash: string } {
  const id = randomId()
  const key = `${KEY_PREFIX}${id}_${randomToken(32)}`
  return { id, key, hash: hashKey(id, key) }
}

function parseKeysFile(path: string, text: string | undefined): KeysFile {
  if (text === undefined || text.trim() === "") return { version: 1, keys: [] }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`, { hint: `fix or delete ${path} (deleting it revokes every key in it)` })
  }
  const parsed = v.safeParse(KeysFile, raw)
  if (!parsed.success) throw new ConfigError(`${path}: ${parsed.issues[0].message}`, { hint: `fix or delete ${path} (deleting it revokes every key in it)` })
  return parsed.output
}

export async function readKeysFile(path = keysFile()): Promise<KeysFile> {
  return parseKeysFile(path, await readTextIfExists(path))
}

export function readKeysFileSync(path = keysFile()): KeysFile {
  let text: string | undefined
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
  }
  return parseKeysFile(path, text)
}

/** Make a key, store its hash, and return the key: the only time it exists in clear. */
export async function createKey(name: string, path = keysFile()): Promise<{ id: string; name: string; key: string; hash: string; file: string }> {
  const file = await readKeysFile(path)
  const { id, key, hash } = generateKey()
  file.keys.push({ id, name, hash, created_at: new Date().toISOString(), revoked_at: null })
  writeJsonAtomic(path, file, 0o600)
  return { id, name, key, hash, file: path }
}

export type KeyInfo = { id: string; name: string; source: string; created_at: string | null; revoked_at: string | null }

export async function listKeys(configHashes: readonly string[], path = keysFile()): Promise<KeyInfo[]> {
  const file = await readKeysFile(path)
  const fromConfig: KeyInfo[] = configHashes.flatMap((h) => {
    const p = parseHash(h)
    return p ? [{ id: p.id, name: "", source: "cca.toml daemon.api_keys", created_at: null, revoked_at: null }] : []
  })
  return [...fromConfig, ...file.keys.map((k) => ({ id: k.id, name: k.name, source: path, created_at: k.created_at, revoked_at: k.revoked_at ?? null }))]
}

export async function revokeKey(id: string, configHashes: readonly string[], path = keysFile()): Promise<StoredKey> {
  const file = await readKeysFile(path)
  const key = file.keys.find((k) => k.id === id)
  if (!key) {
    if (configHashes.some((h) => parseHash(h)?.id === id)) {
      throw new ConfigError(`key ${id} comes from daemon.api_keys in cca.toml`, { hint: `remove its sha256:${id}:... line from cca.toml and restart the daemon` })
    }
    throw new NotFoundError(`no API key with id ${id}`, { hint: "cca keys list" })
  }
  key.revoked_at ??= new Date().toISOString()
  writeJsonAtomic(path, file, 0o600)
  return key
}
