import type { Node } from "web-tree-sitter"
import type { LanguageName } from "../treesitter/grammars"
import { languageForPath } from "../treesitter/languages"
import { errorCount, withTree } from "../treesitter/parser"
import { chunkedLanguage, RULES, type ChunkKind, type DefRule } from "./defs"

// A file into chunks: one per definition (function, method, class, interface,
// type, module) found by tree-sitter, with the code between definitions
// (imports, top-level statements) in line windows of kind "block". A file of
// another language, or one the parser throws on, is all line windows. The
// result always says which of the two happened and why.

export type Chunk = {
  name: string | null
  kind: ChunkKind
  signature: string
  doc: string
  /** 1-based, inclusive. */
  startLine: number
  endLine: number
  /** The enclosing class, impl, namespace or module ("Foo" for Foo.bar). */
  parent: string | null
  content: string
}

export type ChunkedFile = {
  language: LanguageName | null
  /** "tree-sitter": definitions; "lines": line windows only. */
  method: "tree-sitter" | "lines"
  /** Why a file has line windows only (no grammar, the parser failed). */
  reason?: string
  /** Error nodes in the tree: the file was chunked, but part of it did not parse. */
  parseErrors: number
  chunks: Chunk[]
}

export type ChunkOptions = { windowLines?: number; maxChunkChars?: number }

const DEFAULT_WINDOW = 60
const MAX_CHUNK_CHARS = 16_000
const MAX_SIGNATURE = 300

const FN_VALUES = new Set(["arrow_function", "function_expression", "function", "generator_function", "generator_function_expression"])
const CLASS_VALUES = new Set(["class", "class_expression"])
const NAME_TYPES = new Set(["identifier", "field_identifier", "qualified_identifier", "destructor_name", "operator_name", "type_identifier", "property_identifier", "scoped_identifier"])

type Def = { node: Node; outer: Node; rule: DefRule; name: string; parent: string | null }

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim()
}

/** The innermost name of a C/C++ declarator chain (`*Foo::bar(int)` -> `Foo::bar`). */
function declaratorName(node: Node | null): string | null {
  for (let n = node, i = 0; n && i < 12; i++) {
    if (NAME_TYPES.has(n.type)) return n.text
    n = n.childForFieldName("declarator") ?? n.namedChildren.find((c) => c && (NAME_TYPES.has(c.type) || c.type.endsWith("declarator"))) ?? null
  }
  return null
}

function typeName(text: string): string {
  const m = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:<.*)?$/.exec(text.replace(/[&*\s]+$/, "").replace(/^[&*\s(]+|\)$/g, ""))
  return m?.[1] ?? text
}

function nameOf(node: Node, lang: LanguageName): string | null {
  switch (node.type) {
    case "function_definition":
      if (lang === "c" || lang === "cpp") return declaratorName(node.childForFieldName("declarator"))
      break
    case "type_definition":
      return declaratorName(node.childForFieldName("declarator"))
    case "impl_item": {
      const t = node.childForFieldName("type")?.text
      return t ? typeName(t) : null
    }
  }
  const n = node.childForFieldName("name")
  if (n) return n.text
  if (node.type === "class_specifier" || node.type === "struct_specifier") return null
  return null
}

/** The receiver type of a Go method: `func (s *Server) Serve()` -> Server. */
function goReceiver(node: Node): string | null {
  const r = node.childForFieldName("receiver")
  const p = r?.namedChildren.find((c) => c?.type === "parameter_declaration")
  const t = p?.childForFieldName("type")?.text
  return t ? typeName(t.replace(/\[.*$/, "")) : null
}

const BODY_TYPES = new Set(["statement_block", "block", "class_body", "declaration_list", "field_declaration_list", "compound_statement", "interface_body", "enum_body", "body_statement", "object_type", "enum_variant_list", "constructor_body"])

function bodyOf(node: Node): Node | null {
  const b = node.childForFieldName("body")
  if (b) return b
  for (const c of node.namedChildren) if (c && BODY_TYPES.has(c.type)) return c
  return null
}

function signatureOf(node: Node, source: string, body: Node | null): string {
  const text = node.text
  let head: string
  if (body && body.startIndex > node.startIndex) {
    // startIndex counts UTF-16 code units in web-tree-sitter, as JS strings do.
    head = source.slice(node.startIndex, body.startIndex)
  } else {
    const nl = text.indexOf("\n")
    head = nl === -1 ? text : text.slice(0, nl)
  }
  return clip(oneLine(head.replace(/[{:]\s*$/, "")), MAX_SIGNATURE)
}

function cleanComment(text: string): string {
  return text
    .split("\n")
    .map((l) =>
      l
        .trim()
        .replace(/^(\/\*\*?|\/\/\/?!?|#+|\*\/|\*)\s?/, "")
        .replace(/\*\/$/, "")
        .trimEnd(),
    )
    .filter((l, i, a) => l !== "" || (i > 0 && i < a.length - 1))
    .join("\n")
    .trim()
}

/** The comments right above a definition (no blank line between), and the row they start on. */
function leadingComments(outer: Node): { text: string; row: number } {
  const parts: string[] = []
  let row = outer.startPosition.row
  // Ruby puts a comment above a module's first member before the module's body node, not inside it.
  const first = outer.previousNamedSibling ?? (outer.parent && outer.parent.firstNamedChild?.id === outer.id ? outer.parent.previousNamedSibling : null)
  for (let p = first; p && !p.text.startsWith("#!") && p.type.includes("comment") && p.endPosition.row >= row - 1 && p.endPosition.row < outer.startPosition.row + (parts.length ? 0 : 1); p = p.previousNamedSibling) {
    // A comment that ends on the line of the previous code is that code's, not ours.
    const before = p.previousSibling
    if (before && !before.type.includes("comment") && before.endPosition.row === p.startPosition.row && before.endPosition.column > 0) break
    parts.unshift(p.text)
    row = p.startPosition.row
  }
  return { text: cleanComment(parts.join("\n")), row }
}

function pythonDocstring(body: Node | null): string {
  const first = body?.namedChildren[0]
  if (!first || first.type !== "expression_statement") return ""
  const s = first.namedChildren[0]
  if (!s || s.type !== "string") return ""
  return s.text
    .replace(/^[rRbBuU]*("""|'''|"|')/, "")
    .replace(/("""|'''|"|')$/, "")
    .split("\n")
    .map((l) => l.trim())
    .join("\n")
    .trim()
}

/** A JS/TS definition that is not a declaration: `const f = () => {}`, `exports.f = function () {}`, `x = () => {}` in a class. */
function jsValueDef(node: Node): { name: string; value: Node; parent: string | null; kind: ChunkKind } | null {
  if (node.type === "lexical_declaration" || node.type === "variable_declaration") {
    const decls = node.namedChildren.filter((c) => c?.type === "variable_declarator")
    if (decls.length !== 1) return null
    const d = decls[0]!
    const v = d.childForFieldName("value")
    const n = d.childForFieldName("name")
    if (!v || !n || n.type !== "identifier") return null
    if (FN_VALUES.has(v.type)) return { name: n.text, value: v, parent: null, kind: "function" }
    if (CLASS_VALUES.has(v.type)) return { name: n.text, value: v, parent: null, kind: "class" }
    return null
  }
  if (node.type === "expression_statement") {
    const a = node.namedChildren[0]
    if (a?.type !== "assignment_expression") return null
    const left = a.childForFieldName("left")
    const right = a.childForFieldName("right")
    if (!left || !right || !FN_VALUES.has(right.type)) return null
    if (left.type === "member_expression") {
      const prop = left.childForFieldName("property")?.text
      const obj = left.childForFieldName("object")?.text.replace(/\.prototype$/, "") ?? null
      if (!prop) return null
      return { name: prop, value: right, parent: obj === "exports" || obj === "module.exports" || obj === "module" ? null : obj, kind: obj?.endsWith("prototype") || left.text.includes(".prototype.") ? "method" : "function" }
    }
    if (left.type === "identifier") return { name: left.text, value: right, parent: null, kind: "function" }
    return null
  }
  if (node.type === "public_field_definition" || node.type === "field_definition") {
    const v = node.childForFieldName("value")
    const n = node.childForFieldName("name") ?? node.childForFieldName("property")
    if (v && n && FN_VALUES.has(v.type)) return { name: n.text, value: v, parent: null, kind: "method" }
  }
  return null
}

type Found = { def: Def; startRow: number; children: Found[]; kind: ChunkKind; doc: string; signature: string }

function collect(root: Node, lang: Exclude<LanguageName, "css">, source: string): Found[] {
  const rules = RULES[lang]
  const wrappers = new Set(rules.wrappers ?? [])
  const js = lang === "typescript" || lang === "tsx" || lang === "javascript"

  function visit(node: Node, parent: string | null, inClass: boolean, inFunction: boolean, out: Found[]): void {
    for (const child of node.namedChildren) {
      if (!child) continue
      let target = child
      // The outer node of a wrapped definition: decorators, export, template<...>.
      while (wrappers.has(target.type)) {
        const inner = target.childForFieldName("declaration") ?? target.childForFieldName("definition") ?? target.namedChildren.find((c) => c && (rules.defs[c.type] || (js && jsValueDef(c)) || wrappers.has(c.type)))
        if (!inner) break
        target = inner
      }
      const rule = rules.defs[target.type]
      const jsv = !rule && js && !inFunction ? jsValueDef(target) : null
      if (!rule && !jsv) {
        if (wrappers.has(child.type) || child.namedChildCount > 0) visit(child, parent, inClass, inFunction, out)
        continue
      }
      let name = jsv ? jsv.name : nameOf(target, lang)
      const hasBody = bodyOf(target) !== null
      // `struct foo x;` and forward declarations are uses of a type, not definitions of one.
      if (!jsv && (target.type.endsWith("_specifier") || target.type === "class") && lang !== "ruby" && !hasBody) name = null
      if (!name) {
        visit(target, parent, inClass, inFunction, out)
        continue
      }
      let ownParent = jsv?.parent ?? parent
      let explicitParent = jsv?.parent != null
      if (lang === "go" && target.type === "method_declaration") {
        ownParent = goReceiver(target) ?? parent
        explicitParent = true
      }
      if ((lang === "cpp" || lang === "c") && name.includes("::") && target.type === "function_definition") {
        const i = name.lastIndexOf("::")
        ownParent = name.slice(0, i)
        name = name.slice(i + 2)
        explicitParent = true
      }
      const r: DefRule = jsv ? { kind: jsv.kind } : rule!
      let kind = r.kind
      if (kind === "function" && (inClass || explicitParent)) kind = "method"
      if (lang === "go" && target.type === "type_spec") {
        const t = target.childForFieldName("type")?.type
        kind = t === "interface_type" ? "interface" : t === "struct_type" ? "class" : "type"
      }
      if (r.container) {
        visit(target, name, true, inFunction, out)
        continue
      }
      const valueNode = jsv?.value ?? target
      const body = bodyOf(valueNode)
      const signature = signatureOf(target, source, jsv ? body : bodyOf(target))
      const docOuter = lang === "go" && target.type === "type_spec" && target.parent?.type === "type_declaration" ? target.parent : child
      const comments = leadingComments(docOuter)
      const doc = (lang === "python" ? pythonDocstring(body) : "") || comments.text
      const found: Found = { def: { node: target, outer: docOuter, rule: r, name, parent: ownParent }, startRow: comments.text ? comments.row : docOuter.startPosition.row, children: [], kind, doc, signature }
      out.push(found)
      const isFn = kind === "function" || kind === "method"
      const scope = kind === "type" ? ownParent : ownParent && kind === "method" ? `${ownParent}.${name}` : name
      if (body) visit(body, scope, !isFn && kind !== "module", inFunction || isFn, found.children)
      else visit(valueNode, scope, !isFn && kind !== "module", inFunction || isFn, found.children)
    }
  }

  const out: Found[] = []
  visit(root, null, false, false, out)
  return out
}

function windows(lines: string[], from: number, to: number, size: number, out: Chunk[], maxChars: number): void {
  for (let s = from; s <= to; s += size) {
    const e = Math.min(to, s + size - 1)
    const text = lines.slice(s, e + 1).join("\n")
    const meaningful = text.split("\n").filter((l) => l.trim().length > 1).length
    if (meaningful < 2 && e - s + 1 > 1) continue
    if (text.trim() === "") continue
    const first = lines.slice(s, e + 1).find((l) => l.trim() !== "") ?? ""
    out.push({ name: null, kind: "block", signature: clip(oneLine(first), MAX_SIGNATURE), doc: "", startLine: s + 1, endLine: e + 1, parent: null, content: clip(text, maxChars) })
  }
}

/** Line windows over a whole file. */
export function lineChunks(text: string, opts: ChunkOptions = {}): Chunk[] {
  const lines = text.split("\n")
  if (lines.length > 1 && lines.at(-1) === "") lines.pop()
  const out: Chunk[] = []
  windows(lines, 0, lines.length - 1, opts.windowLines ?? DEFAULT_WINDOW, out, opts.maxChunkChars ?? MAX_CHUNK_CHARS)
  return out
}

function flatten(found: Found[], lines: string[], maxChars: number, out: Chunk[]): void {
  for (const f of found) {
    const start = f.startRow
    const end = f.def.outer.endPosition.row
    let content: string
    if (f.children.length > 0 && (f.kind === "class" || f.kind === "interface" || f.kind === "module")) {
      // A class's chunk is its own text with each member definition cut to its first line: the members are chunks of their own.
      const keep: string[] = []
      let row = start
      for (const c of f.children) {
        const cs = c.startRow
        const ce = c.def.outer.endPosition.row
        if (cs < row) continue
        keep.push(...lines.slice(row, cs))
        keep.push(`${/^\s*/.exec(lines[c.def.outer.startPosition.row] ?? "")?.[0] ?? ""}${c.signature} …`)
        row = ce + 1
      }
      keep.push(...lines.slice(row, end + 1))
      content = keep.join("\n")
    } else {
      content = lines.slice(start, end + 1).join("\n")
    }
    out.push({ name: f.def.name, kind: f.kind, signature: f.signature, doc: clip(f.doc, 4000), startLine: start + 1, endLine: end + 1, parent: f.def.parent, content: clip(content, maxChars) })
    flatten(f.children, lines, maxChars, out)
  }
}

/** Chunks of one file's text; `path` picks the grammar. */
export async function chunkFile(path: string, text: string, opts: ChunkOptions = {}): Promise<ChunkedFile> {
  const size = opts.windowLines ?? DEFAULT_WINDOW
  const maxChars = opts.maxChunkChars ?? MAX_CHUNK_CHARS
  const language = languageForPath(path) ?? null
  if (!language || !chunkedLanguage(language)) {
    return { language, method: "lines", reason: language ? `no definitions are read from ${language}` : "no grammar for this file type", parseErrors: 0, chunks: lineChunks(text, opts) }
  }
  const lines = text.split("\n")
  if (lines.length > 1 && lines.at(-1) === "") lines.pop()
  try {
    return await withTree(text, language, (tree) => {
      const found = collect(tree.rootNode, language, text)
      const chunks: Chunk[] = []
      flatten(found, lines, maxChars, chunks)
      // What no top-level definition covers (imports, statements, scripts) in line windows.
      const covered = new Uint8Array(lines.length)
      for (const f of found) covered.fill(1, f.startRow, f.def.outer.endPosition.row + 1)
      for (let i = 0; i < lines.length; ) {
        if (covered[i]) {
          i++
          continue
        }
        let j = i
        while (j + 1 < lines.length && !covered[j + 1]) j++
        windows(lines, i, j, size, chunks, maxChars)
        i = j + 1
      }
      chunks.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine)
      return { language, method: "tree-sitter" as const, parseErrors: tree.rootNode.hasError ? errorCount(tree) : 0, chunks }
    })
  } catch (e) {
    return { language, method: "lines", reason: `the ${language} parser failed: ${e instanceof Error ? e.message : String(e)}`, parseErrors: 0, chunks: lineChunks(text, opts) }
  }
}
