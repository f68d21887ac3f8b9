import type { LanguageName } from "./grammars"

// Which grammar a file is parsed with, by its extension. No file-system or
// WASM work here, so callers can sort files cheaply before parsing any.

const BY_EXTENSION: Record<string, LanguageName> = {
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "javascript",
  py: "python",
  pyi: "python",
  go: "go",
  rs: "rust",
  java: "java",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  hh: "cpp",
  hpp: "cpp",
  hxx: "cpp",
  cs: "csharp",
  rb: "ruby",
  php: "php",
  sh: "bash",
  bash: "bash",
  css: "css",
}

/** The grammar for a path (by extension, case-insensitive), or undefined when there is none. */
export function languageForPath(path: string): LanguageName | undefined {
  const slash = path.lastIndexOf("/")
  const dot = path.lastIndexOf(".")
  if (dot <= slash + 1) return undefined // no extension, or a dotfile such as .bashrc
  return BY_EXTENSION[path.slice(dot + 1).toLowerCase()]
}

/** Every extension with a grammar, without the dot. */
export const EXTENSIONS: readonly string[] = Object.keys(BY_EXTENSION)
