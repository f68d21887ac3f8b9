import { command } from "./common"
import { connect } from "../daemon/client"
import { UsageError } from "../errors"
import { writeOut } from "../output"
import type { LogEntry } from "../pool/types"

// `cca agents logs ID [--limit N] [--follow]`: the agent's recent log, oldest
// first; --follow keeps printing new entries until interrupted.

type Page = { items: LogEntry[]; next: number }

const line = (e: LogEntry) => `${e.at.slice(11, 19)}  ${e.kind.padEnd(11)} ${e.taskId ? `[${e.taskId.slice(-8)}] ` : ""}${e.text.replaceAll("\n", "\n" + " ".repeat(22))}`

export default command({
  meta: { name: "logs", description: "Show an agent's log: lifecycle, prompts, text, tool calls, turn ends" },
  args: {
    id: { type: "positional", description: "Agent id", required: true },
    limit: { type: "string", integer: true, description: "How many of the latest entries (default 100, at most 1000)", default: "100" },
    follow: { type: "boolean", description: "Keep printing new entries (Ctrl-C ends)" },
  },
  async run(ctx, args) {
    const limit = Number(args.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be 1 to 1000, not ${args.limit}`, { hint: "cca agents logs ID --limit 50" })
    if (args.follow && ctx.json) throw new UsageError("--follow prints lines; it does not combine with --json", { hint: "cca agents logs ID --json (one page)" })
    const client = await connect()
    const path = `/api/v1/agents/${encodeURIComponent(String(args.id))}/logs`
    let page = await client.get<Page>(path, { limit })
    ctx.emit("AgentLog", page, (p) => (p.items.length ? p.items.map(line).join("\n") : "(no entries)"))
    while (args.follow) {
      await Bun.sleep(500)
      page = await client.get<Page>(path, { after: page.next, limit: 1000 })
      for (const e of page.items) writeOut(line(e))
    }
  },
})
