// Named, serialisable errors. Every user-facing failure is one of these: it
// carries a stable code, the process exit code, the HTTP status the daemon
// answers with, and a "Try: ..." hint that names the fix.

export const ExitCode = {
  ok: 0,
  notFound: 1,
  usage: 2,
  config: 3,
  tool: 4,
  prerequisite: 5,
  blocked: 6,
  cancelled: 130,
} as const

export type ErrorOptions = {
  hint?: string
  details?: unknown
  cause?: unknown
}

export type ErrorJSON = { code: string; message: string; hint?: string; details?: unknown }

export class AppError extends Error {
  readonly code: string
  readonly exitCode: number
  readonly status: number
  readonly hint?: string
  readonly details?: unknown

  constructor(code: string, message: string, defaults: ErrorDefaults, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = code
    this.code = code
    this.exitCode = defaults.exitCode
    this.status = defaults.status
    this.hint = opts.hint ?? defaults.hint
    this.details = opts.details
  }

  toJSON(): ErrorJSON {
    const out: ErrorJSON = { code: this.code, message: this.message }
    if (this.hint) out.hint = this.hint
    if (this.details !== undefined) out.details = this.details
    return out
  }
}

type ErrorDefaults = { exitCode: number; status: number; hint?: string }

/** `const Foo = defineError("foo", { exitCode, status })`; `throw new Foo("msg", { hint })`. */
export function defineError(code: string, defaults: ErrorDefaults) {
  return class extends AppError {
    static readonly code = code
    constructor(message: string, opts?: ErrorOptions) {
      super(code, message, defaults, opts)
    }
  }
}

export const NotFoundError = defineError("not_found", { exitCode: ExitCode.notFound, status: 404 })
export const UsageError = defineError("usage", { exitCode: ExitCode.usage, status: 400 })
export const ValidationError = defineError("validation", { exitCode: ExitCode.usage, status: 400 })
export const ConfigError = defineError("config", { exitCode: ExitCode.config, status: 422 })
export const NetworkError = defineError("network", { exitCode: ExitCode.config, status: 502 })
export const ToolError = defineError("tool", { exitCode: ExitCode.tool, status: 500 })
export const PrerequisiteError = defineError("missing_prerequisite", { exitCode: ExitCode.prerequisite, status: 503 })
export const BlockedError = defineError("blocked", { exitCode: ExitCode.blocked, status: 403 })
export const CancelledError = defineError("cancelled", { exitCode: ExitCode.cancelled, status: 499 })
// HTTP-facing errors of the daemon; the CLI maps them to the closest exit code.
export const UnauthorizedError = defineError("unauthorized", { exitCode: ExitCode.config, status: 401 })
export const ForbiddenError = defineError("forbidden", { exitCode: ExitCode.blocked, status: 403 })
export const ConflictError = defineError("conflict", { exitCode: ExitCode.usage, status: 409 })
export const PayloadTooLargeError = defineError("payload_too_large", { exitCode: ExitCode.usage, status: 413 })
export const RateLimitedError = defineError("rate_limited", { exitCode: ExitCode.config, status: 429 })
export const UnavailableError = defineError("unavailable", { exitCode: ExitCode.prerequisite, status: 503 })

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError
}

/** A message plus a `Try: ...` line, for humans. */
export function formatError(e: AppError): string {
  return e.hint ? `${e.message}\nTry: ${e.hint}` : e.message
}
