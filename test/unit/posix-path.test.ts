import { expect, test } from "bun:test"
import { posix } from "node:path"
import * as mine from "../../src/posix-path"

const samples = ["", ".", "..", "/", "//", "a", "a/", "/a", "/a/", "a/b", "/a/b/", "a//b", "a/./b", "a/../b", "../a", "../../a/b", "/..", "/../a", "a/b/../../..", "/a/b/../../../c", "./", "x/.", "x/..", "/a//b///c/", "a/b/c/../d/./e", ".hidden", "/tmp/x.y.z"]

test("normalize, dirname, basename, isAbsolute agree with node:path.posix", () => {
  for (const s of samples) {
    expect([s, mine.normalize(s)]).toEqual([s, posix.normalize(s)])
    expect([s, mine.dirname(s)]).toEqual([s, posix.dirname(s)])
    expect([s, mine.basename(s)]).toEqual([s, posix.basename(s)])
    expect([s, mine.isAbsolute(s)]).toEqual([s, posix.isAbsolute(s)])
  }
})

test("join and resolve agree with node:path.posix", () => {
  for (const a of samples)
    for (const b of ["", "b", "/b", "../b", "b/", "./b/../c"]) {
      expect([a, b, mine.join(a, b)]).toEqual([a, b, posix.join(a, b)])
      expect([a, b, mine.resolve(a, b)]).toEqual([a, b, posix.resolve(a, b)])
    }
  expect(mine.join()).toBe(posix.join())
  expect(mine.resolve()).toBe(posix.resolve())
  expect(mine.resolve("/x", "y", "/z", "w")).toBe(posix.resolve("/x", "y", "/z", "w"))
})
