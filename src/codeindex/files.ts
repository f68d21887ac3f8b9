import { lstat, readdir, realpath } from "node:fs/promises"
import { join, relative, sep } from "node:path"
import { processEnv } from "../flag"

// Which files of a root are indexed. In a git work tree the list is git's
// (tracked plus untracked-but-not-ignored: .gitignore is respected); anywhere
// else a walk of the directory. Either way, vendored and build folders,
// excluded globs and other extensions are left out, and every file that is
// listed but not read (binary, too large, minified, a symlink) says why.

/** Folders never indexed wherever they are below the root: dependencies, build output, caches. */
export const VENDORED = new Set([
  ".git", ".hg", ".svn", "node_modules", "bower_components", "vendor", "third_party", "dist", "build", "out", "target",
  "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache", ".next", ".nuxt", ".cache", "coverage", ".gradle", ".idea", "Pods",
])

export type Listed = { path: string; skip?: string }
export type SelectOptions = {
  /** Only these extensions (".ts" or "ts"). */
  extensions?: readonly string[]
  /** Globs relative to the root ("vendor/**", "**\/*.min.js"). */
  exclude?: readonly string[]
}

/** Relative paths, '/'-separated, of the files below `root` (git's list in a work tree). */
export async function listFiles(root: string): Promise<{ files: string[]; source: "git" | "walk" }> {
  const git = Bun.spawn(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { stdout: "pipe", stderr: "ignore", env: { ...processEnv(), GIT_OPTIONAL_LOCKS: "0" } })
  const out = await new Response(git.stdout).text()
  // An ignored folder (node_modules/x inside a repository) lists nothing: walk it instead.
  if ((await git.exited) === 0 && out.length > 0) {
    const seen = new Set<string>()
    for (const p of out.split("\0")) if (p) seen.add(p) // a conflicted file is listed once per stage
    return { files: [...seen], source: "git" }
  }
  const files: string[] = []
  async function walk(dir: string): Promise<void> {
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const full = join(dir, e.name)
      if (e.isDirectory()) {
        if (!VENDORED.has(e.name)) await walk(full)
      } else if (e.isFile() || e.isSymbolicLink()) {
        files.push(relative(root, full).split(sep).join("/"))
      }
    }
  }
  await walk(root)
  return { files, source: "walk" }
}

function normExt(e: string): string {
  return (e.startsWith(".") ? e.slice(1) : e).toLowerCase()
}

/** The files of `listed` to consider, each with the reason it is skipped if it is. */
export function select(paths: readonly string[], opts: SelectOptions & { configExclude?: readonly string[] } = {}): Listed[] {
  const exts = opts.extensions?.length ? new Set(opts.extensions.map(normExt)) : undefined
  const globs = [...(opts.configExclude ?? []), ...(opts.exclude ?? [])].map((g) => ({ g, glob: new Bun.Glob(g) }))
  const out: Listed[] = []
  for (const path of paths) {
    const parts = path.split("/")
    if (exts) {
      const name = parts.at(-1)!
      const dot = name.lastIndexOf(".")
      if (dot <= 0 || !exts.has(name.slice(dot + 1).toLowerCase())) continue // not asked for: not this index's file at all
    }
    const vendored = parts.slice(0, -1).find((p) => VENDORED.has(p))
    if (vendored) {
      out.push({ path, skip: `in ${vendored}/ (vendored or build output)` })
      continue
    }
    const ex = globs.find(({ glob }) => glob.match(path))
    if (ex) {
      out.push({ path, skip: `excluded by ${ex.g}` })
      continue
    }
    out.push({ path })
  }
  return out
}

export type ReadResult = { text: string; bytes: number } | { skip: string; bytes?: number }

/** Whether `inner` is `outer` or below it (both real, absolute paths). */
export function within(outer: string, inner: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep)
}

/** A file's text, or why it is not read: a symlink, too large, binary, minified. */
export async function readSource(root: string, path: string, maxBytes: number): Promise<ReadResult> {
  const full = join(root, path)
  let st
  try {
    st = await lstat(full)
  } catch (e) {
    return { skip: `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }
  }
  if (st.isSymbolicLink()) {
    const target = await realpath(full).catch(() => undefined)
    if (!target) return { skip: "a broken symlink" }
    return { skip: within(root, target) ? `a symlink to ${relative(root, target)} (indexed at its own path)` : "a symlink that leaves the root (not followed)" }
  }
  if (!st.isFile()) return { skip: "not a regular file" }
  if (st.size > maxBytes) return { skip: `${st.size} bytes, over the limit of ${maxBytes} ([indexing] max_file_bytes)`, bytes: st.size }
  const bytes = new Uint8Array(await Bun.file(full).arrayBuffer())
  if (bytes.subarray(0, 8192).includes(0)) return { skip: "binary", bytes: bytes.length }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes)
  if (bytes.length > 20_000) {
    const lines = text.split("\n").length
    if (bytes.length / lines > 400) return { skip: "minified or generated (lines average over 400 characters)", bytes: bytes.length }
  }
  return { text, bytes: bytes.length }
}
