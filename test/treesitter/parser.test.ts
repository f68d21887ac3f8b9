import { expect, test } from "bun:test"
import { GRAMMARS, type LanguageName } from "../../src/treesitter/grammars"
import { languageForPath } from "../../src/treesitter/languages"
import { errorCount, parse, withTree } from "../../src/treesitter/parser"

// Every shipped grammar loads and parses a small program of its language with
// no errors; broken source is counted as errors.

const SAMPLES: Record<LanguageName, string> = {
  bash: 'greet() { echo "hi $1"; }\ngreet you\n',
  c: "int add(int a, int b) { return a + b; }\n",
  cpp: "class A { public: int f() const { return 1; } };\n",
  csharp: "class A { int F() { return 1; } }\n",
  css: ".a > b { color: red; }\n",
  go: "package main\nfunc add(a, b int) int { return a + b }\n",
  java: "class A { int f() { return 1; } }\n",
  javascript: "export function f(a) { return a?.b ?? 1 }\n",
  php: "<?php function f($a) { return $a + 1; }\n",
  python: "def f(a):\n    return a + 1\n",
  ruby: "def f(a)\n  a + 1\nend\n",
  rust: "fn add(a: i32, b: i32) -> i32 { a + b }\n",
  tsx: "export const A = (p: { n: number }) => <div>{p.n}</div>\n",
  typescript: "interface P { n: number }\nexport function f<T>(p: P & T): number { return p.n }\n",
}

test("every grammar parses its sample cleanly", async () => {
  for (const name of Object.keys(GRAMMARS) as LanguageName[]) {
    const errors = await withTree(SAMPLES[name], name, (t) => errorCount(t))
    expect({ name, errors }).toEqual({ name, errors: 0 })
  }
})

test("errors are counted, and trees are freed by withTree", async () => {
  expect(await withTree("def f(:\n  pass\n", "python", errorCount)).toBeGreaterThan(0)
  const tree = await parse("const x = 1", "typescript")
  expect(tree.rootNode.firstChild?.type).toBe("lexical_declaration")
  tree.delete()
})

test("languages by extension, case-insensitive; none for unknown or missing extensions", () => {
  expect(languageForPath("src/a.ts")).toBe("typescript")
  expect(languageForPath("A.TSX")).toBe("tsx")
  expect(languageForPath("lib/x.h")).toBe("c")
  expect(languageForPath("Makefile")).toBeUndefined()
  expect(languageForPath("dir.d/.bashrc")).toBeUndefined()
  expect(languageForPath("notes.md")).toBeUndefined()
})
