import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { writeFileAtomic } from "../files"
import { paths } from "../paths"
import type { IdentityMode } from "./events"

// Who a usage line belongs to, per the org's `stats.user_identity_mode`.
//
// `hash` must be stable and not reversible. A salt everyone knows (the org id)
// would not do: user names are few and guessable, so anyone holding an export
// could hash a staff list and match it. The key is therefore a per-install
// secret (32 random bytes in ~/.config/scc/stats_salt, mode 0600, made on first
// use), mixed with the org id: HMAC-SHA256(secret, org + "\0" + user), first
// 16 hex digits. The price: one person on two machines counts as two users in
// an aggregate; deleting the salt file starts a new identity.

export const saltFile = () => join(paths.sccConfigDir(), "stats_salt")

/** The per-install secret, created (0600) on first use. */
export function installSalt(path = saltFile()): string {
  if (existsSync(path)) {
    const salt = readFileSync(path, "utf8").trim()
    if (/^[0-9a-f]{64}$/.test(salt)) return salt
  }
  const salt = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")
  writeFileAtomic(path, `${salt}\n`, 0o600)
  return salt
}

export type IdentityInput = { user: string | undefined; mode: IdentityMode; orgId?: string | null; salt?: string }

/** The identity written to usage lines: null when anonymous or when no user is known. */
export function userIdentity({ user, mode, orgId, salt }: IdentityInput): string | null {
  if (mode === "anonymous" || !user) return null
  if (mode === "clear") return user
  const hmac = new Bun.CryptoHasher("sha256", salt ?? installSalt())
  hmac.update(`${orgId ?? ""}\0${user}`)
  return `h:${hmac.digest("hex").slice(0, 16)}`
}
