import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { checksum, migrate, MigrationError, migrationStatus } from "../../src/store/migrate"
import { MIGRATIONS, type Migration } from "../../src/store/migrations"
import { pgCode } from "../../src/store/sql"
import { ENGINES, openEngine, type EngineUnderTest } from "../support/postgres"

const dir = join(import.meta.dir, "..", "..", "migrations")

// Numbers are assigned per feature ahead of time (0003 memory ... 0009 hardening),
// so a build may hold 0008 before 0003 exists: unique and increasing, gaps allowed.
test("every file in migrations/ is embedded, in order, numbered uniquely and increasing", async () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()
  expect(files.length).toBeGreaterThan(0)
  for (const f of files) expect(f).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/)
  expect(MIGRATIONS.map((m) => `${m.name}.sql`)).toEqual(files)
  const versions = MIGRATIONS.map((m) => m.version)
  expect(versions[0]).toBe(1)
  for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!)
  for (const m of MIGRATIONS) expect(m.sql).toBe(await Bun.file(join(dir, `${m.name}.sql`)).text())
})

test("checksums ignore CRLF line endings but nothing else", () => {
  expect(checksum("SELECT 1;\r\nSELECT 2;\r\n")).toBe(checksum("SELECT 1;\nSELECT 2;\n"))
  expect(checksum("SELECT 1;")).not.toBe(checksum("SELECT 2;"))
})

for (const name of ENGINES) {
  describe(name, () => {
    let e: EngineUnderTest
    beforeAll(async () => {
      e = await openEngine(name)
    }, 120_000)
    afterAll(async () => {
      await e?.close()
    })
    beforeEach(async () => {
      // An empty database for each test.
      await e.sql.exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    })

    test("migrate applies every migration once, in order, each recorded with its checksum", async () => {
      expect((await migrationStatus(e.sql)).map((s) => s.state as string)).toEqual(MIGRATIONS.map(() => "pending"))
      const first = await migrate(e.sql)
      expect(first.applied).toEqual(MIGRATIONS.map((m) => m.name))
      const rows = await e.sql.query<{ version: number; checksum: string }>("SELECT version, checksum FROM schema_migrations ORDER BY version")
      expect(rows.map((r) => [Number(r.version), r.checksum])).toEqual(MIGRATIONS.map((m) => [m.version, checksum(m.sql)]))
      expect(first.status.every((s) => s.state === "applied" && s.appliedAt instanceof Date)).toBe(true)
      expect((await migrate(e.sql)).applied).toEqual([])
    })

    test("a changed applied migration is a MigrationError with a hint, and nothing runs", async () => {
      await migrate(e.sql, MIGRATIONS.slice(0, 1))
      const edited: Migration[] = [{ ...MIGRATIONS[0]!, sql: `${MIGRATIONS[0]!.sql}\n-- sneaky edit\n` }, ...MIGRATIONS.slice(1)]
      expect((await migrationStatus(e.sql, edited)).map((s) => s.state as string)).toEqual(["changed", ...MIGRATIONS.slice(1).map(() => "pending")])
      const err = await migrate(e.sql, edited).catch((x) => x)
      expect(err).toBeInstanceOf(MigrationError)
      expect(err.code).toBe("migration")
      expect(err.exitCode).toBe(3)
      expect(err.message).toContain("0001_core")
      expect(err.hint).toContain("new migrations/NNNN_name.sql")
      expect(await e.sql.query("SELECT to_regclass('patterns')::text AS t")).toEqual([{ t: null }]) // 0002 did not run
    })

    test("a database migrated by a newer build is refused", async () => {
      await migrate(e.sql)
      const older = MIGRATIONS.slice(0, 1)
      expect((await migrationStatus(e.sql, older)).map((s) => s.state as string)).toEqual(["applied", ...MIGRATIONS.slice(1).map(() => "unknown")])
      const err = await migrate(e.sql, older).catch((x) => x)
      expect(err).toBeInstanceOf(MigrationError)
      expect(err.hint).toContain("newer cca")
    })

    test("a pgvector migration is skipped where vectors are off, later ones still apply, and it applies once pgvector is there", async () => {
      const later: Migration[] = [...MIGRATIONS, { version: 99, name: "0099_plain", sql: "CREATE TABLE plain_later (x int)" }]
      const vectorOnes = later.filter((m) => m.pgvector).map((m) => m.name)
      expect(vectorOnes).toContain("0002_vectors")
      const off = await migrate(e.sql, later, { pgvector: false })
      expect(off.skipped).toEqual(vectorOnes)
      expect(off.applied).toEqual(later.filter((m) => !m.pgvector).map((m) => m.name))
      expect(off.status.find((s) => s.name === "0002_vectors")).toMatchObject({ state: "skipped", reason: "needs pgvector" })
      expect(await e.sql.query("SELECT to_regclass('patterns')::text AS t")).toEqual([{ t: null }])
      // This engine has pgvector: the next migrate (detecting it) applies what was skipped.
      expect((await migrationStatus(e.sql, later)).filter((s) => s.state === "pending").map((s) => s.name)).toEqual(vectorOnes)
      const on = await migrate(e.sql, later)
      expect(on.applied).toEqual(vectorOnes)
      expect(on.skipped).toEqual([])
      expect(on.status.every((s) => s.state === "applied")).toBe(true)
      expect(await e.sql.query("SELECT to_regclass('patterns')::text AS t")).toEqual([{ t: "patterns" }])
    })

    test("features are named only on migrations that can be skipped", () => {
      for (const m of MIGRATIONS) if (m.features?.length) expect(m.pgvector).toBe(true)
      expect(MIGRATIONS.find((m) => m.name === "0002_vectors")).toMatchObject({ pgvector: true, features: ["memory"] })
    })

    test("a failing migration leaves nothing behind", async () => {
      const broken: Migration[] = [...MIGRATIONS, { version: 99, name: "0099_broken", sql: "CREATE TABLE half_done (x int);\nSELECT 1/0;" }]
      const err = await migrate(e.sql, broken).catch((x) => x)
      expect(err).toBeInstanceOf(MigrationError)
      expect(err.message).toContain("0099_broken")
      expect(pgCode(err.cause)).toBe("22012")
      expect(await e.sql.query("SELECT to_regclass('half_done')::text AS t")).toEqual([{ t: null }])
      const states = await migrationStatus(e.sql, broken)
      expect(states.at(-1)).toMatchObject({ name: "0099_broken", state: "pending" })
      expect(states.slice(0, -1).every((s) => s.state === "applied")).toBe(true) // the good ones before it stay applied
    })
  })
}
