// The dashboard's files inside the compiled binary. This is the module as
// the source has it: nothing embedded, so a daemon run from source builds the
// dashboard on its first /ui request (src/ui/build.ts). scripts/build.ts
// replaces this module with one that imports each built file
// `with { type: "file" }` (paths inside the binary).

export type EmbeddedUiFile = { path: string; type: string; etag: string; immutable: boolean; body: string; gzip: string; br: string }

export const EMBEDDED: readonly EmbeddedUiFile[] | null = null
