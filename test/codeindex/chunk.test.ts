import { expect, test } from "bun:test"
import { symlink, writeFile, mkdir } from "node:fs/promises"
import { join } from "node:path"
import { chunkFile, lineChunks, type Chunk } from "../../src/codeindex/chunk"
import { listFiles, readSource, select } from "../../src/codeindex/files"
import { git, tmpdir } from "../support/tmpdir"

// Chunking real code (Python's standard library, an npm package's source) and
// one small program per language, written here, that has each kind of
// definition the language has.

const pick = (cs: Chunk[]) => cs.filter((c) => c.kind !== "block").map((c) => `${c.kind} ${c.parent ? `${c.parent}.` : ""}${c.name}`)
const named = (cs: Chunk[], name: string) => cs.find((c) => c.name === name)!

test("Python's shlex: the class, its methods with their class as parent, functions, docstrings and lines", async () => {
  const path = "/usr/lib/python3.11/shlex.py"
  const text = await Bun.file(path).text()
  const r = await chunkFile(path, text)
  expect(r.method).toBe("tree-sitter")
  expect(r.parseErrors).toBe(0)
  const defs = pick(r.chunks)
  for (const d of ["class shlex", "method shlex.__init__", "method shlex.get_token", "method shlex.read_token", "function split", "function join", "function quote"]) expect(defs).toContain(d)
  const split = named(r.chunks, "split")
  expect(split.signature).toBe("def split(s, comments=False, posix=True)")
  expect(split.doc).toContain("Split the string")
  const lines = text.split("\n")
  expect(lines[split.startLine - 1]).toStartWith("def split(")
  expect(split.content).toBe(lines.slice(split.startLine - 1, split.endLine).join("\n"))
  // The class chunk does not repeat its methods' bodies: they are chunks of their own.
  const cls = named(r.chunks, "shlex")
  expect(cls.content).toContain("def get_token(self) …")
  expect(cls.content).not.toContain(named(r.chunks, "read_token").content)
  // Every line of the file is in some chunk (definitions or the blocks between them), or blank.
  const covered = new Set<number>()
  for (const c of r.chunks) for (let i = c.startLine; i <= c.endLine; i++) covered.add(i)
  const missed = lines.map((l, i) => (covered.has(i + 1) || l.trim() === "" ? -1 : i + 1)).filter((i) => i > 0)
  expect(missed.length).toBeLessThan(5)
})

test("an npm package's CommonJS build (cookie): functions and the comment above each as its doc", async () => {
  const path = "node_modules/cookie/dist/index.js"
  const r = await chunkFile(path, await Bun.file(path).text())
  expect(r.language).toBe("javascript")
  const defs = pick(r.chunks)
  for (const d of ["function parseCookie", "function stringifySetCookie", "function parseSetCookie"]) expect(defs).toContain(d)
  expect(named(r.chunks, "parseCookie").doc.length).toBeGreaterThan(10)
  expect(named(r.chunks, "parseCookie").signature).toBe("function parseCookie(str, options)")
})

const SAMPLES: { path: string; text: string; want: string[]; doc?: [string, string] }[] = [
  {
    path: "a.ts",
    text: `/** Adds two numbers. */\nexport function add(a: number, b: number): number { return a + b }\nexport interface Shape { area(): number }\nexport type Id = string | number\nexport const twice = (n: number) => n * 2\n@sealed\nexport class Circle implements Shape {\n  constructor(private r: number) {}\n  area(): number { return Math.PI * this.r ** 2 }\n  grow = (by: number) => { this.r += by }\n}\nenum Color { Red, Green }\nnamespace Geo { export function origin() { return [0, 0] } }\n`,
    want: ["function add", "interface Shape", "type Id", "function twice", "class Circle", "method Circle.constructor", "method Circle.area", "method Circle.grow", "type Color", "module Geo", "function Geo.origin"],
    doc: ["add", "Adds two numbers."],
  },
  { path: "a.tsx", text: `export function Badge(p: { n: number }) { return <b>{p.n}</b> }\nexport const List = ({ xs }: { xs: string[] }) => <ul>{xs.map((x) => <li>{x}</li>)}</ul>\n`, want: ["function Badge", "function List"] },
  { path: "a.js", text: `// Counts words.\nfunction count(s) { return s.split(" ").length }\nclass Queue { push(x) { this.items.push(x) } }\nQueue.prototype.peek = function () { return this.items[0] }\nmodule.exports.make = function make() { return new Queue() }\n`, want: ["function count", "class Queue", "method Queue.push", "method Queue.peek", "function make"], doc: ["count", "Counts words."] },
  { path: "a.py", text: `import os\n\n@dataclass\nclass Point:\n    """A point in the plane."""\n    x: int\n\n    def norm(self):\n        return (self.x ** 2) ** 0.5\n\nasync def fetch(url):\n    # Gets a page.\n    return url\n`, want: ["class Point", "method Point.norm", "function fetch"], doc: ["Point", "A point in the plane."] },
  { path: "a.go", text: `package main\n\n// Server serves.\ntype Server struct{ addr string }\ntype Handler interface{ Serve() }\n\n// Start begins listening.\nfunc (s *Server) Start() error { return nil }\nfunc main() {}\n`, want: ["class Server", "interface Handler", "method Server.Start", "function main"], doc: ["Start", "Start begins listening."] },
  { path: "a.rs", text: `/// A stack of items.\npub struct Stack<T> { items: Vec<T> }\npub trait Sized2 { fn size(&self) -> usize; }\nimpl<T> Stack<T> {\n    /// Pushes one item.\n    pub fn push(&mut self, t: T) { self.items.push(t) }\n}\nenum Op { Add, Sub }\nfn main() {}\n`, want: ["type Stack", "interface Sized2", "method Sized2.size", "method Stack.push", "type Op", "function main"], doc: ["push", "Pushes one item."] },
  { path: "A.java", text: `/** A greeter. */\npublic class Greeter {\n  public Greeter() {}\n  /** Says hello. */\n  public String greet(String n) { return "hi " + n; }\n}\ninterface Named { String name(); }\n`, want: ["class Greeter", "method Greeter.Greeter", "method Greeter.greet", "interface Named", "method Named.name"], doc: ["greet", "Says hello."] },
  { path: "a.c", text: `#include <stdio.h>\n/* Sums an array. */\nint sum(const int *xs, int n) { int s = 0; for (int i = 0; i < n; i++) s += xs[i]; return s; }\ntypedef struct node { int v; } node_t;\nstruct list { node_t *head; };\n`, want: ["function sum", "type node_t", "class node", "class list"], doc: ["sum", "Sums an array."] },
  { path: "a.cpp", text: `namespace geo {\nclass Box {\n public:\n  int area() const { return w * h; }\n  int w, h;\n};\n}\nint geo::Box::perimeter() { return 2 * (w + h); }\ntemplate <typename T> T maxOf(T a, T b) { return a > b ? a : b; }\n`, want: ["class geo.Box", "method Box.area", "method geo::Box.perimeter", "function maxOf"] },
  { path: "a.cs", text: `namespace App {\n  /// <summary>A cache.</summary>\n  public class Cache {\n    public Cache() {}\n    public int Get(string k) { return 0; }\n  }\n  interface IStore { void Put(string k); }\n  enum Mode { On, Off }\n}\n`, want: ["class App.Cache", "method Cache.Cache", "method Cache.Get", "interface App.IStore", "method IStore.Put", "type App.Mode"] },
  { path: "a.rb", text: `module Shop\n  # A cart of items.\n  class Cart\n    def add(item)\n      @items << item\n    end\n    def self.empty\n      new\n    end\n  end\nend\ndef helper; end\n`, want: ["module Shop", "class Shop.Cart", "method Cart.add", "method Cart.empty", "function helper"], doc: ["Cart", "A cart of items."] },
  { path: "a.php", text: `<?php\ninterface Store { public function get($k); }\nclass Repo implements Store {\n  /** Gets one row. */\n  public function get($k) { return null; }\n}\nfunction helper($x) { return $x; }\n`, want: ["interface Store", "method Store.get", "class Repo", "method Repo.get", "function helper"], doc: ["helper", ""] },
  { path: "a.sh", text: `#!/bin/bash\n# Prints a greeting.\ngreet() {\n  echo "hi $1"\n}\nfunction bye { echo bye; }\ngreet you\n`, want: ["function greet", "function bye"], doc: ["greet", "Prints a greeting."] },
]

for (const s of SAMPLES) {
  test(`${s.path}: its definitions, kinds and parents`, async () => {
    const r = await chunkFile(s.path, s.text)
    expect(r.method).toBe("tree-sitter")
    expect(pick(r.chunks).sort()).toEqual([...s.want].sort())
    if (s.doc && s.doc[1]) expect(r.chunks.find((c) => c.name === s.doc![0])!.doc).toBe(s.doc[1])
  })
}

test("a file without a grammar is line windows, and says so", async () => {
  const text = Array.from({ length: 130 }, (_, i) => `line ${i + 1} of the notes`).join("\n")
  const r = await chunkFile("notes.md", text, { windowLines: 50 })
  expect(r.method).toBe("lines")
  expect(r.reason).toBe("no grammar for this file type")
  expect(r.chunks.map((c) => [c.startLine, c.endLine])).toEqual([[1, 50], [51, 100], [101, 130]])
  expect(r.chunks.every((c) => c.kind === "block" && c.name === null)).toBe(true)
  expect(lineChunks("").length).toBe(0)
})

test("broken source still gives its definitions, and counts the errors", async () => {
  const r = await chunkFile("b.py", "def ok(a):\n    return a\n\ndef broken(:\n    pass\n")
  expect(r.parseErrors).toBeGreaterThan(0)
  expect(pick(r.chunks)).toContain("function ok")
})

test("file selection: git's list (ignored files out), vendored folders, globs, extensions; symlinks, binaries and large files say why", async () => {
  await using tmp = await tmpdir({ git: true })
  const root = tmp.path
  await mkdir(join(root, "src"), { recursive: true })
  await mkdir(join(root, "node_modules/x"), { recursive: true })
  await mkdir(join(root, "lib/vendor"), { recursive: true })
  await writeFile(join(root, "src/a.ts"), "export const a = 1\n")
  await writeFile(join(root, "src/b.py"), "x = 1\n")
  await writeFile(join(root, "secret.log"), "ignored\n")
  await writeFile(join(root, ".gitignore"), "*.log\n")
  await writeFile(join(root, "lib/vendor/v.js"), "var v\n")
  await writeFile(join(root, "node_modules/x/i.js"), "var i\n")
  await writeFile(join(root, "blob.bin"), new Uint8Array([1, 0, 2, 3]))
  await writeFile(join(root, "big.ts"), "x".repeat(5000))
  await symlink("/etc/hostname", join(root, "out.txt"))
  git(root, "add", "src/a.ts")
  const { files, source } = await listFiles(root)
  expect(source).toBe("git")
  expect(files.sort()).toEqual([".gitignore", "big.ts", "blob.bin", "lib/vendor/v.js", "node_modules/x/i.js", "out.txt", "src/a.ts", "src/b.py"])
  const sel = select(files, { exclude: ["**/*.py"] })
  expect(sel.find((f) => f.path === "node_modules/x/i.js")?.skip).toBe("in node_modules/ (vendored or build output)")
  expect(sel.find((f) => f.path === "lib/vendor/v.js")?.skip).toBe("in vendor/ (vendored or build output)")
  expect(sel.find((f) => f.path === "src/b.py")?.skip).toBe("excluded by **/*.py")
  expect(select(files, { extensions: [".ts"] }).map((f) => f.path)).toEqual(["big.ts", "src/a.ts"])
  expect(await readSource(root, "out.txt", 1000)).toEqual({ skip: "a symlink that leaves the root (not followed)" })
  expect(await readSource(root, "blob.bin", 1000)).toMatchObject({ skip: "binary" })
  expect(await readSource(root, "big.ts", 1000)).toMatchObject({ skip: "5000 bytes, over the limit of 1000 ([indexing] max_file_bytes)" })
  expect(await readSource(root, "src/a.ts", 1000)).toEqual({ text: "export const a = 1\n", bytes: 19 })
  // Outside a repository (or in an ignored folder) the directory is walked, vendored folders left out.
  await using plain = await tmpdir()
  await mkdir(join(plain.path, "dist"), { recursive: true })
  await writeFile(join(plain.path, "dist/x.js"), "var x\n")
  await writeFile(join(plain.path, "m.go"), "package m\n")
  expect(await listFiles(plain.path)).toEqual({ files: ["m.go"], source: "walk" })
})
