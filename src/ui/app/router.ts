import { useEffect, useState } from "preact/hooks"

// Routes are paths under /ui/ (the daemon answers index.html for all of
// them), so a link can be opened in a new tab or reloaded.

export const BASE = "/ui"

function current(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/"
  return p || "/"
}

const listeners = new Set<() => void>()

export function navigate(to: string): void {
  if (to === current()) return
  history.pushState(null, "", `${BASE}${to}`)
  for (const l of listeners) l()
}

addEventListener("popstate", () => {
  for (const l of listeners) l()
})

export function useRoute(): string {
  const [path, setPath] = useState(current())
  useEffect(() => {
    const l = () => setPath(current())
    listeners.add(l)
    return () => void listeners.delete(l)
  }, [])
  return path
}

/** A click on an in-app link: navigate without reloading (new-tab clicks keep working). */
export function follow(e: MouseEvent): void {
  const a = (e.target as Element | null)?.closest("a")
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
  const href = a.getAttribute("href")
  if (!href || !href.startsWith(`${BASE}/`) || a.target) return
  e.preventDefault()
  navigate(href.slice(BASE.length) || "/")
  document.getElementById("main")?.focus()
}
