import { group } from "./common"

export default group({ name: "memory", description: "The ReasoningBank: patterns from earlier tasks, searched by meaning" }, {
  search: () => import("./memory-commands").then((m) => m.search),
  store: () => import("./memory-commands").then((m) => m.store),
  list: () => import("./memory-commands").then((m) => m.list),
  show: () => import("./memory-commands").then((m) => m.show),
  delete: () => import("./memory-commands").then((m) => m.remove),
  export: () => import("./memory-commands").then((m) => m.exportCmd),
  import: () => import("./memory-commands").then((m) => m.importCmd),
  reembed: () => import("./memory-commands").then((m) => m.reembed),
})
