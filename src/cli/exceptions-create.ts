import { listArg } from "./args-check"
import { command } from "./common"
import { UsageError } from "../errors"
import { describeTargets } from "../governance/exceptions"
import { createException, policySnippet } from "../governance/exceptions-ops"

export const expiryArgs = {
  ttl: { type: "string", description: "How long it lasts: 30m, 8h, 1d (default 8h, at most 24h)" },
  "expires-at": { type: "string", description: "When it expires (ISO 8601), within 24h" },
  until: { type: "string", description: "Until this time of day (HH:MM, local time)" },
  shared: { type: "boolean", description: "Write the repository's .scc/exceptions.json (shared with the team) instead of yours" },
} as const

export default command({
  meta: { name: "create", description: "Create a local exception that lifts a delegation denial (never a security block)" },
  args: {
    reason: { type: "string", description: "Why (required), e.g. a ticket id" },
    "allow-plugin": { type: "string", multiple: true, description: "Plugin to allow (name@marketplace, glob allowed); repeat for more" },
    "allow-mcp": { type: "string", multiple: true, description: "MCP server to allow (name, URL host or command); repeat for more" },
    "allow-image": { type: "string", multiple: true, description: "Container image to allow; repeat for more" },
    ...expiryArgs,
    policy: { type: "boolean", description: "Print the policy exception (for the org config repository) instead of writing a local one; needs --id" },
    id: { type: "string", description: "With --policy: the id of the policy exception, e.g. a ticket id" },
  },
  async run(ctx, args) {
    const req = {
      reason: args.reason,
      allow: { plugins: listArg(args["allow-plugin"]), mcp_servers: listArg(args["allow-mcp"]), base_images: listArg(args["allow-image"]) },
      ttl: args.ttl,
      expiresAt: args["expires-at"],
      until: args.until,
      shared: args.shared,
      now: new Date(),
    }
    if (args.id !== undefined && !args.policy) throw new UsageError("--id names a policy exception; use it with --policy", { hint: "--policy --id TICKET-123" })
    if (args.policy) {
      const snippet = policySnippet({ ...req, id: args.id })
      return ctx.emit("PolicyException", snippet, (d) =>
        [`Add this to the "exceptions" list of the org config (in its repository); a local exception cannot lift a security block:`, JSON.stringify(d, null, 2)].join("\n"),
      )
    }
    const r = await createException(req)
    for (const w of r.warnings) ctx.warn(w)
    ctx.emit("Exception", r, (d) => `Created exception ${d.exception.id} (${d.scope}, ${d.path}): allows ${describeTargets(d.exception.allow)} until ${d.exception.expires_at}`)
  },
})
