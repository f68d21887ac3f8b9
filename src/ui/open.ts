import * as flag from "../flag"

// Opening a URL in the user's browser: $BROWSER when set (the first command
// of its colon-separated list), `open` on macOS, `xdg-open` where there is a
// display (DISPLAY or WAYLAND_DISPLAY). None of these: the caller prints the
// URL instead. The browser runs on its own; we never wait for it to close.

export type Opener = { command: string[]; via: string }

export function opener(url: string, platform: string = process.platform): Opener | undefined {
  const browser = flag.browser()?.split(":")[0]?.trim()
  if (browser) return { command: browser.includes("%s") ? browser.replace("%s", url).split(/\s+/) : [...browser.split(/\s+/), url], via: "$BROWSER" }
  if (platform === "darwin") return { command: ["open", url], via: "open" }
  if (platform === "win32") return { command: ["cmd", "/c", "start", "", url], via: "start" }
  if (flag.display() && Bun.which("xdg-open")) return { command: ["xdg-open", url], via: "xdg-open" }
  return undefined
}

/** Starts the browser; false when it could not be started (then print the URL). */
export async function openUrl(o: Opener): Promise<boolean> {
  try {
    const proc = Bun.spawn(o.command, { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: flag.processEnv() })
    proc.unref()
    // A launcher that fails at once (no such program, no browser configured) exits non-zero within moments.
    const code = await Promise.race([proc.exited, Bun.sleep(1500).then(() => 0)])
    return code === 0
  } catch {
    return false
  }
}
