import { expect, test } from "bun:test"
import { PatternSet } from "../../src/governance/match"
import { imagePattern, imagePolicyForms, imageRef, normalizeImage, normalizePluginRef } from "../../src/governance/refs"

test("a plugin ref with a marketplace is kept, trimmed", () => {
  const r = normalizePluginRef("  tool@acme ", ["acme", "other"])
  expect(r.ok && r.plugin.ref).toBe("tool@acme")
  expect(r.ok && r.plugin.folded).toEqual(["tool@acme", "tool"])
})

test("a bare plugin name means the org's only marketplace", () => {
  const r = normalizePluginRef("tool", ["acme"])
  expect(r.ok && r.plugin.ref).toBe("tool@acme")
})

test("a bare plugin name is refused when the marketplace is ambiguous or missing, saying how to write it", () => {
  const several = normalizePluginRef("tool", ["acme", "other"])
  expect(several).toEqual({
    ok: false,
    error: "Plugin 'tool' names no marketplace and the org config defines 2 (acme, other); write it as name@marketplace",
  })
  expect(normalizePluginRef("tool@", ["acme"]).ok).toBe(false)
  expect(normalizePluginRef("@acme", ["acme"]).ok).toBe(false)
})

test("plugin refs normalise as upstream's: bare name with no marketplaces is the official one, @mkt/name is name@mkt, name@@mkt is invalid", () => {
  const none = normalizePluginRef("tool", [])
  expect(none.ok && none.plugin.ref).toBe("tool@claude-plugins-official")
  const npm = normalizePluginRef("@acme/tool", ["acme", "other"])
  expect(npm.ok && npm.plugin.ref).toBe("tool@acme")
  expect(npm.ok && npm.plugin.folded).toEqual(["tool@acme", "tool"])
  const twice = normalizePluginRef("tool@@acme", ["acme"])
  expect(twice.ok).toBe(false)
  expect(!twice.ok && twice.error).toContain("'@@'")
  expect(normalizePluginRef("a@b@c", ["b"]).ok).toBe(false)
})

test("images normalise for policy: fully qualified on Docker Hub, :latest added, tags and digests kept, casefolded", () => {
  expect(normalizeImage("ubuntu")).toBe("docker.io/library/ubuntu:latest")
  expect(normalizeImage("Ubuntu:22.04")).toBe("docker.io/library/ubuntu:22.04")
  expect(normalizeImage("docker.io/library/ubuntu")).toBe("docker.io/library/ubuntu:latest")
  expect(normalizeImage("index.docker.io/library/ubuntu:20.04")).toBe("docker.io/library/ubuntu:20.04")
  expect(normalizeImage("docker.io/acme/tool")).toBe("docker.io/acme/tool:latest")
  expect(normalizeImage("acme/tool")).toBe("docker.io/acme/tool:latest")
  expect(normalizeImage("library/ubuntu")).toBe("docker.io/library/ubuntu:latest")
  expect(normalizeImage("ubuntu@sha256:ABCDEF")).toBe("docker.io/library/ubuntu@sha256:abcdef")
  expect(normalizeImage("ubuntu:22.04@sha256:abc")).toBe("docker.io/library/ubuntu:22.04@sha256:abc")
  expect(normalizeImage("GHCR.io/Acme/Tool")).toBe("ghcr.io/acme/tool:latest")
  expect(normalizeImage("localhost:5000/img")).toBe("localhost:5000/img:latest") // a registry port is not a tag
  expect(normalizeImage("localhost/scc:dev")).toBe("localhost/scc:dev")
  expect(normalizeImage("ghcr.io/library/ubuntu")).toBe("ghcr.io/library/ubuntu:latest") // only Docker Hub's library is implied
  expect(imagePolicyForms("docker.io/library/ubuntu:22.04")).toEqual(["docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu"])
})

test("the launch form keeps the image as written, adding only :latest", () => {
  expect(imageRef("docker.io/library/ubuntu")).toBe("docker.io/library/ubuntu:latest")
  expect(imageRef("localhost/scc:Dev")).toBe("localhost/scc:Dev")
  expect(imageRef("alpine@sha256:abc")).toBe("alpine@sha256:abc")
})

test("image patterns are qualified like images, globs kept; a glob registry part is kept as written", () => {
  expect(imagePattern("docker.io/library/ubuntu:*")).toBe("docker.io/library/ubuntu:*")
  expect(imagePattern("ubuntu")).toBe("docker.io/library/ubuntu")
  expect(imagePattern("acme/*")).toBe("docker.io/acme/*")
  expect(imagePattern("docker.io/*")).toBe("docker.io/*")
  expect(imagePattern("registry-1.docker.io/*")).toBe("docker.io/*")
  expect(imagePattern("ghcr.io/*")).toBe("ghcr.io/*")
  expect(imagePattern("*/evil/*")).toBe("*/evil/*")
  expect(imagePattern("*")).toBe("*")
})

test("blocked_base_images [docker.io/*] blocks Docker Hub images only; patterns with and without a registry", () => {
  const blocks = (patterns: string[], image: string) => new PatternSet(patterns, imagePattern).first(imagePolicyForms(image)) !== undefined
  for (const hub of ["ubuntu", "ubuntu:22.04", "acme/tool:1", "docker.io/library/alpine", "index.docker.io/acme/x"]) expect(blocks(["docker.io/*"], hub)).toBe(true)
  for (const other of ["ghcr.io/owner/repo:v1", "quay.io/x/y", "localhost:5000/img", "localhost/scc:dev"]) expect(blocks(["docker.io/*"], other)).toBe(false)
  // Without a registry, a pattern means Docker Hub's repository, every tag.
  expect(blocks(["ubuntu"], "docker.io/library/ubuntu:20.04")).toBe(true)
  expect(blocks(["ubuntu"], "ghcr.io/library/ubuntu")).toBe(false)
  expect(blocks(["ubuntu:22.04"], "ubuntu:20.04")).toBe(false)
  expect(blocks(["ubuntu:22.04"], "ubuntu:22.04")).toBe(true)
  expect(blocks(["ghcr.io/evil/*"], "ghcr.io/evil/tool:1")).toBe(true)
  expect(blocks(["ghcr.io/evil/*"], "evil/tool")).toBe(false)
  expect(blocks(["*/evil/*"], "ghcr.io/evil/tool")).toBe(true)
  expect(blocks(["*"], "ghcr.io/owner/repo:v1")).toBe(true)
})
