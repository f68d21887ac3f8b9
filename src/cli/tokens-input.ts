import { UsageError } from "../errors"

/** The text of `cca tokens analyze|compress`: a file, or stdin with `-` or no file. */
export async function readInput(file: unknown): Promise<{ content: string; path?: string }> {
  if (file && file !== "-") {
    const f = Bun.file(String(file))
    if (!(await f.exists())) throw new UsageError(`no such file: ${String(file)}`, { hint: "give a file, or pipe the text in with `-`" })
    return { content: await f.text(), path: String(file) }
  }
  const content = await Bun.stdin.text()
  if (content.length === 0) throw new UsageError("no text: the file or stdin was empty", { hint: "cca tokens analyze FILE, or: cat FILE | cca tokens analyze -" })
  return { content }
}
