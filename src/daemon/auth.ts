import { statSync } from "node:fs"
import { timingSafeEqual } from "node:crypto"
import { digestKeyBytes, keyId, keysFile, parseHash, readKeysFileSync } from "../config/keys"

// The daemon's view of its API keys: hashes from cca.toml plus keys.json,
// which `cca keys create|revoke` change while the daemon runs. A new key works
// at once (an unknown id triggers a re-read), a revoked one stops working
// within `recheckMs` (the file's identity is checked at most that often).

type Entry = { id: string; salt: string; digest: Buffer; principal: Principal }

function entry(id: string, name: string, salt: string, digestHex: string): Entry {
  return { id, salt, digest: Buffer.from(digestHex, "hex"), principal: { keyId: id, name } }
}

export type Principal = { keyId: string; name: string }

export class KeyRing {
  private fromConfig = new Map<string, Entry>()
  private fromFile = new Map<string, Entry>()
  private stamp = ""
  private checkedAt = Number.NEGATIVE_INFINITY
  private loaded = false

  constructor(
    configHashes: readonly string[],
    private readonly file = keysFile(),
    private readonly now: () => number = Date.now,
    private readonly recheckMs = 1000,
    private readonly onReloadError: (e: unknown) => void = () => {},
  ) {
    for (const h of configHashes) {
      const p = parseHash(h)
      if (p) this.fromConfig.set(p.id, entry(p.id, "", p.salt, p.digest))
    }
    this.refresh(true)
  }

  get size(): number {
    return this.fromConfig.size + this.fromFile.size
  }

  /** The key's owner, or undefined. Compares digests in constant time. */
  verify(key: string): Principal | undefined {
    const id = keyId(key)
    if (!id) return undefined
    this.refresh(false)
    let found = this.fromConfig.get(id) ?? this.fromFile.get(id)
    if (!found && this.refresh(true)) found = this.fromFile.get(id)
    if (!found) return undefined
    return timingSafeEqual(digestKeyBytes(found.salt, key), found.digest) ? found.principal : undefined
  }

  /** Whether a key id still works (not revoked): dashboard sessions end with their key. */
  active(keyId: string): boolean {
    this.refresh(false)
    return this.fromConfig.has(keyId) || this.fromFile.has(keyId)
  }

  /** Re-read keys.json if it changed; true when it was re-read. */
  private refresh(force: boolean): boolean {
    const now = this.now()
    if (!force && now - this.checkedAt < this.recheckMs) return false
    this.checkedAt = now
    let stamp = "missing"
    try {
      const s = statSync(this.file)
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`
    } catch {}
    if (stamp === this.stamp) return false
    this.stamp = stamp
    let keys
    try {
      keys = readKeysFileSync(this.file).keys
    } catch (e) {
      if (!this.loaded) throw e // at start-up: refuse to run with a broken keys file
      this.onReloadError(e) // keep the keys we had; a broken edit must not lock everyone out or in
      return false
    }
    this.loaded = true
    const next = new Map<string, Entry>()
    for (const k of keys) {
      const p = parseHash(k.hash)
      if (p && !k.revoked_at) next.set(p.id, entry(p.id, k.name, p.salt, p.digest))
    }
    this.fromFile = next
    return true
  }
}

/** The key a request presents: `Authorization: Bearer KEY` or `X-API-Key: KEY`. */
export function presentedKey(headers: Headers): string | undefined {
  const auth = headers.get("authorization")
  if (auth && auth.length > 7 && /^bearer /i.test(auth)) {
    const key = auth.slice(7).trim()
    if (key && !/\s/.test(key)) return key
  }
  return headers.get("x-api-key")?.trim() || undefined
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host)
}
