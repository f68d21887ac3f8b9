import type { Ctx } from "./common"
import { prompter } from "./prompt"
import * as flag from "../flag"
import { checkBranchSafety, createWorkBranch, ProtectedBranchError } from "../git/branch"
import type { Workspace } from "../sandbox/workspace"

// Branch safety for `start`: src/git/branch.ts decides; this asks the user when
// it may, creates the work branch (not in a dry run), and says what happened.

export type BranchArgs = { branch?: string; allowProtected: boolean; dryRun: boolean }

export async function settleBranch(ctx: Ctx, ws: Workspace, args: BranchArgs, notes: string[]): Promise<Workspace> {
  const check = (interactive: boolean) => checkBranchSafety(ws.path, { branch: args.branch, allowProtected: args.allowProtected, interactive, user: flag.sccUser() })
  let decision = await check(false)
  // Only a refusal needs to know whether we could ask instead; touching process.stdin costs ~15 ms.
  if (decision.action === "refuse" && !ctx.json && process.stdin.isTTY) decision = await check(true)
  if (decision.action === "refuse") throw decision.error
  let target = decision.action === "create_branch" ? decision.branch : undefined
  if (decision.action === "prompt") {
    const ask = prompter()
    try {
      const answer = await ask.ask(`${decision.from} is a protected branch (${decision.protectedBy}). Work branch to create, or "stay" to keep ${decision.from}`, decision.suggestion)
      if (answer === undefined) {
        throw new ProtectedBranchError(`${decision.from} is a protected branch and no work branch was chosen`, { hint: "pass --branch NAME, or --allow-protected" })
      }
      if (answer !== "stay") target = answer
    } finally {
      ask.close()
    }
  }
  if (target === undefined) return ws
  if (args.dryRun) {
    notes.push(`would create and switch to branch ${target} (from ${ws.branch ?? "HEAD"})`)
    return { ...ws, branch: target }
  }
  const branch = await createWorkBranch(ws.path, target)
  ctx.warn(`switched ${ws.path} to new work branch ${branch}`)
  return { ...ws, branch }
}
