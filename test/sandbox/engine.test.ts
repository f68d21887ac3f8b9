import { describe, expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { PrerequisiteError, type AppError } from "../../src/errors"
import { connect, parseDockerHost, resolveEndpoint } from "../../src/sandbox/engine"
import { tmpdir } from "../support/tmpdir"

describe("resolveEndpoint", () => {
  test("DOCKER_HOST wins: unix socket paths and tcp hosts", () => {
    expect(parseDockerHost("unix:///run/user/1000/podman/podman.sock")).toEqual({ kind: "socket", socketPath: "/run/user/1000/podman/podman.sock", from: "DOCKER_HOST" })
    expect(parseDockerHost("tcp://10.0.0.5:2375")).toEqual({ kind: "tcp", host: "10.0.0.5", port: 2375, from: "DOCKER_HOST" })
    expect(resolveEndpoint("unix:///x.sock", [])).toMatchObject({ socketPath: "/x.sock" })
  })

  test("an unsupported DOCKER_HOST is exit 5 with a hint", () => {
    expect(() => parseDockerHost("ssh://me@host")).toThrow(PrerequisiteError)
  })

  test("without DOCKER_HOST the first candidate that is a socket is used; plain files are skipped", async () => {
    await using dir = await tmpdir()
    const file = join(dir.path, "not-a-socket")
    writeFileSync(file, "")
    const sock = join(dir.path, "engine.sock")
    const server = Bun.listen({ unix: sock, socket: { data() {} } })
    try {
      const e = resolveEndpoint(undefined, [
        { path: join(dir.path, "missing.sock"), what: "missing" },
        { path: file, what: "file" },
        { path: sock, what: "test engine" },
      ])
      expect(e).toEqual({ kind: "socket", socketPath: sock, from: "test engine socket" })
    } finally {
      server.stop(true)
    }
  })

  test("no engine anywhere is exit 5, naming where it looked and how to fix it", () => {
    let error: unknown
    try {
      resolveEndpoint(undefined, [{ path: "/nonexistent/docker.sock", what: "Docker" }])
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as AppError).exitCode).toBe(5)
    expect((error as AppError).message).toContain("/nonexistent/docker.sock")
    expect((error as AppError).hint).toContain("DOCKER_HOST")
  })

  test("a socket that does not answer the Docker API is exit 5", async () => {
    await using dir = await tmpdir()
    const sock = join(dir.path, "mute.sock")
    const server = Bun.listen({ unix: sock, socket: { open(s) { s.end() }, data() {} } })
    try {
      await expect(connect({ kind: "socket", socketPath: sock, from: "test" })).rejects.toMatchObject({ exitCode: 5 })
      await expect(connect({ kind: "socket", socketPath: join(dir.path, "gone.sock"), from: "test" })).rejects.toMatchObject({ exitCode: 5 })
    } finally {
      server.stop(true)
    }
  })
})
