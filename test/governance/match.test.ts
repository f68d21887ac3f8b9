import { expect, test } from "bun:test"
import { casefold, firstMatch, globMatch, PatternSet } from "../../src/governance/match"

test("glob operators", () => {
  expect(globMatch("evil-tool@market", "evil-*")).toBe(true)
  expect(globMatch("good-tool@market", "evil-*")).toBe(false)
  expect(globMatch("ab", "a?")).toBe(true)
  expect(globMatch("abc", "a?")).toBe(false)
  expect(globMatch("b1", "[abc]1")).toBe(true)
  expect(globMatch("d1", "[abc]1")).toBe(false)
  expect(globMatch("d1", "[!abc]1")).toBe(true)
  expect(globMatch("a1", "[!abc]1")).toBe(false)
  expect(globMatch("x3", "x[0-5]")).toBe(true)
  expect(globMatch("x7", "x[0-5]")).toBe(false)
})

test("regex metacharacters in patterns are literal", () => {
  expect(globMatch("a.b", "a.b")).toBe(true)
  expect(globMatch("axb", "a.b")).toBe(false)
  expect(globMatch("a+b(c)", "a+b(c)")).toBe(true)
  expect(globMatch("[unclosed", "[unclosed")).toBe(true)
  expect(globMatch("x^y$", "x^y$")).toBe(true)
})

test("matching is trimmed and Unicode case-insensitive", () => {
  expect(globMatch("  Evil-Tool ", "evil-*")).toBe(true)
  expect(globMatch("STRASSE", "straße")).toBe(true)
  expect(globMatch("ＥＶＩＬ", "evil")).toBe(true) // fullwidth folds under NFKC
  expect(casefold(" ÄBC ")).toBe("äbc")
})

test("firstMatch returns the original pattern", () => {
  expect(firstMatch("Evil@x", ["good*", "EVIL*", "*"])).toBe("EVIL*")
  expect(firstMatch("ok", ["evil*"])).toBeUndefined()
})

test("? and [...] count an astral character as one; * and literals match it too", () => {
  expect(globMatch("a😀b", "a?b")).toBe(true)
  expect(globMatch("a😀b", "a[😀x]b")).toBe(true)
  expect(globMatch("a😀b", "a*b")).toBe(true)
  expect(globMatch("a😀b", "a😀b")).toBe(true)
  expect(globMatch("a😀😀b", "a?b")).toBe(false)
})

test("a set finds the first pattern as written, trying values in order", () => {
  const set = new PatternSet(["evil-*", "*@bad", "x[0-9]"])
  expect(set.first(["good@bad", "evil-thing"])).toBe("*@bad")
  expect(set.first(["x7"])).toBe("x[0-9]")
  expect(set.first(["fine@ok"])).toBeUndefined()
  expect(new PatternSet([]).first(["anything"])).toBeUndefined()
  expect(new PatternSet(["docker.io/library/ubuntu"], (p) => p.replace("docker.io/library/", "")).first(["ubuntu"])).toBe("docker.io/library/ubuntu")
})

test("regex-special characters in literals and classes stay literal", () => {
  for (const lit of ["a-b", "a/b", "a{1}", "a|b", "a$", "(x)", "a+b", "a\\b"]) expect([lit, globMatch(lit, lit)]).toEqual([lit, true])
  expect(globMatch("a\\b", "a[\\]b")).toBe(true)
  expect(globMatch("a]b", "a[]]b")).toBe(true) // as in fnmatch, a `]` first in a class is literal
})

test("star-only patterns (matched without a regex) agree with a regex reference on generated cases", () => {
  // A seeded generator over a small alphabet, so overlaps between the pieces are common.
  let seed = 42
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
  const word = (alphabet: string, max: number) => Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join("")
  const reference = (pattern: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+^${}()|\\]/g, "\\$&")).join(".*")}$`, "s")
  let checked = 0
  for (let i = 0; i < 3000; i++) {
    const pattern = word("ab*", 7)
    const value = word("ab", 7)
    expect([pattern, value, globMatch(value, pattern)]).toEqual([pattern, value, reference(pattern).test(value)])
    checked++
  }
  expect(checked).toBe(3000)
  expect(globMatch("aa", "a*a")).toBe(true)
  expect(globMatch("a", "a*a")).toBe(false)
  expect(globMatch("", "*")).toBe(true)
  expect(globMatch("abc", "a*bc*c")).toBe(false)
})
