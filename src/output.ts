import type { ErrorJSON } from "./errors"
import { VERSION } from "./version"

// One JSON envelope for every read command, and plain tables for humans.

export const API_VERSION = "scc.cli/v1"

export type Envelope<T> = {
  apiVersion: typeof API_VERSION
  kind: string
  metadata: { generatedAt: string; cliVersion: string }
  status: { ok: boolean; errors: ErrorJSON[]; warnings: string[] }
  data: T
}

export function envelope<T>(kind: string, data: T, status: { errors?: ErrorJSON[]; warnings?: string[] } = {}): Envelope<T> {
  const errors = status.errors ?? []
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { generatedAt: new Date().toISOString(), cliVersion: VERSION },
    status: { ok: errors.length === 0, errors, warnings: status.warnings ?? [] },
    data,
  }
}

// console.log/console.error, not process.stdout/stderr: touching the Node
// stream objects costs ~12 ms at start-up in a compiled binary. Both are
// synchronous and flushed before process.exit.
export function writeOut(text: string): void {
  console.log(text.endsWith("\n") ? text.slice(0, -1) : text)
}

export function writeErr(text: string): void {
  console.error(text.endsWith("\n") ? text.slice(0, -1) : text)
}

export type Column<R> = { header: string; get: (row: R) => string | number | boolean | undefined | null; align?: "left" | "right" }

/** A plain-text table: headers, one row per line, columns padded to fit. */
export function table<R>(rows: readonly R[], columns: Column<R>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.get(r) ?? "")))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)))
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (columns[i]!.align === "right" ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join("\n")
}

/** `key: value` lines with the keys aligned. */
export function keyValues(pairs: [string, string | number | boolean | undefined | null][]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v ?? ""}`).join("\n")
}
