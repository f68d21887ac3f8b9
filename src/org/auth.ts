import { ConfigError } from "../errors"
import * as flag from "../flag"
import { redact, registerSecret } from "../log"

// How the CLI gets a token for the org config: `env:VAR` reads a variable,
// `command:CMD` runs a program (e.g. `command:gh auth token`) and takes its
// trimmed stdout. The spec is stored in the user config; the token never is,
// and it is registered as a secret so no log line can carry it.

const AUTH_HINT = "use --auth env:VAR or --auth 'command:program args'"
export const AUTH_COMMAND_TIMEOUT_MS = 10_000

export type AuthSpec = { kind: "env"; name: string } | { kind: "command"; argv: string[] }

export function parseAuthSpec(spec: string): AuthSpec {
  const s = spec.trim()
  if (s.startsWith("env:")) {
    const name = s.slice(4).trim()
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`invalid auth spec '${spec}': '${name}' is not a variable name`, { hint: AUTH_HINT })
    return { kind: "env", name }
  }
  if (s.startsWith("command:")) {
    const argv = splitArgv(s.slice(8))
    if (argv.length === 0) throw new ConfigError(`invalid auth spec '${spec}': no command`, { hint: AUTH_HINT })
    return { kind: "command", argv }
  }
  throw new ConfigError(`invalid auth spec '${spec}'`, { hint: `${AUTH_HINT} (a token itself is never stored)` })
}

/**
 * Split a command line into argv the way a POSIX shell would for words and
 * quotes only: whitespace separates, '...' is literal, "..." honours \" and \\,
 * a backslash outside quotes escapes the next character. No expansion of any
 * kind: the program runs without a shell.
 */
export function splitArgv(line: string): string[] {
  const out: string[] = []
  let word = ""
  let inWord = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end === -1) throw new ConfigError(`unterminated ' in auth command: ${line}`, { hint: AUTH_HINT })
      word += line.slice(i + 1, end)
      inWord = true
      i = end
    } else if (c === '"') {
      let j = i + 1
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === "\\" && (line[j + 1] === '"' || line[j + 1] === "\\")) j++
        word += line[j]
      }
      if (j >= line.length) throw new ConfigError(`unterminated " in auth command: ${line}`, { hint: AUTH_HINT })
      inWord = true
      i = j
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word)
      word = ""
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (inWord) out.push(word)
  return out
}

/** The token named by `spec`, registered as a secret. */
export async function resolveToken(spec: string, timeoutMs = AUTH_COMMAND_TIMEOUT_MS): Promise<string> {
  const auth = parseAuthSpec(spec)
  const token = auth.kind === "env" ? fromEnv(auth.name) : await fromCommand(auth.argv, timeoutMs)
  registerSecret(token)
  return token
}

function fromEnv(name: string): string {
  const value = flag.envVar(name)?.trim()
  if (!value) throw new ConfigError(`the auth variable ${name} is not set`, { hint: `export ${name}=<token>, or change the auth spec with scc setup --auth` })
  return value
}

async function fromCommand(argv: string[], timeoutMs: number): Promise<string> {
  const shown = argv[0]!
  const started = performance.now()
  const proc = spawnAuth(argv, timeoutMs)
  const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  // A killed command's pipes may stay open in a grandchild: do not wait for them.
  if (proc.signalCode !== null) {
    const timedOut = performance.now() - started >= timeoutMs
    throw new ConfigError(`the auth command '${shown}' ${timedOut ? `did not finish within ${timeoutMs / 1000} s` : `was killed by ${proc.signalCode}`}`, {
      hint: `run it by hand to see why (it must print a token and exit)`,
    })
  }
  const [stdout, stderr] = await output
  const token = stdout.trim()
  if (code !== 0) {
    registerSecret(token)
    throw new ConfigError(`the auth command '${shown}' exited with ${code}${stderr.trim() ? `: ${redact(firstLine(stderr))}` : ""}`, { hint: `run it by hand and fix what it reports` })
  }
  if (token === "") throw new ConfigError(`the auth command '${shown}' printed no token`, { hint: `it must print the token on stdout` })
  return token
}

function spawnAuth(argv: string[], timeoutMs: number) {
  try {
    return Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: flag.processEnv(), timeout: timeoutMs, killSignal: "SIGKILL" })
  } catch (e) {
    throw new ConfigError(`cannot run the auth command '${argv[0]}': ${(e as Error).message}`, { hint: `check that ${argv[0]} is installed and on PATH` })
  }
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0]!.slice(0, 200)
}

/** `Authorization` header value: the token as is when it names its scheme (`Bearer x`, `token x`, `Basic x`), else `Bearer <token>`. */
export function authorizationHeader(token: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*\s+(?=\S)/.exec(token)
  if (scheme) registerSecret(token.slice(scheme[0].length)) // the credential alone must be masked too
  const value = scheme ? token : `Bearer ${token}`
  registerSecret(value)
  return value
}
