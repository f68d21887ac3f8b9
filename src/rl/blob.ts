import type { Blob } from "./types"

// A model's weights as bytes (rl_models.weights): "CCRL", a u32 length, a
// JSON header (the meta and each array's kind and length), then the arrays,
// each 8-byte aligned, little-endian.

const MAGIC = 0x4c524343 // "CCRL"

export function packBlob(b: Blob): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ meta: b.meta, arrays: b.arrays.map((a) => [a instanceof Float64Array ? "f64" : "f32", a.length]) }))
  const headerEnd = 8 + header.length
  let size = Math.ceil(headerEnd / 8) * 8
  const offsets = b.arrays.map((a) => {
    const at = size
    size += Math.ceil(a.byteLength / 8) * 8
    return at
  })
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  view.setUint32(0, MAGIC, true)
  view.setUint32(4, header.length, true)
  out.set(header, 8)
  b.arrays.forEach((a, i) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offsets[i]!))
  return out
}

export function unpackBlob(bytes: Uint8Array): Blob {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) throw new Error("not a cca model (bad magic)")
  const len = view.getUint32(4, true)
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as { meta: Record<string, unknown>; arrays: ["f32" | "f64", number][] }
  let at = Math.ceil((8 + len) / 8) * 8
  const arrays = head.arrays.map(([kind, n]) => {
    const width = kind === "f64" ? 8 : 4
    const copy = bytes.slice(at, at + n * width) // aligned copy
    at += Math.ceil((n * width) / 8) * 8
    return kind === "f64" ? new Float64Array(copy.buffer, 0, n) : new Float32Array(copy.buffer, 0, n)
  })
  return { meta: head.meta, arrays }
}
