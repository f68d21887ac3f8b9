import type { Node, Tree } from "web-tree-sitter"
import type { LanguageName } from "../../treesitter/grammars"
import { errorCount, withTree } from "../../treesitter/parser"

// The tree-sitter half of compression: comments out, and code down to its
// signatures. Both promise the same thing: the output parses with no more
// errors than the input did; when an edit would break that, the code goes
// back unchanged and the result says so.

const LINE_COMMENT: Partial<Record<LanguageName, string>> = { python: "#", ruby: "#", bash: "#" }
export const lineComment = (lang: LanguageName): string => LINE_COMMENT[lang] ?? "//"

/** Comments that change what tools do (type checkers, linters, build tags, encodings, shebangs): never removed. */
const DIRECTIVE = /^(#!|\/\/\s*@ts-|\/\*\s*@ts-|\/\/\/\s*<reference|\/\/\s*eslint|\/\*\s*eslint|\/\/\s*prettier-ignore|\/\/go:|\/\/\s*\+build|#\s*(type|noqa|pylint|pragma|fmt):|#\s*-\*-|#\s*(vim?|coding)[:=]|\/\*\s*(istanbul|c8|webpackChunkName|@vite-ignore)|\/\/\s*(istanbul|c8)\s|\/\*[!#]|\/\/\s*#\s*(sourceMappingURL|sourceURL)|\/\/\s*@(flow|jsx|refresh))/

/** Doc comments: JSDoc / Javadoc `/** ... *\/`, Rust and C# `///` / `//!`. */
const DOC = /^(\/\*\*(?!\/)|\/\/\/|\/\/!)/

type Edit = { start: number; end: number; text: string }

function collect(node: Node, pick: (n: Node) => boolean, out: Node[]): void {
  if (pick(node)) return void out.push(node)
  for (let i = 0; i < node.childCount; i++) collect(node.child(i)!, pick, out)
}

function apply(text: string, edits: Edit[]): string {
  edits.sort((a, b) => a.start - b.start)
  let out = ""
  let at = 0
  for (const e of edits) {
    if (e.start < at) continue
    out += text.slice(at, e.start) + e.text
    at = e.end
  }
  return out + text.slice(at)
}

/** Widen a removal to its whole line(s) when nothing else is on them, else to the blanks before it on its line. */
function removal(text: string, start: number, end: number): Edit {
  let ls = start
  while (ls > 0 && (text[ls - 1] === " " || text[ls - 1] === "\t")) ls--
  let le = end
  while (le < text.length && (text[le] === " " || text[le] === "\t")) le++
  const ownLine = (ls === 0 || text[ls - 1] === "\n") && (le === text.length || text[le] === "\n" || text[le] === "\r")
  if (ownLine) {
    if (text[le] === "\r") le++
    if (text[le] === "\n") le++
    return { start: ls, end: le, text: "" }
  }
  // Inline: `a /* x */ b` -> `a b`; `f(/* x */)` -> `f()`; never glue two tokens together.
  const before = text[ls - 1]
  const after = text[le]
  const glue = ls < start || le > end ? " " : ""
  if (le === text.length || after === "\n" || after === "\r") return { start: ls, end: le, text: "" }
  return { start: ls, end: le, text: before !== undefined && /[\w$]/.test(before) && /[\w$]/.test(after ?? "") ? " " : glue && before !== "(" && after !== ")" ? " " : "" }
}

export type CodeResult = { text: string; changed: number; errorsBefore: number; errorsAfter: number; reverted: boolean; note?: string }

async function checked(text: string, lang: LanguageName, errorsBefore: number, out: string, changed: number, what: string): Promise<CodeResult> {
  if (changed === 0) return { text, changed: 0, errorsBefore, errorsAfter: errorsBefore, reverted: false }
  const errorsAfter = await withTree(out, lang, errorCount)
  if (errorsAfter > errorsBefore) {
    return { text, changed: 0, errorsBefore, errorsAfter: errorsBefore, reverted: true, note: `${what} would add ${errorsAfter - errorsBefore} parse error(s) to this ${lang} code; left as it was` }
  }
  return { text: out, changed, errorsBefore, errorsAfter, reverted: false }
}

export async function stripComments(text: string, lang: LanguageName, opts: { keepDocComments?: boolean } = {}): Promise<CodeResult & { docKept: number }> {
  const found: { start: number; end: number; kind: "doc" | "directive" | "plain" }[] = []
  const errorsBefore = await withTree(text, lang, (tree: Tree) => {
    const nodes: Node[] = []
    collect(tree.rootNode, (n) => n.type.includes("comment") && !n.type.includes("comment_") && n.type !== "comment_directive", nodes)
    for (const n of nodes) {
      const body = text.slice(n.startIndex, n.endIndex)
      found.push({ start: n.startIndex, end: n.endIndex, kind: DIRECTIVE.test(body) ? "directive" : DOC.test(body) ? "doc" : "plain" })
    }
    return errorCount(tree)
  })
  let docKept = 0
  const edits: Edit[] = []
  for (const c of found) {
    if (c.kind === "directive") continue
    if (c.kind === "doc" && opts.keepDocComments) {
      docKept++
      continue
    }
    edits.push(removal(text, c.start, c.end))
  }
  const r = await checked(text, lang, errorsBefore, apply(text, edits), edits.length, "removing its comments")
  return { ...r, docKept }
}

/** Function bodies, per grammar: the node types and what an empty one is. */
const BODY_PARENTS = new Set([
  "function_declaration", "function_definition", "method_definition", "method_declaration", "function_expression", "arrow_function",
  "generator_function_declaration", "generator_function", "function_item", "constructor_declaration", "func_literal", "local_function_statement",
  "accessor_declaration", "operator_declaration", "lambda_expression", "function_signature_item",
])
const BODY_TYPES = new Set(["statement_block", "block", "compound_statement", "constructor_body", "function_body"])

function isBody(n: Node): boolean {
  if (!BODY_TYPES.has(n.type) || !n.parent || !BODY_PARENTS.has(n.parent.type)) return false
  return n.endPosition.row > n.startPosition.row || n.endIndex - n.startIndex > 60 // one-liners stay: they are no longer than their marker
}

/**
 * Code to its signatures: every function and method body (outermost ones;
 * nested functions go with them) becomes an empty one, `{}` or, in Python,
 * `...` after the docstring's first line. Imports, types, class shapes and
 * fields stay. A comment on top counts what was cut.
 */
export async function skeleton(text: string, lang: LanguageName): Promise<CodeResult & { bodies: number; linesCut: number }> {
  const edits: Edit[] = []
  let linesCut = 0
  const errorsBefore = await withTree(text, lang, (tree: Tree) => {
    const bodies: Node[] = []
    collect(tree.rootNode, isBody, bodies)
    for (const b of bodies) {
      linesCut += b.endPosition.row - b.startPosition.row
      if (lang === "python") {
        const first = b.namedChild(0)
        const doc = first?.type === "expression_statement" && first.namedChild(0)?.type === "string" ? text.slice(first.startIndex, first.endIndex) : undefined
        const indent = " ".repeat(b.startPosition.column)
        const line = doc?.split("\n")[0]
        const docLine = line === undefined ? "" : line.length < doc!.length ? `${line}${/^[rbuf]*"""/i.test(line) ? '"""' : /^[rbuf]*'''/i.test(line) ? "'''" : ""}\n${indent}` : `${doc}\n${indent}`
        edits.push({ start: b.startIndex, end: b.endIndex, text: `${docLine}...` })
      } else edits.push({ start: b.startIndex, end: b.endIndex, text: "{}" })
    }
    return errorCount(tree)
  })
  if (edits.length === 0) return { text, changed: 0, errorsBefore, errorsAfter: errorsBefore, reverted: false, bodies: 0, linesCut: 0 }
  const marker = `${lineComment(lang)} [signatures only: ${edits.length} function bodies (${linesCut} lines) cut]\n`
  const out = apply(text, edits)
  const shebang = out.startsWith("#!") ? out.indexOf("\n") + 1 : 0
  const r = await checked(text, lang, errorsBefore, out.slice(0, shebang) + marker + out.slice(shebang), edits.length, "cutting its function bodies")
  return { ...r, bodies: r.reverted ? 0 : edits.length, linesCut: r.reverted ? 0 : linesCut }
}
