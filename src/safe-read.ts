import { ConfigError } from "./errors"

// Problem: files a repository ships (.scc.yaml, .scc/exceptions.json) and
// the user's own config and caches were read with Bun.file().text(): a FIFO
// hung forever, a symlink to /dev/zero read gigabytes, a 20 MB file took
// seconds and gigabytes, a directory gave "This is a bug". Fix: stat first
// (following a symlink to what it leads to) and read regular files only, at
// most `maxBytes` of them; anything else is a named ConfigError saying what
// the path is and what to do. Why Bun.file().stat() and a sliced read, not
// node:fs open/fstat: `config explain` reads these files on every run and
// node:fs costs ~2.6 ms at start-up there (test/governance/hot-path.test.ts).
// The slice caps the read even if the file is swapped after the stat.

/** How much of a config, exceptions or cache file scc reads at most. */
export const MAX_FILE_BYTES = 1024 * 1024

type Kind = { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }

function kindOf(st: Kind): string {
  if (st.isDirectory()) return "a directory"
  if (st.isFIFO()) return "a named pipe (FIFO)"
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device"
  if (st.isSocket()) return "a socket"
  return "not a regular file"
}

/** The text of the regular file at `path`, or undefined when nothing is there. */
export async function readRegularFile(path: string, maxBytes = MAX_FILE_BYTES): Promise<string | undefined> {
  const file = Bun.file(path)
  let st: Kind & { size: number }
  try {
    st = await file.stat()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw e
  }
  if (!st.isFile())
    throw new ConfigError(`${path} is ${kindOf(st)}, where scc expects a regular file`, {
      hint: `move it aside (mv '${path}' '${path}.aside') and run the command again`,
      details: { path },
    })
  const tooBig = (bytes: number) =>
    new ConfigError(`${path} is larger than ${Math.round(maxBytes / 1024)} KB, more than scc reads from such a file`, {
      hint: "check that it is the file you meant; config and exceptions files are a few KB",
      details: { path, bytes },
    })
  if (st.size > maxBytes) throw tooBig(st.size)
  const bytes = await file.slice(0, maxBytes + 1).bytes()
  if (bytes.length > maxBytes) throw tooBig(bytes.length) // it grew after the stat
  return new TextDecoder().decode(bytes)
}
