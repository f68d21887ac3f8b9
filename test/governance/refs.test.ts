import { expect, test } from "bun:test"
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
  const none = normalizePluginRef("tool", [])
  expect(!none.ok && none.error).toBe("Plugin 'tool' names no marketplace and the org config defines none; write it as name@marketplace")
  expect(normalizePluginRef("tool@", ["acme"]).ok).toBe(false)
  expect(normalizePluginRef("@acme", ["acme"]).ok).toBe(false)
})

test("images normalise for policy: Docker Hub defaults dropped, :latest added, tags and digests kept, casefolded", () => {
  expect(normalizeImage("ubuntu")).toBe("ubuntu:latest")
  expect(normalizeImage("Ubuntu:22.04")).toBe("ubuntu:22.04")
  expect(normalizeImage("docker.io/library/ubuntu")).toBe("ubuntu:latest")
  expect(normalizeImage("index.docker.io/library/ubuntu:20.04")).toBe("ubuntu:20.04")
  expect(normalizeImage("docker.io/acme/tool")).toBe("acme/tool:latest")
  expect(normalizeImage("library/ubuntu")).toBe("ubuntu:latest")
  expect(normalizeImage("ubuntu@sha256:ABCDEF")).toBe("ubuntu@sha256:abcdef")
  expect(normalizeImage("ubuntu:22.04@sha256:abc")).toBe("ubuntu:22.04@sha256:abc")
  expect(normalizeImage("GHCR.io/Acme/Tool")).toBe("ghcr.io/acme/tool:latest")
  expect(normalizeImage("localhost:5000/img")).toBe("localhost:5000/img:latest") // a registry port is not a tag
  expect(normalizeImage("ghcr.io/library/ubuntu")).toBe("ghcr.io/library/ubuntu:latest") // only Docker Hub's library is implied
  expect(imagePolicyForms("docker.io/library/ubuntu:22.04")).toEqual(["ubuntu:22.04", "ubuntu"])
})

test("the launch form keeps the image as written, adding only :latest", () => {
  expect(imageRef("docker.io/library/ubuntu")).toBe("docker.io/library/ubuntu:latest")
  expect(imageRef("localhost/scc:Dev")).toBe("localhost/scc:Dev")
  expect(imageRef("alpine@sha256:abc")).toBe("alpine@sha256:abc")
})

test("image patterns drop Docker Hub defaults but keep globs", () => {
  expect(imagePattern("docker.io/library/ubuntu:*")).toBe("ubuntu:*")
  expect(imagePattern("*/evil/*")).toBe("*/evil/*")
})
