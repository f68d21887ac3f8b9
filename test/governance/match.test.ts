import { expect, test } from "bun:test"
import { casefold, firstMatch, globMatch } from "../../src/governance/match"

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
