// Files the store embeds in the compiled binary. `with { type: "file" }`
// yields a path (a real one from source, a /$bunfs/ one inside the binary);
// `with { type: "text" }` yields the file's contents.
declare module "*.sql" {
  const text: string
  export default text
}
declare module "*.wasm" {
  const path: string
  export default path
}
declare module "*.data" {
  const path: string
  export default path
}
declare module "*.tar.gz" {
  const path: string
  export default path
}
