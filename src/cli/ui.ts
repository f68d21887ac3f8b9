import { command } from "./common"
import { connect } from "../daemon/client"
import { opener, openUrl } from "../ui/open"

// `cca ui`: the dashboard of the running daemon in the default browser, or
// its URL when there is no display (or with --print). The page asks for an
// API key and trades it for a session cookie: no key goes into the URL.

export default command({
  meta: { name: "ui", description: "Open the web dashboard of the running daemon (prints the URL when there is no display)" },
  args: {
    print: { type: "boolean", description: "Only print the URL" },
  },
  async run(ctx, args) {
    const client = await connect()
    await client.get("/api/v1/health") // no daemon: exit 5 with the hint to start one
    const url = `${client.url.replace(/\/+$/, "")}/ui/`
    const how = args.print ? undefined : opener(url)
    const opened = how ? await openUrl(how) : false
    if (!opened && !args.print && !ctx.json) ctx.warn(how ? `could not start the browser (${how.via}); open the URL yourself` : "no display to open a browser on; open the URL yourself")
    ctx.emit("Dashboard", { url, opened, via: opened ? how!.via : null }, (d) => (d.opened ? `opened ${d.url} (${d.via}); sign in with a key from \`cca keys create\`` : d.url))
  },
})
