import { readdirSync } from "node:fs"
import { join } from "node:path"
import { NotFoundError, ValidationError } from "../errors"
import { paths } from "../paths"
import backend from "./roles/backend.md" with { type: "text" }
import coordinator from "./roles/coordinator.md" with { type: "text" }
import frontend from "./roles/frontend.md" with { type: "text" }
import qa from "./roles/qa.md" with { type: "text" }
import security from "./roles/security.md" with { type: "text" }

// Role prompts, delivered with --append-system-prompt. The five built-in roles
// are text files inside the binary; a custom role is `<dir>/<name>.md` in the
// roles directory (~/.config/cca/roles by default), and a file there named
// like a built-in role replaces it.

export const BUILTIN_ROLES: Readonly<Record<string, string>> = { coordinator, frontend, backend, security, qa }

export type RolePrompt = { name: string; prompt: string; source: "builtin" | string }

const ROLE_NAME = /^[a-z][a-z0-9_-]{0,39}$/

export const rolesDir = () => join(paths.ccaConfigDir(), "roles")

export function checkRoleName(name: string): void {
  if (!ROLE_NAME.test(name)) {
    throw new ValidationError(`invalid role name ${JSON.stringify(name)}`, { hint: "a role name is lowercase letters, digits, - and _, starting with a letter (at most 40)" })
  }
}

export async function loadRole(name: string, dir: string = rolesDir()): Promise<RolePrompt> {
  checkRoleName(name)
  const file = join(dir, `${name}.md`)
  const custom = Bun.file(file)
  if (await custom.exists()) return { name, prompt: (await custom.text()).trim(), source: file }
  const builtin = BUILTIN_ROLES[name]
  if (builtin !== undefined) return { name, prompt: builtin.trim(), source: "builtin" }
  throw new NotFoundError(`no role named ${name}`, { hint: `use one of: ${listRoles(dir).join(", ")}, or write ${file}` })
}

/** Built-in roles and the custom ones found in `dir`, sorted. */
export function listRoles(dir: string = rolesDir()): string[] {
  let custom: string[] = []
  try {
    custom = readdirSync(dir)
      .filter((f) => f.endsWith(".md"))
      .map((f) => f.slice(0, -3))
      .filter((n) => ROLE_NAME.test(n))
  } catch {
    // no roles directory: built-in roles only
  }
  return [...new Set([...Object.keys(BUILTIN_ROLES), ...custom])].sort()
}
