import { join } from "node:path"
import type { ModelServer } from "./model-server"

// The real Claude Code CLI (the @anthropic-ai/claude-code dev dependency),
// pointed at a scripted model server. Tests give each agent a temp state
// directory, so every run has its own Claude Code config home.

export const CLAUDE = join(import.meta.dir, "..", "..", "node_modules", ".bin", "claude")
export const TEST_API_KEY = "sk-ant-api03-scripted-test-key-0123456789abcdef"

/** Environment for a claude process talking to `model` only. */
export function claudeEnv(model: ModelServer): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: TEST_API_KEY,
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
  }
}

/** Costs per million tokens Claude Code 2.1.328 uses for claude-sonnet-4-5 (input, output, cache write, cache read). */
export const SONNET_PRICES = { input: 3, output: 15, cacheCreation: 3.75, cacheRead: 0.3 }
export const SONNET = "claude-sonnet-4-5"

export function sonnetCost(u: { input: number; output: number; cacheCreation: number; cacheRead: number }): number {
  return (u.input * SONNET_PRICES.input + u.output * SONNET_PRICES.output + u.cacheCreation * SONNET_PRICES.cacheCreation + u.cacheRead * SONNET_PRICES.cacheRead) / 1e6
}

/** Resolves when `pred` holds for an event, or rejects after `ms` (no sleeping in tests). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]).finally(() => clearTimeout(timer))
}
