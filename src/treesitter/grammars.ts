// The grammars shipped in the binary: @vscode/tree-sitter-wasm's .wasm files,
// embedded with `with { type: "file" }` (a real path from source, a /$bunfs/
// one inside the compiled binary). Each import costs nothing until its bytes
// are read, so a language that is never parsed is never loaded.
import bash from "@vscode/tree-sitter-wasm/wasm/tree-sitter-bash.wasm" with { type: "file" }
import csharp from "@vscode/tree-sitter-wasm/wasm/tree-sitter-c-sharp.wasm" with { type: "file" }
import cpp from "@vscode/tree-sitter-wasm/wasm/tree-sitter-cpp.wasm" with { type: "file" }
import css from "@vscode/tree-sitter-wasm/wasm/tree-sitter-css.wasm" with { type: "file" }
import go from "@vscode/tree-sitter-wasm/wasm/tree-sitter-go.wasm" with { type: "file" }
import java from "@vscode/tree-sitter-wasm/wasm/tree-sitter-java.wasm" with { type: "file" }
import javascript from "@vscode/tree-sitter-wasm/wasm/tree-sitter-javascript.wasm" with { type: "file" }
import php from "@vscode/tree-sitter-wasm/wasm/tree-sitter-php.wasm" with { type: "file" }
import python from "@vscode/tree-sitter-wasm/wasm/tree-sitter-python.wasm" with { type: "file" }
import ruby from "@vscode/tree-sitter-wasm/wasm/tree-sitter-ruby.wasm" with { type: "file" }
import rust from "@vscode/tree-sitter-wasm/wasm/tree-sitter-rust.wasm" with { type: "file" }
import tsx from "@vscode/tree-sitter-wasm/wasm/tree-sitter-tsx.wasm" with { type: "file" }
import typescript from "@vscode/tree-sitter-wasm/wasm/tree-sitter-typescript.wasm" with { type: "file" }
import runtime from "web-tree-sitter/web-tree-sitter.wasm" with { type: "file" }

/** The tree-sitter runtime's own WASM. */
export const RUNTIME_WASM: string = runtime

/**
 * Languages with a grammar. `c` is parsed with the C++ grammar: the package
 * ships no C grammar, and C++'s parses C (K&R declarations and a few C-only
 * keywords such as `restrict` aside, which come back as error nodes).
 */
export const GRAMMARS = {
  bash,
  c: cpp,
  cpp,
  csharp,
  css,
  go,
  java,
  javascript,
  php,
  python,
  ruby,
  rust,
  tsx,
  typescript,
} as const satisfies Record<string, string>

export type LanguageName = keyof typeof GRAMMARS
