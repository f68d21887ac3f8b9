import { afterEach, describe, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { startAgent } from "../../src/agent/agent"
import { DEFAULT_ALLOWED_TOOLS, NETWORK_RULES, permissionArgs, WRITE_TOOLS } from "../../src/agent/permissions"
import type { Agent, AgentOptions } from "../../src/agent/types"
import { AppError } from "../../src/errors"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import type { Rule } from "../support/model-script"
import { tmpdir } from "../support/tmpdir"

describe("permissionArgs", () => {
  test("allowlist by default: dontAsk, the default allowlist, network denied", () => {
    const p = permissionArgs({}, "backend")
    expect(p.mode).toBe("allowlist")
    expect(p.args.slice(0, 2)).toEqual(["--permission-mode", "dontAsk"])
    expect(p.allowed).toEqual(DEFAULT_ALLOWED_TOOLS)
    expect(p.disallowed).toEqual(NETWORK_RULES)
    expect(p.disallowed).toContain("Bash(curl:*)")
    expect(p.disallowed).toContain("Bash(wget:*)")
    expect(p.disallowed).toContain("Bash(nc:*)")
    expect(p.args).not.toContain("--dangerously-skip-permissions")
    expect(p.warnings).toEqual([])
    // Each rule is its own argument after its flag.
    const a = p.args.indexOf("--allowedTools")
    const d = p.args.indexOf("--disallowedTools")
    expect(p.args.slice(a + 1, d)).toEqual(p.allowed)
    expect(p.args.slice(d + 1)).toEqual(p.disallowed)
  })

  test("configured lists and allow_network; the agent's own MCP servers are always allowed", () => {
    const p = permissionArgs({ allowed_tools: ["Read", "Bash(npm test:*)"], disallowed_tools: ["Bash(rm:*)"], allow_network: true }, "qa", { mcpServers: ["cca"] })
    expect(p.allowed).toEqual(["Read", "Bash(npm test:*)", "mcp__cca"])
    expect(p.disallowed).toEqual(["Bash(rm:*)"])
  })

  test("a rule both allowed and denied is denied", () => {
    const p = permissionArgs({ allowed_tools: ["Read", "WebFetch"] }, "backend")
    expect(p.allowed).toEqual(["Read"])
    expect(p.disallowed).toContain("WebFetch")
  })

  test("per-role overrides replace the base fields they name", () => {
    const config = { allowed_tools: ["Read", "Edit"], allow_network: true, roles: { security: { mode: "sandbox" as const }, qa: { allowed_tools: ["Read", "Bash(bun test:*)"] } } }
    expect(permissionArgs(config, "backend").allowed).toEqual(["Read", "Edit"])
    expect(permissionArgs(config, "qa").allowed).toEqual(["Read", "Bash(bun test:*)"])
    expect(permissionArgs(config, "qa").disallowed).toEqual([]) // allow_network from the base
    const security = permissionArgs(config, "security")
    expect(security.mode).toBe("sandbox")
    expect(security.allowed).not.toContain("Edit")
    for (const t of WRITE_TOOLS) expect(security.disallowed).toContain(t)
    expect(security.warnings[0]).toContain("ignored")
  })

  test("dangerous skips permissions, with a warning, and still denies what is denied", () => {
    const p = permissionArgs({ mode: "dangerous", disallowed_tools: ["Bash(rm:*)"] }, "backend")
    expect(p.args).toContain("--dangerously-skip-permissions")
    expect(p.args).not.toContain("--permission-mode")
    expect(p.args).not.toContain("--allowedTools")
    expect(p.disallowed).toContain("Bash(rm:*)")
    expect(p.warnings).toHaveLength(1)
    expect(p.warnings[0]).toContain("dangerously-skip-permissions")
  })

  test("bad config is a config error naming the key and the fix", () => {
    const bad = (c: unknown, role = "backend") => {
      try {
        permissionArgs(c as never, role)
      } catch (e) {
        return e as AppError
      }
      throw new Error("expected an error")
    }
    const mode = bad({ mode: "yolo" })
    expect(mode.code).toBe("config")
    expect(mode.message).toContain("agents.permissions.mode")
    expect(mode.hint).toContain("allowlist, sandbox, dangerous")
    expect(bad({ roles: { qa: { mode: "x" } } }, "qa").message).toContain("agents.permissions.roles.qa.mode")
    expect(bad({ allowed_tools: ["--dangerously-skip-permissions"] }).message).toContain("invalid tool rule")
    expect(bad({ allowed_tools: "Read" }).message).toContain("must be a list")
  })
})

describe("permissions in the real claude", () => {
  const cleanup: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f()
  })

  async function agentWith(rules: Rule[] | ((cwd: string) => Rule[]), o: Partial<AgentOptions>): Promise<{ agent: Agent; model: ModelServer; cwd: string; warnings: string[] }> {
    const tmp = await tmpdir({ prefix: "agent-perms-" })
    const model = await startModelServer(typeof rules === "function" ? rules(tmp.path) : rules)
    cleanup.push(() => tmp[Symbol.asyncDispose](), () => model.close())
    const warnings: string[] = []
    const agent = await startAgent({
      id: "p1",
      role: "backend",
      cwd: tmp.path,
      stateDir: join(tmp.path, ".state"),
      claudePath: CLAUDE,
      model: SONNET,
      warn: (m) => warnings.push(m),
      ...o,
      env: { ...claudeEnv(model), ...o.env },
    })
    cleanup.push(() => agent.stop())
    return { agent, model, cwd: tmp.path, warnings }
  }

  const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean)

  test("the spawned command line carries the allowlist flags and never skips permissions", async () => {
    const { agent } = await agentWith([], { permissions: { allowed_tools: ["Read", "Bash(git diff:*)"] } })
    const argv = cmdline(agent.pid!)
    expect(argv).toEqual([...agent.argv])
    expect(argv).not.toContain("--dangerously-skip-permissions")
    const at = argv.indexOf("--allowedTools")
    expect(argv.slice(at + 1, at + 3)).toEqual(["Read", "Bash(git diff:*)"])
    expect(argv).toContain("--disallowedTools")
    expect(argv).toContain("Bash(curl:*)")
    expect(argv[argv.indexOf("--permission-mode") + 1]).toBe("dontAsk")
  })

  test("mode = dangerous is the only way to --dangerously-skip-permissions, and it warns", async () => {
    // Claude Code refuses to skip permissions as root unless told it runs in a sandbox (IS_SANDBOX=1).
    const { agent, warnings } = await agentWith([], { permissions: { mode: "dangerous" }, env: { IS_SANDBOX: "1" } })
    expect(cmdline(agent.pid!)).toContain("--dangerously-skip-permissions")
    expect(warnings.join("\n")).toContain("dangerously-skip-permissions")
  })

  test("a tool outside the allowlist is denied back to the model, and nothing hangs", async () => {
    const rules = (cwd: string): Rule[] => [
      { match: { lastUserText: "make a file", toolResult: false }, reply: { content: [{ type: "tool_use", name: "Bash", input: { command: "touch made-by-bash", description: "create a file" } }] } },
      { match: { lastUserText: "fetch a page", toolResult: false }, reply: { content: [{ type: "tool_use", name: "Bash", input: { command: "curl -s http://127.0.0.1:9/", description: "fetch" } }] } },
      { match: { lastUserText: "write a file", toolResult: false }, reply: { content: [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, "written.txt"), content: "written\n" } }] } },
      { match: { toolResult: true }, reply: (c) => ({ content: `tool said: ${c.toolResults[0]?.isError ? "error" : "ok"}` }) },
    ]
    const { agent, model, cwd } = await agentWith(rules, { permissions: { allowed_tools: ["Read", "Write", "Bash(git status:*)"] } })

    const denied = await agent.send("make a file").done
    expect(denied.text).toBe("tool said: error")
    expect(denied.permissionDenials.map((d) => d.toolName)).toEqual(["Bash"])
    const bash = model.turns().flatMap((t) => t.conversation!.toolResults).find((r) => r.name === "Bash")!
    expect(bash.isError).toBe(true)
    expect(bash.text).toMatch(/denied/i)
    expect(existsSync(join(cwd, "made-by-bash"))).toBe(false)

    const network = await agent.send("fetch a page").done
    expect(network.permissionDenials.map((d) => d.toolName)).toEqual(["Bash"])

    // An allowed tool runs: the allowlist is not "deny everything".
    const allowed = await agent.send("write a file").done
    expect(allowed.text).toBe("tool said: ok")
    expect(allowed.permissionDenials).toEqual([])
    expect(readFileSync(join(cwd, "written.txt"), "utf8")).toBe("written\n")
  })
})

describe("file edits are scoped to the agent's working directory", () => {
  test("scopedRule turns bare edit rules into absolute path patterns and keeps the rest", () => {
    const p = permissionArgs({}, "backend", { workdir: "/data/agents/a1" })
    // Claude Code checks Write, MultiEdit and NotebookEdit against Edit path rules: one scoped rule covers them
    expect(p.allowed.filter((r) => /^(Edit|MultiEdit|Write|NotebookEdit)\b/.test(r))).toEqual(["Edit(//data/agents/a1/**)"])
    expect(p.allowed).toContain("Read")
    expect(permissionArgs({ allowed_tools: ["Edit(src/**)", "Write"] }, "qa", { workdir: "/w/" }).allowed).toEqual(["Edit(src/**)", "Edit(//w/**)"])
  })

  test("the real claude under the default allowlist writes inside its workdir and is denied outside it", async () => {
    await using work = await tmpdir({ prefix: "agent-workdir-" })
    await using outside = await tmpdir({ prefix: "agent-outside-" })
    await using model = await startModelServer([
      { match: { lastUserText: "write inside", toolResult: false }, reply: { content: [{ type: "tool_use", name: "Write", input: { file_path: join(work.path, "inside.txt"), content: "in\n" } }] } },
      { match: { lastUserText: "write outside", toolResult: false }, reply: { content: [{ type: "tool_use", name: "Write", input: { file_path: join(outside.path, "escaped.txt"), content: "out\n" } }] } },
      { match: { toolResult: true }, reply: (c) => ({ content: `tool said: ${c.toolResults[0]?.isError ? "error" : "ok"}` }) },
    ])
    const agent = await startAgent({ id: "wd1", role: "backend", cwd: work.path, stateDir: join(outside.path, ".state"), claudePath: CLAUDE, model: SONNET, env: claudeEnv(model) })
    try {
      const out = await agent.send("write outside").done
      expect(out.permissionDenials.map((d) => d.toolName)).toEqual(["Write"])
      expect(existsSync(join(outside.path, "escaped.txt"))).toBe(false)
      const inside = await agent.send("write inside").done
      expect(inside.text).toBe("tool said: ok")
      expect(readFileSync(join(work.path, "inside.txt"), "utf8")).toBe("in\n")
    } finally {
      await agent.stop()
    }
  })
})
