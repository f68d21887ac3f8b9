// POSIX path helpers with node:path's results, for modules on the fast
// commands' path. Problem: loading node:path costs ~1 ms in a compiled binary,
// a tenth of `config explain`'s budget. Fix: these few pure functions.
// test/unit/posix-path.test.ts checks them against node:path.posix.

export const isAbsolute = (p: string): boolean => p.startsWith("/")

export function normalize(p: string): string {
  if (p === "") return "."
  const abs = isAbsolute(p)
  const trailing = p.endsWith("/")
  const out: string[] = []
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue
    if (seg === "..") {
      if (out.length > 0 && out.at(-1) !== "..") out.pop()
      else if (!abs) out.push("..")
    } else out.push(seg)
  }
  let s = (abs ? "/" : "") + out.join("/")
  if (s === "") return abs ? "/" : trailing ? "./" : "."
  if (trailing && s !== "/") s += "/"
  return s
}

export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/")
  return joined === "" ? "." : normalize(joined)
}

export function resolve(...parts: string[]): string {
  let path = ""
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    const p = parts[i]!
    if (p !== "") path = path === "" ? p : `${p}/${path}`
  }
  if (!isAbsolute(path)) path = `${process.cwd()}/${path}`
  const n = normalize(path)
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n
}

export function dirname(p: string): string {
  if (p === "") return "."
  let end = p.length
  while (end > 1 && p[end - 1] === "/") end--
  const i = p.lastIndexOf("/", end - 1)
  if (i === -1) return "."
  return i === 0 ? "/" : p.slice(0, i)
}

export function basename(p: string): string {
  let end = p.length
  while (end > 1 && p[end - 1] === "/") end--
  if (end === 1 && p[0] === "/") return ""
  return p.slice(p.lastIndexOf("/", end - 1) + 1, end)
}
