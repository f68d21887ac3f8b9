import { ValidationError } from "../errors"
import { ALGORITHMS, type Algorithm, type Params } from "./types"

// The parameters' ranges (one place: the HTTP routes, the CLI and MCP all
// validate through here) and how cca.toml's [learning] section maps to them.

export const RANGES: Record<keyof Params, { min: number; max: number; integer?: boolean }> = {
  learning_rate: { min: 0.0001, max: 1 },
  network_learning_rate: { min: 0.00001, max: 0.1 },
  discount: { min: 0, max: 1 },
  // Bounded exploration: at most half the decisions are exploratory.
  epsilon: { min: 0, max: 0.5 },
  exploration: { min: 0, max: 5 },
  forgetting: { min: 0.8, max: 1 },
  batch_size: { min: 1, max: 1024, integer: true },
  warmup: { min: 0, max: 100_000, integer: true },
  margin: { min: 0, max: 2 },
}

export const PARAM_NAMES = Object.keys(RANGES) as (keyof Params)[]

export const DEFAULT_PARAMS: Params = {
  learning_rate: 0.1,
  network_learning_rate: 0.003,
  discount: 0.95,
  epsilon: 0.03,
  exploration: 0.2,
  forgetting: 0.99,
  batch_size: 32,
  warmup: 10,
  margin: 0.05,
}

/** A patch of parameters checked against the ranges: a 400 naming the field and its range otherwise. */
export function checkParams(patch: Record<string, unknown>): Partial<Params> {
  const out: Partial<Params> = {}
  for (const [key, value] of Object.entries(patch)) {
    const range = RANGES[key as keyof Params]
    if (!range) {
      throw new ValidationError(`${key}: no such parameter`, { hint: `parameters: ${PARAM_NAMES.join(", ")}`, details: { field: key } })
    }
    const ok = typeof value === "number" && Number.isFinite(value) && value >= range.min && value <= range.max && (!range.integer || Number.isInteger(value))
    if (!ok) {
      const kind = range.integer ? "a whole number" : "a number"
      throw new ValidationError(`${key}: must be ${kind} from ${range.min} to ${range.max}, not ${JSON.stringify(value)}`, {
        hint: `set ${key} between ${range.min} and ${range.max}`,
        details: { field: key, min: range.min, max: range.max },
      })
    }
    out[key as keyof Params] = value
  }
  return out
}

export function checkAlgorithm(name: unknown, field = "algorithm"): Algorithm {
  if (typeof name === "string" && (ALGORITHMS as readonly string[]).includes(name)) return name as Algorithm
  throw new ValidationError(`${field}: must be one of ${ALGORITHMS.join(", ")}, not ${JSON.stringify(name)}`, {
    hint: `choose one of ${ALGORITHMS.join(", ")}`,
    details: { field, allowed: ALGORITHMS },
  })
}
