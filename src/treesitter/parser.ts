import { Language, Parser, type Tree } from "web-tree-sitter"
import { GRAMMARS, RUNTIME_WASM, type LanguageName } from "./grammars"

// Tree-sitter parsing, shared by the code index and token compression.
//
// Problem: web-tree-sitter finds its runtime WASM and grammars next to its own
// module by default, which inside a compiled binary is the binary's virtual
// file system; `locateFile` paths and fetches of it fail.
// Fix: read the embedded bytes ourselves and hand them over (`wasmBinary`
// for the runtime, bytes for `Language.load`).
//
// Loading is lazy and once per process: the runtime on the first parse, each
// grammar on the first file of its language. Trees live in the WASM heap, not
// the JS one, so they must be freed: `withTree` frees the tree when its
// callback returns; whoever calls `parse` calls `tree.delete()`.

let runtime: Promise<void> | undefined
const languages = new Map<LanguageName, Promise<Language>>()
const parsers = new Map<LanguageName, Parser>()

function init(): Promise<void> {
  runtime ??= Bun.file(RUNTIME_WASM)
    .arrayBuffer()
    .then((bytes) => Parser.init({ wasmBinary: new Uint8Array(bytes) }))
  return runtime
}

/** The grammar of `name`, loaded on first use. */
export function loadLanguage(name: LanguageName): Promise<Language> {
  let l = languages.get(name)
  if (!l) {
    l = init()
      .then(() => Bun.file(GRAMMARS[name]).arrayBuffer())
      .then((bytes) => Language.load(new Uint8Array(bytes)))
    l.catch(() => languages.delete(name)) // a failed load may be retried
    languages.set(name, l)
  }
  return l
}

/** A parser for `name`; one per language, reused (parsing is synchronous, so it is never shared by two parses at once). */
export async function parserFor(name: LanguageName): Promise<Parser> {
  const language = await loadLanguage(name)
  let p = parsers.get(name)
  if (!p) {
    p = new Parser()
    p.setLanguage(language)
    parsers.set(name, p)
  }
  return p
}

/** Parse `text`; the caller frees the tree with `tree.delete()`. */
export async function parse(text: string, name: LanguageName): Promise<Tree> {
  const tree = (await parserFor(name)).parse(text)
  if (!tree) throw new Error(`tree-sitter returned no tree for ${name} source`)
  return tree
}

/** Parse `text`, give the tree to `fn`, and free the tree when `fn` is done. */
export async function withTree<T>(text: string, name: LanguageName, fn: (tree: Tree) => T | Promise<T>): Promise<T> {
  const tree = await parse(text, name)
  try {
    return await fn(tree)
  } finally {
    tree.delete()
  }
}

/** How many error or missing nodes a tree holds (0 for source that parses cleanly). */
export function errorCount(tree: Tree): number {
  if (!tree.rootNode.hasError) return 0
  let n = 0
  const cursor = tree.walk()
  try {
    for (;;) {
      const node = cursor.currentNode
      if (node.isError || node.isMissing) n++
      if (node.hasError && cursor.gotoFirstChild()) continue
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return n
      }
    }
  } finally {
    cursor.delete()
  }
}
