import { expect, test } from "bun:test"
import { findJsonSyntaxError, lineColumn } from "../../src/audit/json-position"

const at = (text: string) => {
  const e = findJsonSyntaxError(text)
  if (!e) return null
  return { ...lineColumn(text, e.offset), message: e.message }
}

test("errors are located at the offending character, 1-based line and column", () => {
  expect(at('{\n  "a": 1,\n}')).toEqual({ line: 3, column: 1, message: "expected a property name after ',' (trailing comma?)" })
  expect(at('{\n  "name": x\n}')).toEqual({ line: 2, column: 11, message: 'unexpected "x": expected a value' })
  expect(at('{"a": 1 "b": 2}')).toEqual({ line: 1, column: 9, message: "expected ',' or '}' after a property value, found \"\\\"\"" })
  expect(at("[1, 2,]")).toEqual({ line: 1, column: 7, message: "expected a value after ',' (trailing comma?)" })
  expect(at("{'a': 1}")).toMatchObject({ line: 1, column: 2 })
  expect(at('{"a": "unterminated')).toMatchObject({ line: 1, column: 20, message: "unterminated string" })
  expect(at('{"a": "bad \\q"}')).toMatchObject({ line: 1, column: 13, message: "invalid escape \\q" })
  expect(at('{"a": 01}')).toMatchObject({ line: 1, column: 8, message: "invalid number" })
  expect(at("")).toMatchObject({ line: 1, column: 1 })
  expect(at("{} {}")).toMatchObject({ line: 1, column: 4 })
  expect(at('{"a":\r\n  tru}')).toMatchObject({ line: 2, column: 3 })
  // columns count characters, not UTF-16 units: the emoji is one column
  expect(at('{"😀": 1,, }')).toMatchObject({ line: 1, column: 9 }) // 10 if counted in UTF-16 units
})

test("valid JSON has no error", () => {
  for (const text of ['{"a":[1,-2.5e+3,true,false,null,"\\u00e9\\n"]}', "  [ ]  ", '"x"', "0", '{"nested":{"deep":[{}]}}']) {
    expect(findJsonSyntaxError(text)).toBeNull()
  }
})

test("agrees with JSON.parse on thousands of mutated documents", () => {
  const base = JSON.stringify({ name: "p", version: "1.0.0", list: [1, 2.5, -3e2, true, null], nested: { s: "a\"b\\c\u00e9", e: {} } }, null, 2)
  const alphabet = ['"', "{", "}", "[", "]", ",", ":", " ", "\n", "1", "-", ".", "e", "x", "\\", "t", "n", "\u0001"]
  let seed = 42
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  let invalid = 0
  for (let k = 0; k < 5000; k++) {
    let s = base
    for (let m = 0; m < 1 + rand(3); m++) {
      const i = rand(s.length)
      const op = rand(3)
      const c = alphabet[rand(alphabet.length)]!
      s = op === 0 ? s.slice(0, i) + s.slice(i + 1) : op === 1 ? s.slice(0, i) + c + s.slice(i) : s.slice(0, i) + c + s.slice(i + 1)
    }
    let parses = true
    try {
      JSON.parse(s)
    } catch {
      parses = false
      invalid++
    }
    const err = findJsonSyntaxError(s)
    if (parses !== (err === null)) throw new Error(`disagreement on ${JSON.stringify(s)}: JSON.parse ${parses ? "accepts" : "rejects"}, scanner says ${JSON.stringify(err)}`)
  }
  expect(invalid).toBeGreaterThan(2500)
})
