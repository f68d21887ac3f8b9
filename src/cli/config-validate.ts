import { command } from "./common"
import { ExitCode, NotFoundError } from "../errors"
import { parseAndValidate } from "../org/validate"
import { envelope, writeOut } from "../output"

// For an org's CI: every error with its JSON path, every warning, exit 3 when
// there are errors. In JSON mode the one envelope carries the errors in
// status.errors (status.ok false) as well as in data.

export default command({
  meta: { name: "validate", description: "Validate an org config file (for CI): exit 3 on errors" },
  args: { file: { type: "positional", required: true, description: "Path to the org config JSON" } },
  async run(ctx, args) {
    const file = Bun.file(args.file)
    if (!(await file.exists())) throw new NotFoundError(`${args.file} does not exist`, { hint: "scc config validate path/to/org.json" })
    const r = parseAndValidate(await file.text())
    const data = { file: args.file, valid: r.errors.length === 0, errors: r.errors, warnings: r.warnings }
    if (ctx.json) {
      const errors = r.errors.map((e) => ({ code: "validation", message: `${e.path}: ${e.message}`, ...(e.hint ? { hint: e.hint } : {}), details: { path: e.path } }))
      writeOut(JSON.stringify(envelope("OrgConfigValidation", data, { errors, warnings: [...ctx.warnings, ...r.warnings] }), null, 2))
    } else {
      const lines = [
        ...r.errors.map((e) => `error: ${e.path}: ${e.message}${e.hint ? `\n  Try: ${e.hint}` : ""}`),
        ...r.warnings.map((w) => `warning: ${w}`),
        data.valid ? `${args.file}: valid${r.warnings.length ? ` (${r.warnings.length} warning${r.warnings.length === 1 ? "" : "s"})` : ""}` : `${args.file}: ${r.errors.length} error${r.errors.length === 1 ? "" : "s"}`,
      ]
      writeOut(lines.join("\n"))
    }
    if (!data.valid) process.exitCode = ExitCode.config
  },
})
