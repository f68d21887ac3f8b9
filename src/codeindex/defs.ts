import type { LanguageName } from "../treesitter/grammars"

// Which tree-sitter node types are definitions, per language, and of which
// kind. A "container" (a Rust impl, a C++ namespace) gives its name to the
// definitions inside it as their parent but is not a chunk itself. A
// "wrapper" (a decorator, an export, a C++ template) is not a definition but
// its range belongs to the definition it wraps (decorators and `export` are
// part of what a reader looks for).

export type ChunkKind = "function" | "method" | "class" | "interface" | "type" | "module" | "block"

export type DefRule = { kind: ChunkKind; container?: boolean }

type Rules = { defs: Record<string, DefRule>; wrappers?: readonly string[] }

const fn: DefRule = { kind: "function" }
const method: DefRule = { kind: "method" }
const cls: DefRule = { kind: "class" }
const iface: DefRule = { kind: "interface" }
const type: DefRule = { kind: "type" }
const mod: DefRule = { kind: "module" }
const container: DefRule = { kind: "module", container: true }

const JS_DEFS: Record<string, DefRule> = {
  function_declaration: fn,
  generator_function_declaration: fn,
  class_declaration: cls,
  abstract_class_declaration: cls,
  method_definition: method,
  interface_declaration: iface,
  type_alias_declaration: type,
  enum_declaration: type,
  internal_module: mod,
  module: mod,
}

const C_DEFS: Record<string, DefRule> = {
  function_definition: fn,
  class_specifier: cls,
  struct_specifier: cls,
  union_specifier: cls,
  enum_specifier: type,
  type_definition: type,
  namespace_definition: container,
}

export const RULES: Record<Exclude<LanguageName, "css">, Rules> = {
  typescript: { defs: JS_DEFS, wrappers: ["export_statement"] },
  tsx: { defs: JS_DEFS, wrappers: ["export_statement"] },
  javascript: { defs: JS_DEFS, wrappers: ["export_statement"] },
  python: { defs: { function_definition: fn, class_definition: cls }, wrappers: ["decorated_definition"] },
  go: { defs: { function_declaration: fn, method_declaration: method, type_spec: type, type_alias: type } },
  rust: {
    defs: {
      function_item: fn,
      function_signature_item: fn,
      struct_item: type,
      enum_item: type,
      union_item: type,
      type_item: type,
      trait_item: iface,
      mod_item: mod,
      impl_item: container,
      macro_definition: fn,
    },
    wrappers: [],
  },
  java: {
    defs: {
      class_declaration: cls,
      record_declaration: cls,
      enum_declaration: cls,
      interface_declaration: iface,
      annotation_type_declaration: iface,
      method_declaration: method,
      constructor_declaration: method,
    },
  },
  c: { defs: C_DEFS, wrappers: ["template_declaration"] },
  cpp: { defs: C_DEFS, wrappers: ["template_declaration"] },
  csharp: {
    defs: {
      class_declaration: cls,
      struct_declaration: cls,
      record_declaration: cls,
      interface_declaration: iface,
      enum_declaration: type,
      delegate_declaration: type,
      method_declaration: method,
      constructor_declaration: method,
      local_function_statement: fn,
      namespace_declaration: container,
    },
  },
  ruby: { defs: { method: fn, singleton_method: method, class: cls, module: mod } },
  php: {
    defs: {
      function_definition: fn,
      class_declaration: cls,
      trait_declaration: cls,
      interface_declaration: iface,
      enum_declaration: type,
      method_declaration: method,
      namespace_definition: container,
    },
  },
  bash: { defs: { function_definition: fn } },
}

/** Node types that hold the body of a definition: the signature is the text before it. */
export const BODY_FIELDS = ["body", "block", "declaration_list", "field_declaration_list"] as const

export function chunkedLanguage(name: LanguageName): name is Exclude<LanguageName, "css"> {
  return name in RULES
}
