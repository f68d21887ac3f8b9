import { group, lazy } from "./common"

export default group({ name: "keys", description: "Manage the daemon's API keys (stored as salted hashes)" }, {
  create: lazy(() => import("./keys-create")),
  list: lazy(() => import("./keys-list")),
  revoke: lazy(() => import("./keys-revoke")),
})

