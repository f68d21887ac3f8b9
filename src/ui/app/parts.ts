import type { ComponentChildren } from "preact"
import { html } from "./html"

// Small pieces shared by the pages: numbers, times, status badges, notices.

export const fmt = (n: number | null | undefined) => (n == null ? "–" : n.toLocaleString("en-US"))
export const usd = (n: number | null | undefined) => (n == null ? "–" : `$${n.toFixed(n >= 1 ? 2 : 4)}`)
export const shortId = (id: string) => (id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id)

export function ago(iso: string | null | undefined): string {
  if (!iso) return "–"
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000)
  if (s < 60) return `${Math.max(0, s)} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return new Date(iso).toLocaleDateString()
}

export function Time({ iso }: { iso: string | null | undefined }) {
  return iso ? html`<time datetime=${iso} title=${new Date(iso).toLocaleString()}>${ago(iso)}</time>` : html`<span>–</span>`
}

export function Badge({ status }: { status: string }) {
  return html`<span class=${`badge s-${status}`}>${status}</span>`
}

export function Notice({ kind = "info", children }: { kind?: "info" | "error" | "missing"; children: ComponentChildren }) {
  return html`<div class=${`notice ${kind}`} role=${kind === "error" ? "alert" : "status"}>${children}</div>`
}

export function NotInBuild({ what, hint }: { what: string; hint?: string }) {
  return html`<${Notice} kind="missing"><strong>Not in this build.</strong> ${what} is not available from this daemon${hint ? `: ${hint}` : "."}<//>`
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const hid = id ?? `h-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`
  return html`<section class="card" aria-labelledby=${hid}><h2 id=${hid}>${title}</h2>${children}</section>`
}
