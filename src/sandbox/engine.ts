import type Docker from "dockerode"
import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { PrerequisiteError } from "../errors"
import * as flag from "../flag"

// Finding and connecting to a container engine that speaks the Docker Engine
// API: Docker, or Podman's compatible service. dockerode is imported here and
// only here, lazily: loading it costs ~66 ms, which the fast commands must not pay.

export type Endpoint = { kind: "socket"; socketPath: string; from: string } | { kind: "tcp"; host: string; port: number; from: string }

/** The sockets tried, in order, when DOCKER_HOST is not set. */
export function candidateSockets(): { path: string; what: string }[] {
  const runtime = flag.xdgRuntimeDir()
  return [
    { path: "/var/run/docker.sock", what: "Docker" },
    ...(runtime ? [{ path: join(runtime, "docker.sock"), what: "rootless Docker" }] : []),
    { path: join(flag.home(), ".docker", "run", "docker.sock"), what: "Docker Desktop" },
    ...(runtime ? [{ path: join(runtime, "podman", "podman.sock"), what: "rootless Podman" }] : []),
    { path: "/run/podman/podman.sock", what: "Podman" },
  ]
}

const ENGINE_HINT =
  "start Docker, or Podman's Docker-compatible service (`systemctl --user start podman.socket`, or `podman system service --time=0 &`), or point DOCKER_HOST at one (unix:///path/to.sock or tcp://host:port)"

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket()
  } catch {
    return false
  }
}

/** DOCKER_HOST when set, else the first candidate socket that exists. */
export function resolveEndpoint(dockerHost = flag.dockerHost(), candidates = candidateSockets()): Endpoint {
  if (dockerHost) return parseDockerHost(dockerHost)
  const found = candidates.find((c) => isSocket(c.path))
  if (found) return { kind: "socket", socketPath: found.path, from: `${found.what} socket` }
  throw new PrerequisiteError(`no container engine found (looked for ${candidates.map((c) => c.path).join(", ")})`, { hint: ENGINE_HINT })
}

export function parseDockerHost(value: string): Endpoint {
  const from = "DOCKER_HOST"
  if (value.startsWith("unix://")) return { kind: "socket", socketPath: value.slice("unix://".length), from }
  if (value.startsWith("/")) return { kind: "socket", socketPath: value, from }
  if (value.startsWith("tcp://") || value.startsWith("http://")) {
    const url = new URL(value.replace(/^tcp:/, "http:"))
    return { kind: "tcp", host: url.hostname, port: Number(url.port || 2375), from }
  }
  throw new PrerequisiteError(`DOCKER_HOST='${value}' is not supported`, {
    hint: "set DOCKER_HOST to unix:///path/to/docker.sock or tcp://host:port (TLS and ssh:// are not supported)",
  })
}

export function describeEndpoint(e: Endpoint): string {
  return e.kind === "socket" ? `unix://${e.socketPath}` : `tcp://${e.host}:${e.port}`
}

/** A connected, answering engine. Exit 5 with a hint when there is none. */
export async function connect(endpoint = resolveEndpoint()): Promise<Docker> {
  if (endpoint.kind === "socket" && !existsSync(endpoint.socketPath)) {
    throw new PrerequisiteError(`the container engine socket ${endpoint.socketPath} (from ${endpoint.from}) does not exist`, { hint: ENGINE_HINT })
  }
  const { default: Dockerode } = await import("dockerode")
  const docker =
    endpoint.kind === "socket"
      ? new Dockerode({ socketPath: endpoint.socketPath })
      : new Dockerode({ host: endpoint.host, port: endpoint.port, protocol: "http" })
  try {
    await docker.ping()
  } catch (e) {
    throw new PrerequisiteError(`the container engine at ${describeEndpoint(endpoint)} (from ${endpoint.from}) does not answer: ${(e as Error).message}`, {
      hint: ENGINE_HINT,
      cause: e,
    })
  }
  return docker
}
