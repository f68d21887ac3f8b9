import { describe, expect, test } from "bun:test"
import { lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { prepareConfigHome } from "../../src/agent/home"
import { hookSettings, parseHookPayload } from "../../src/agent/hooks"
import { plainText } from "../../src/agent/pty-driver"
import { RingBuffer } from "../../src/agent/ring-buffer"
import { BUILTIN_ROLES, listRoles, loadRole } from "../../src/agent/roles"
import { turnUsage } from "../../src/agent/transcript"
import { prepareWorkdir, removeWorktree } from "../../src/agent/workdir"
import { AppError } from "../../src/errors"
import { git, tmpdir } from "../support/tmpdir"

// The small parts of an agent, each on real files, real git and real output.

describe("RingBuffer", () => {
  test("keeps the last `capacity` characters across chunk boundaries", () => {
    const ring = new RingBuffer(10)
    let all = ""
    for (const chunk of ["abc", "defgh", "ijklmnop", "q", "rstuvwxyz"]) {
      ring.push(chunk)
      all += chunk
      expect(ring.size).toBe(Math.min(10, all.length))
      expect(ring.snapshot()).toBe(all.slice(-10))
    }
    ring.push("0123456789ABCDEF") // one chunk larger than the ring
    expect(ring.snapshot()).toBe("6789ABCDEF")
    expect(ring.tail(3)).toBe("DEF")
    expect(() => new RingBuffer(0)).toThrow()
  })
})

describe("roles", () => {
  test("five built-in roles ship as text; custom roles come from the roles directory and may replace a built-in", async () => {
    expect(Object.keys(BUILTIN_ROLES).sort()).toEqual(["backend", "coordinator", "frontend", "qa", "security"])
    await using tmp = await tmpdir()
    const coordinator = await loadRole("coordinator", tmp.path)
    expect(coordinator.source).toBe("builtin")
    expect(coordinator.prompt).toContain("cca_delegate")
    writeFileSync(join(tmp.path, "dba.md"), "# Role: dba\nYou own the database.\n")
    writeFileSync(join(tmp.path, "qa.md"), "Our own QA prompt.")
    expect(await loadRole("dba", tmp.path)).toEqual({ name: "dba", prompt: "# Role: dba\nYou own the database.", source: join(tmp.path, "dba.md") })
    expect((await loadRole("qa", tmp.path)).prompt).toBe("Our own QA prompt.")
    expect(listRoles(tmp.path)).toEqual(["backend", "coordinator", "dba", "frontend", "qa", "security"])
  })

  test("an unknown role is not found with the known ones in the hint; a path is not a role name", async () => {
    await using tmp = await tmpdir()
    const missing = (await loadRole("designer", tmp.path).catch((e: unknown) => e)) as AppError
    expect(missing.code).toBe("not_found")
    expect(missing.hint).toContain("backend, coordinator, frontend, qa, security")
    const traversal = (await loadRole("../../etc/passwd", tmp.path).catch((e: unknown) => e)) as AppError
    expect(traversal.code).toBe("validation")
  })
})

describe("config home", () => {
  test("pre-answers the first-run dialogs, keeps what Claude Code wrote before, links an OAuth login", async () => {
    await using tmp = await tmpdir()
    const dir = join(tmp.path, "claude")
    mkdirSync(dir)
    writeFileSync(join(dir, ".claude.json"), JSON.stringify({ userID: "kept", projects: { "/w": { allowedTools: ["Read"] } } }))
    const userHome = join(tmp.path, "user-claude")
    mkdirSync(userHome)
    writeFileSync(join(userHome, ".credentials.json"), "{}")
    await prepareConfigHome({ dir, cwd: "/w", apiKey: "sk-ant-api03-0123456789abcdefghijKLMNOPQRST", userClaudeHome: userHome })
    const json = JSON.parse(readFileSync(join(dir, ".claude.json"), "utf8"))
    expect(json.userID).toBe("kept")
    expect(json.hasCompletedOnboarding).toBe(true)
    expect(json.customApiKeyResponses.approved).toEqual(["abcdefghijKLMNOPQRST"])
    expect(json.projects["/w"]).toEqual({ allowedTools: ["Read"], hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true })
    expect(json.bypassPermissionsModeAccepted).toBeUndefined()
    expect(lstatSync(join(dir, ".credentials.json")).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(dir, ".credentials.json"))).toBe(join(userHome, ".credentials.json"))
    expect(lstatSync(join(dir, ".claude.json")).mode & 0o777).toBe(0o600)
  })
})

describe("hooks", () => {
  test("http hooks carry the agent id and an env-var token; SessionStart writes the ready file", () => {
    const s = hookSettings({ url: "http://127.0.0.1:9200/api/v1/hooks", token: "secret" }, "a1", "/state/it's ready.json") as { hooks: Record<string, { hooks: Record<string, unknown>[] }[]> }
    for (const event of ["Stop", "Notification", "UserPromptSubmit"]) {
      expect(s.hooks[event]![0]!.hooks[0]).toEqual({
        type: "http",
        url: "http://127.0.0.1:9200/api/v1/hooks",
        headers: { "x-cca-agent": "a1", authorization: "Bearer $CCA_HOOK_TOKEN" },
        allowedEnvVars: ["CCA_HOOK_TOKEN"],
        timeout: 10,
      })
    }
    expect(JSON.stringify(s)).not.toContain("secret")
    expect(s.hooks.SessionStart![0]!.hooks[0]!.command).toBe(`cat > '/state/it'"'"'s ready.json'`)
    expect(parseHookPayload({ hook_event_name: "Stop", last_assistant_message: "done" })?.last_assistant_message).toBe("done")
    expect(parseHookPayload({ nope: 1 })).toBeUndefined()
    expect(parseHookPayload("Stop")).toBeUndefined()
  })
})

describe("transcript usage", () => {
  test("counts each model call once since the turn began, and knows when the final text is in", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString()
    const line = (id: string, s: number, output: number, text?: string) =>
      JSON.stringify({ type: "assistant", timestamp: at(s), message: { id, content: text ? [{ type: "text", text }] : [{ type: "tool_use" }], usage: { input_tokens: 10, output_tokens: output, cache_creation_input_tokens: 2, cache_read_input_tokens: 100 } } })
    const jsonl = [line("old", 1, 9, "earlier turn"), JSON.stringify({ type: "user", timestamp: at(5) }), line("m1", 6, 1), line("m1", 6, 4), line("m2", 7, 3, "final"), "{partial"].join("\n")
    const since = Date.parse(at(5))
    expect(turnUsage(jsonl, since, "final")).toEqual({ usage: { inputTokens: 20, outputTokens: 7, cacheCreationInputTokens: 4, cacheReadInputTokens: 200 }, complete: true })
    expect(turnUsage(jsonl, since, "not there yet").complete).toBe(false)
  })
})

describe("plainText", () => {
  test("drops escape sequences and control characters from terminal output", () => {
    expect(plainText("\x1b]0;✳ Claude Code\x07\r\x1b[2K\x1b[1mok\x1b[0m\r\ndone\x1b7\x1b8")).toBe("\nok\ndone")
  })
})

describe("workdir", () => {
  test("the shared workspace, or a worktree of its own on branch cca/<id>, kept across restarts", async () => {
    await using repo = await tmpdir({ git: true })
    await using trees = await tmpdir()
    expect(await prepareWorkdir({ workspace: repo.path, agentId: "a1" })).toEqual({ cwd: repo.path })
    const w = await prepareWorkdir({ workspace: repo.path, agentId: "a1", worktree: true, worktreesDir: trees.path })
    expect(w.cwd).toBe(join(trees.path, "a1"))
    expect(git(w.cwd, "rev-parse", "--abbrev-ref", "HEAD")).toBe("cca/a1")
    expect(git(repo.path, "worktree", "list")).toContain(join(trees.path, "a1"))
    expect(await prepareWorkdir({ workspace: repo.path, agentId: "a1", worktree: true, worktreesDir: trees.path })).toEqual(w)
    await removeWorktree(w.worktree!)
    expect(git(repo.path, "worktree", "list")).not.toContain(join(trees.path, "a1"))
    expect(git(repo.path, "branch", "--list", "cca/a1")).toContain("cca/a1") // the branch keeps the agent's commits
    // Recreated from the existing branch.
    const again = await prepareWorkdir({ workspace: repo.path, agentId: "a1", worktree: true, worktreesDir: trees.path })
    expect(git(again.cwd, "rev-parse", "--abbrev-ref", "HEAD")).toBe("cca/a1")
  })

  test("worktrees need a git repository, and the error says so", async () => {
    await using plain = await tmpdir()
    const e = (await prepareWorkdir({ workspace: plain.path, agentId: "a1", worktree: true }).catch((x: unknown) => x)) as AppError
    expect(e.code).toBe("usage")
    expect(e.message).toContain("not a git repository")
    expect(e.hint).toContain("git init")
  })
})
