// Where a JSON text goes wrong, as line and column.
//
// Problem: JSON.parse's errors carry no position in Bun (JavaScriptCore says
// "JSON Parse error: Unexpected identifier"), and V8's wording differs again.
// Fix: when JSON.parse fails, this small RFC 8259 scanner walks the text and
// stops at the first offending character. It runs only on failure, so the
// common path stays JSON.parse.

export type JsonSyntaxError = { offset: number; message: string }

class Stop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message)
  }
}

const describe = (c: string | undefined) => (c === undefined ? "end of file" : JSON.stringify(c))

/** The first syntax error in `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++
  }
  function fail(message: string, at = i): never {
    throw new Stop(at, message)
  }
  const expectChar = (c: string, what: string) => {
    if (text[i] !== c) fail(`expected ${what}, found ${describe(text[i])}`)
    i++
  }
  const string = () => {
    i++ // opening quote
    for (;;) {
      const c = text[i]
      if (c === undefined) fail("unterminated string")
      if (c === '"') return void i++
      if (c < " ") fail(`control character ${JSON.stringify(c)} in string (escape it)`)
      if (c === "\\") {
        const e = text[i + 1]
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("invalid \\u escape: expected 4 hex digits", i + 1)
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else fail(`invalid escape \\${e ?? ""}`, i + 1)
      } else i++
    }
  }
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400))
    if (!m) fail(text[i] === "-" ? "invalid number: expected a digit after '-'" : `unexpected ${describe(text[i])}`, text[i] === "-" ? i + 1 : i)
    i += m[0].length
    if (/[0-9.eE+-]/.test(text[i] ?? "")) fail(`invalid number`)
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === "{") return object()
    if (c === "[") return array()
    if (c === '"') return string()
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number()
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length
        return
      }
    }
    fail(c === undefined ? "unexpected end of file: expected a value" : `unexpected ${describe(c)}: expected a value`)
  }
  const object = () => {
    i++
    ws()
    if (text[i] === "}") return void i++
    for (;;) {
      ws()
      if (text[i] !== '"') fail(text[i] === "}" ? "expected a property name after ',' (trailing comma?)" : `expected a property name in double quotes, found ${describe(text[i])}`)
      string()
      ws()
      expectChar(":", "':' after a property name")
      value()
      ws()
      if (text[i] === ",") {
        i++
        continue
      }
      expectChar("}", "',' or '}' after a property value")
      return
    }
  }
  const array = () => {
    i++
    ws()
    if (text[i] === "]") return void i++
    for (;;) {
      ws()
      if (text[i] === "]") fail("expected a value after ',' (trailing comma?)")
      value()
      ws()
      if (text[i] === ",") {
        i++
        continue
      }
      expectChar("]", "',' or ']' after an array element")
      return
    }
  }
  try {
    ws()
    if (i === text.length) fail("empty document: expected a JSON value")
    value()
    ws()
    if (i < text.length) fail(`unexpected ${describe(text[i])} after the JSON value`)
    return null
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, message: e.message }
    throw e
  }
}

/** 1-based line and column of a string offset; a column counts characters (code points), CRLF is one break. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text[i]
    if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: [...text.slice(lineStart, offset)].length + 1 }
}
