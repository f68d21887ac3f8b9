import { expect, test } from "bun:test"
import { readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { readTextIfExists, writeFileAtomic } from "../../src/files"
import { tmpdir } from "../support/tmpdir"

test("writeFileAtomic creates parents, sets mode 0600 and leaves no temp file", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, "a", "b", "c.json")
  writeFileAtomic(path, "{}")
  expect(await Bun.file(path).text()).toBe("{}")
  expect(statSync(path).mode & 0o777).toBe(0o600)
  expect(readdirSync(join(tmp.path, "a", "b"))).toEqual(["c.json"])
})

test("writeFileAtomic replaces a file whole and keeps the old one when the write fails", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, "x.txt")
  writeFileSync(path, "old")
  // A directory where the temp file's parent should be a directory cannot be written into.
  expect(() => writeFileAtomic(join(path, "child"), "new")).toThrow()
  expect(await Bun.file(path).text()).toBe("old")
  writeFileAtomic(path, "new")
  expect(await Bun.file(path).text()).toBe("new")
})

test("readTextIfExists returns undefined for a missing file", async () => {
  await using tmp = await tmpdir()
  expect(await readTextIfExists(join(tmp.path, "nope"))).toBeUndefined()
  writeFileSync(join(tmp.path, "yes"), "hi")
  expect(await readTextIfExists(join(tmp.path, "yes"))).toBe("hi")
})
