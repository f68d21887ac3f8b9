import { command } from "./common"
import { table } from "../output"
import { connect } from "../sandbox/engine"
import { listManaged } from "../sandbox/containers"

export default command({
  meta: { name: "list", description: "List scc-managed containers (labelled scc.managed=true)" },
  async run(ctx) {
    const containers = await listManaged(await connect())
    ctx.emit("ContainerList", containers, (rows) =>
      rows.length === 0
        ? "no scc-managed containers"
        : table(rows, [
            { header: "name", get: (c) => c.name },
            { header: "state", get: (c) => c.state },
            { header: "branch", get: (c) => c.branch ?? "-" },
            { header: "team", get: (c) => c.team ?? "-" },
            { header: "agent", get: (c) => c.agent ?? "-" },
            { header: "image", get: (c) => c.image },
            { header: "workspace", get: (c) => c.workspace },
          ]),
    )
  },
})
