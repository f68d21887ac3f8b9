import type { CommandDef } from "citty"

export type Shell = "bash" | "zsh" | "fish"

/** Each command path (space-joined, "" for the root) with its subcommands and flags. */
export type Tree = Map<string, { subs: string[]; flags: string[] }>

const resolve = async <T>(v: unknown): Promise<T> => (typeof v === "function" ? await (v as () => T)() : await (v as T))

export async function commandTree(cmd: CommandDef<any>, path: string[] = [], tree: Tree = new Map()): Promise<Tree> {
  const subs = ((await resolve(cmd.subCommands)) ?? {}) as Record<string, unknown>
  const args = ((await resolve(cmd.args)) ?? {}) as Record<string, { type?: string }>
  const flags = Object.entries(args)
    .filter(([, d]) => d.type !== "positional")
    .map(([n]) => `--${n}`)
  tree.set(path.join(" "), { subs: Object.keys(subs), flags })
  for (const [name, sub] of Object.entries(subs)) await commandTree(await resolve<CommandDef<any>>(sub), [...path, name], tree)
  return tree
}

export function completionScript(shell: Shell, prog: string, tree: Tree): string {
  const fn = `_${prog}_complete`
  if (shell === "fish") {
    const lines = [`# fish completion for ${prog}: ${prog} completion fish | source`]
    for (const [path, { subs, flags }] of tree) {
      const words = path === "" ? [] : path.split(" ")
      const cond = words.length === 0 ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${words.at(-1)}`
      for (const s of subs) lines.push(`complete -c ${prog} -f -n '${cond}' -a '${s}'`)
      if (words.length > 0) for (const f of flags) lines.push(`complete -c ${prog} -f -n '${cond}' -l '${f.slice(2)}'`)
    }
    return lines.join("\n")
  }
  const cases = [...tree].map(([path, { subs, flags }]) => `    "${path}") words="${[...subs, ...flags].join(" ")}" ;;`).join("\n")
  const body = `${fn}() {
  local cur path="" w words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${[...tree.keys()].filter((p) => p !== "").map((p) => `      "${p}") path="${p}" ;;`).join("\n")}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}`
  if (shell === "bash") return `# bash completion for ${prog}: source <(${prog} completion bash)\n${body}\ncomplete -F ${fn} ${prog}`
  return `#compdef ${prog}\n# zsh completion for ${prog}: source <(${prog} completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${body}\ncomplete -F ${fn} ${prog}`
}
