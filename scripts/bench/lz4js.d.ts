// lz4js ships no types; the two calls the tokens bench makes.
declare module "lz4js" {
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array
}
