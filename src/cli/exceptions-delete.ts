import { command } from "./common"
import { deleteException } from "../governance/exceptions-ops"

export default command({
  meta: { name: "delete", description: "Delete a local exception by its id (or a unique prefix of it)" },
  args: { id: { type: "positional", required: true, description: "Exception id or a unique prefix" } },
  async run(ctx, args) {
    const r = await deleteException(args.id, { now: new Date() })
    ctx.emit("ExceptionDeleted", r, (d) => `Deleted exception ${d.exception.id} from ${d.path}`)
  },
})
