import { expect, test } from "bun:test"
import { AppError } from "../../src/errors"
import { checkFetchUrl, isLoopback, resolveSource } from "../../src/org/source"

test("github shorthand resolves to raw.githubusercontent.com, HEAD when no ref", () => {
  expect(resolveSource("github:acme/policy:org.json")).toEqual({
    kind: "url",
    spec: "github:acme/policy:org.json",
    url: "https://raw.githubusercontent.com/acme/policy/HEAD/org.json",
  })
  expect(resolveSource("github:acme/policy@v1.2:configs/team org.json")).toMatchObject({
    url: "https://raw.githubusercontent.com/acme/policy/v1.2/configs/team%20org.json",
  })
  expect(resolveSource("github:acme/policy@release/2030:/org.json")).toMatchObject({
    url: "https://raw.githubusercontent.com/acme/policy/release/2030/org.json",
  })
})

test("gitlab shorthand resolves to the API's raw-file endpoint, subgroups and ref encoded", () => {
  expect(resolveSource("gitlab:acme/platform/policy:cfg/org.json")).toMatchObject({
    kind: "url",
    url: "https://gitlab.com/api/v4/projects/acme%2Fplatform%2Fpolicy/repository/files/cfg%2Forg.json/raw",
  })
  expect(resolveSource("gitlab:acme/policy@feature/x:org.json")).toMatchObject({
    url: "https://gitlab.com/api/v4/projects/acme%2Fpolicy/repository/files/org.json/raw?ref=feature%2Fx",
  })
})

test("malformed shorthands are config errors with the expected form in the hint", () => {
  for (const bad of ["github:acme/policy", "github:acme:org.json", "github:a/b/c:org.json", "github:acme/policy@:org.json", "gitlab:acme:org.json", "github:acme/policy:../x.json", "github:acme/policy:"]) {
    let err: unknown
    try {
      resolveSource(bad)
    } catch (e) {
      err = e
    }
    expect(err, bad).toBeInstanceOf(AppError)
    expect((err as AppError).exitCode).toBe(3)
    expect((err as AppError).hint).toContain("[@ref]:path")
  }
})

test("https URLs pass through; file paths resolve against the working directory", () => {
  expect(resolveSource("https://cfg.acme.test/org.json")).toEqual({ kind: "url", spec: "https://cfg.acme.test/org.json", url: "https://cfg.acme.test/org.json" })
  expect(resolveSource("./org.json", "/work/x")).toEqual({ kind: "file", spec: "./org.json", path: "/work/x/org.json" })
  expect(resolveSource("/etc/scc/org.json")).toMatchObject({ kind: "file", path: "/etc/scc/org.json" })
  expect(resolveSource("file:///etc/scc/my%20org.json")).toMatchObject({ kind: "file", path: "/etc/scc/my org.json" })
})

test("plain http only for loopback hosts; other schemes refused", () => {
  for (const ok of ["http://127.0.0.1:8080/o.json", "http://127.9.8.7/o.json", "http://localhost/o.json", "http://[::1]:9/o.json", "https://example.test/o.json"]) {
    expect(() => checkFetchUrl(ok), ok).not.toThrow()
  }
  for (const bad of ["http://example.test/o.json", "http://128.0.0.1/o.json", "http://127.0.0.1.evil.test/o.json", "ftp://example.test/o.json", "http://10.0.0.1/o.json"]) {
    expect(() => checkFetchUrl(bad), bad).toThrow()
  }
  expect(() => resolveSource("http://example.test/o.json")).toThrow(/plain http/)
  expect(isLoopback("LOCALHOST")).toBe(true)
  expect(isLoopback("127.0.0.256")).toBe(false)
})
