import { group } from "./common"

// `worktree create|list|switch|remove|prune`: one file per subcommand, loaded when run.

export default group(
  { name: "worktree", description: "Git worktrees next to the repository, one scc/ branch each" },
  {
    create: () => import("./worktree-create").then((m) => m.default),
    list: () => import("./worktree-list").then((m) => m.default),
    switch: () => import("./worktree-switch").then((m) => m.default),
    remove: () => import("./worktree-remove").then((m) => m.default),
    prune: () => import("./worktree-prune").then((m) => m.default),
  },
)
