import { expect, test } from "bun:test"
import * as v from "valibot"
import { routeLabeler } from "../../src/daemon/app"
import { cached } from "../../src/daemon/cached"
import { Metrics } from "../../src/daemon/metrics"
import { toJsonSchema } from "../../src/daemon/openapi"

test("histogram buckets are cumulative and counters are per status", async () => {
  const m = new Metrics()
  for (const s of [0.0004, 0.002, 0.002, 0.3, 9]) m.observe("GET", "/api/v1/x", 200, s)
  m.observe("GET", "/api/v1/x", 404, 0.001)
  m.addGauges(() => [{ name: "g", help: "a gauge", labels: { q: 'a"b\\c' }, value: 2 }])
  const text = await m.render()
  const bucket = (le: string) => Number(new RegExp(`route="/api/v1/x",le="${le.replace("+", "\\+")}"\\} (\\d+)`).exec(text)![1])
  expect(bucket("0.0005")).toBe(1)
  expect(bucket("0.001")).toBe(2)
  expect(bucket("0.0025")).toBe(4)
  expect(bucket("0.25")).toBe(4)
  expect(bucket("0.5")).toBe(5)
  expect(bucket("5")).toBe(5)
  expect(bucket("+Inf")).toBe(6)
  expect(text).toContain('cca_http_requests_total{method="GET",route="/api/v1/x",status="200"} 5')
  expect(text).toContain('cca_http_requests_total{method="GET",route="/api/v1/x",status="404"} 1')
  expect(text).toContain('g{q="a\\"b\\\\c"} 2')
})

test("route labels are the route patterns, never raw paths", () => {
  const label = routeLabeler([
    { method: "GET", path: "/api/v1/tasks" },
    { method: "GET", path: "/api/v1/tasks/:id" },
    { method: "POST", path: "/api/v1/tasks/:id/cancel" },
    { method: "GET", path: "/api/v1/openapi.json" },
  ])
  expect(label("GET", "/api/v1/tasks")).toBe("/api/v1/tasks")
  expect(label("GET", "/api/v1/tasks/abc-123")).toBe("/api/v1/tasks/:id")
  expect(label("POST", "/api/v1/tasks/abc/cancel")).toBe("/api/v1/tasks/:id/cancel")
  expect(label("GET", "/api/v1/tasks/abc/cancel")).toBeUndefined()
  expect(label("GET", "/api/v1/openapiXjson")).toBeUndefined()
})

test("cached: one computation at a time, reused while fresh", async () => {
  let now = 0
  let runs = 0
  let release!: () => void
  const c = cached(() => new Promise<number>((r) => (release = () => r(++runs))), 1000, () => now)
  const [a, b] = [c.get(), c.get()]
  release()
  expect((await a).value).toBe(1)
  expect((await b).value).toBe(1)
  expect(c.peek()?.value).toBe(1)
  now += 999
  expect((await c.get()).value).toBe(1)
  now += 1
  expect(c.peek()).toBeUndefined()
  const next = c.get()
  release()
  expect((await next).value).toBe(2)
})

test("valibot schemas become JSON Schema with their constraints", () => {
  const S = v.strictObject({
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(9)),
    n: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5)), 3),
    kind: v.picklist(["a", "b"]),
    tags: v.array(v.string()),
    meta: v.optional(v.record(v.string(), v.unknown())),
    maybe: v.nullable(v.boolean()),
  })
  expect(toJsonSchema(S)).toEqual({
    type: "object",
    additionalProperties: false,
    required: ["name", "kind", "tags", "maybe"],
    properties: {
      name: { type: "string", minLength: 1, maxLength: 9 },
      n: { type: "integer", minimum: 1, maximum: 5, default: 3 },
      kind: { enum: ["a", "b"] },
      tags: { type: "array", items: { type: "string" } },
      meta: { type: "object", additionalProperties: {} },
      maybe: { anyOf: [{ type: "boolean" }, { type: "null" }] },
    },
  })
})
