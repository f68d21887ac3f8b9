import type { Queryable } from "./sql"

// Dashboard sessions (migration 0008). The id is the sha256 of the cookie's
// token; the token itself is never stored. Times come from the caller's
// clock, so expiry is tested by moving a clock instead of waiting.

export type UiSessionRow = {
  id: string
  keyId: string
  keyName: string
  createdAt: Date
  expiresAt: Date
  revokedAt: Date | null
  userAgent: string
}

const date = (v: unknown) => (v instanceof Date ? v : new Date(String(v)))

function toRow(r: Record<string, unknown>): UiSessionRow {
  return {
    id: String(r.id),
    keyId: String(r.key_id),
    keyName: String(r.key_name ?? ""),
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
    revokedAt: r.revoked_at == null ? null : date(r.revoked_at),
    userAgent: String(r.user_agent ?? ""),
  }
}

export type UiSessionRepo = ReturnType<typeof uiSessionRepo>

export function uiSessionRepo(db: Queryable) {
  return {
    async create(s: Omit<UiSessionRow, "revokedAt">): Promise<void> {
      await db.query("INSERT INTO ui_sessions (id, key_id, key_name, created_at, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5, $6)", [
        s.id,
        s.keyId,
        s.keyName,
        s.createdAt,
        s.expiresAt,
        s.userAgent.slice(0, 300),
      ])
    },
    async get(id: string): Promise<UiSessionRow | undefined> {
      const [row] = await db.query("SELECT * FROM ui_sessions WHERE id = $1", [id])
      return row ? toRow(row) : undefined
    },
    async revoke(id: string, at: Date): Promise<boolean> {
      const rows = await db.query("UPDATE ui_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id", [id, at])
      return rows.length > 0
    },
    /** Rows that ended (expired or revoked) before `before`: nobody can use them again. */
    async prune(before: Date): Promise<number> {
      const rows = await db.query("DELETE FROM ui_sessions WHERE expires_at < $1 OR revoked_at < $1 RETURNING id", [before])
      return rows.length
    },
  }
}
