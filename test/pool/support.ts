import { chmodSync } from "node:fs"
import { join } from "node:path"
import * as v from "valibot"
import { CcaConfig } from "../../src/config/schema"
import { createLogger } from "../../src/log"
import { poolOptions, type PoolOptions } from "../../src/pool/options"
import { createPool, type Pool } from "../../src/pool/pool"
import type { PoolEvent, PoolEventType } from "../../src/pool/types"
import { MemoryState } from "../../src/state/memory"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import type { Rule } from "../support/model-script"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// A pool of real claude processes against a scripted model, in a temp dir,
// with in-process state. Tests add what they check (a clock, config).

export const SOURCE_MAIN = join(import.meta.dir, "..", "..", "src", "main.ts")

export type PoolSetup = { pool: Pool; model: ModelServer; tmp: TmpDir; state: MemoryState; options: PoolOptions; close(): Promise<void> }

type Agents = Partial<CcaConfig["agents"]>

export async function poolSetup(rules: Rule[], o: { agents?: Agents; options?: Partial<PoolOptions> } = {}): Promise<PoolSetup> {
  const model = await startModelServer(rules)
  const tmp = await tmpdir({ prefix: "pool-" })
  const state = new MemoryState()
  const config = v.parse(CcaConfig, { agents: { claude_path: CLAUDE, model: SONNET, workspace: tmp.path, ...o.agents } })
  const options = poolOptions(config, {
    stateRoot: join(tmp.path, "agents"),
    env: claudeEnv(model),
    mcpCommand: null,
    state,
    owner: "test-daemon",
    log: createLogger("pool-test", { file: join(tmp.path, "pool.log") }),
    ...o.options,
  })
  const pool = createPool(options)
  return {
    pool,
    model,
    tmp,
    state,
    options,
    async close() {
      await pool.close()
      await model.close()
      await state.close()
      await tmp[Symbol.asyncDispose]()
    },
  }
}

/** The next pool event of `type` that satisfies `pred`, or a rejection after `ms`. */
export function nextEvent<T extends PoolEventType>(pool: Pool, type: T, pred: (e: Extract<PoolEvent, { type: T }>) => boolean = () => true, ms = 30_000): Promise<Extract<PoolEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`no ${type} event within ${ms} ms`))), ms)
    const off = pool.on(type, (e) => {
      if (!pred(e)) return
      clearTimeout(timer)
      off()
      resolve(e)
    })
  })
}

/** An executable script standing in for claude (a broken install). */
export async function fakeClaude(dir: string, body: string): Promise<string> {
  const path = join(dir, `fake-claude-${crypto.randomUUID().slice(0, 8)}`)
  await Bun.write(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

export function cmdline(pid: number): string[] {
  const raw = Bun.spawnSync(["cat", `/proc/${pid}/cmdline`]).stdout.toString()
  return raw.split("\0").filter(Boolean)
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
