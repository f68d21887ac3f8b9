import * as v from "valibot"

// cca.toml: one table per section, one level of keys in each, so every value
// has a dotted name (`daemon.http_port`) and an environment override
// (`CCA__DAEMON__HTTP_PORT`). Objects are strict: a misspelt key is an error
// naming the key and the file, never silently ignored. Defaults give the
// embedded set-up (PGlite, in-process state, the local embedding model).

const port = v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be 0 to 65535"), v.maxValue(65535, "must be 0 to 65535"))
const count = v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1, "must be 1 or more"))
const seconds = v.pipe(v.number(), v.minValue(0, "must be 0 or more"))
const rate = v.pipe(v.number(), v.minValue(0, "must be 0 (off) or more"))
const ratio = v.pipe(v.number(), v.minValue(0, "must be between 0 and 1"), v.maxValue(1, "must be between 0 and 1"))
const nonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"))
const url = v.union([v.literal(""), v.pipe(v.string(), v.url("must be a URL"))], "must be a URL, or empty")

/** A stored API key: `sha256:<id>:<salt>:<hex digest>` (see config/keys.ts); never the key itself. */
export const ApiKeyHash = v.pipe(
  v.string(),
  v.regex(/^sha256:[a-z0-9]{4,32}:[A-Za-z0-9_-]{8,64}:[0-9a-f]{64}$/, "must be a key hash printed by `cca keys create` (sha256:<id>:<salt>:<digest>), never a key itself"),
)

export const DaemonSection = v.strictObject({
  /** Address both listeners bind to. Anything but loopback needs require_auth. */
  bind: v.optional(nonEmpty, "127.0.0.1"),
  http_port: v.optional(port, 9200),
  acp_port: v.optional(port, 9100),
  api_keys: v.optional(v.array(ApiKeyHash), []),
  require_auth: v.optional(v.boolean(), true),
  /** Token bucket per API key: requests per second (0 = no limit) and burst size. */
  rate_limit_key_rps: v.optional(rate, 100),
  rate_limit_key_burst: v.optional(count, 200),
  /** Token bucket per client address, applied before auth. */
  rate_limit_ip_rps: v.optional(rate, 200),
  rate_limit_ip_burst: v.optional(count, 400),
  /** Largest request body in bytes (413 above). */
  body_limit: v.optional(count, 1024 * 1024),
  /** Open event streams (server-sent events) at once per API key and per client address (429 above). */
  sse_per_key: v.optional(count, 64),
  sse_per_ip: v.optional(count, 128),
  /** Seconds between keepalive comments on a quiet event stream (clients give up after client.stream_idle_s of silence). */
  sse_keepalive_s: v.optional(v.pipe(v.number(), v.minValue(0.05, "must be 0.05 or more")), 15),
  /** Origins allowed to call the API from a browser; empty = no CORS headers. `*` allows any. */
  cors_origins: v.optional(v.array(nonEmpty), []),
  /** Owner id of this daemon's tasks; empty: the one kept in ~/.local/share/cca/daemon-id. Pin it where that dir is not kept. */
  id: v.optional(v.pipe(v.string(), v.regex(/^([a-z0-9][a-z0-9-]{0,62})?$/, "must be lowercase letters, digits and -")), ""),
  /** On SIGINT/SIGTERM, how long running tasks may take to finish before they are requeued. */
  shutdown_grace_s: v.optional(seconds, 10),
})
export type DaemonSection = v.InferOutput<typeof DaemonSection>

export const PostgresSection = v.strictObject({
  /** Empty: embedded PGlite in `data_dir`. Otherwise a postgres:// URL (without pgvector on it, memory and code vectors are off). */
  url: v.optional(url, ""),
  pool: v.optional(count, 10),
  /** PGlite data directory; empty means ~/.local/share/cca/pg. */
  data_dir: v.optional(v.string(), ""),
})
export type PostgresSection = v.InferOutput<typeof PostgresSection>

export const RedisSection = v.strictObject({
  /** Empty: in-process state and pub/sub. Otherwise a redis:// URL. */
  url: v.optional(url, ""),
  pool: v.optional(count, 4),
})
export type RedisSection = v.InferOutput<typeof RedisSection>

const positive = v.pipe(v.number(), v.minValue(0.05, "must be at least 0.05 (seconds)"))

/** `[cluster]`: many daemons on one postgres.url (and redis.url). */
export const ClusterSection = v.strictObject({
  /** How long a daemon's lease holds without renewal; a daemon silent for longer is presumed dead and its tasks adopted. */
  lease_s: v.optional(positive, 10),
  /** How often a daemon renews its lease and looks for dead ones; at most half of lease_s (checked at daemon start). */
  renew_s: v.optional(positive, 2),
  /** An adopted task that ran on a remote worker waits this long for the worker to report it to another daemon before any agent may take it. */
  worker_grace_s: v.optional(seconds, 10),
})
export type ClusterSection = v.InferOutput<typeof ClusterSection>

const toolRules = v.array(nonEmpty)
const permissionMode = v.picklist(["allowlist", "sandbox", "dangerous"], "must be allowlist, sandbox or dangerous")
const roleName = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be a role name (lowercase letters, digits, - and _)"))

/** `[agents.permissions.roles.<role>]`: fields given here replace the base ones for that role. */
export const RolePermissions = v.strictObject({
  mode: v.optional(permissionMode),
  allowed_tools: v.optional(toolRules),
  disallowed_tools: v.optional(toolRules),
  allow_network: v.optional(v.boolean()),
})

/**
 * `[agents.permissions]`: allowlist (the default) runs only allowed_tools
 * without asking (anything else is denied back to the model); sandbox allows
 * read-only tools; dangerous passes --dangerously-skip-permissions (with a
 * warning). allowed_tools unset: the built-in list (src/agent/permissions.ts).
 * allow_network = false also denies curl, wget, nc and the web tools.
 */
export const AgentPermissions = v.strictObject({
  mode: v.optional(permissionMode, "allowlist"),
  allowed_tools: v.optional(toolRules),
  disallowed_tools: v.optional(toolRules, []),
  allow_network: v.optional(v.boolean(), false),
  roles: v.optional(v.record(roleName, RolePermissions), {}),
})
export type AgentPermissions = v.InferOutput<typeof AgentPermissions>

const sandboxMode = v.picklist(["none", "docker"], "must be none or docker")

export const AgentsSection = v.strictObject({
  /** Local agents at most; 0 runs none here (tasks go to remote `cca worker`s only). */
  max_agents: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be 0 or more")), 8),
  /** The Claude Code CLI; a bare name is looked up on PATH. */
  claude_path: v.optional(nonEmpty, "claude"),
  /** The model agents use; empty: Claude Code's default. */
  model: v.optional(v.string(), ""),
  /** Driver of spawned agents unless the request names one: stream (claude -p, stream-json) or pty (the interactive UI). */
  driver: v.optional(v.picklist(["stream", "pty"], "must be stream or pty"), "stream"),
  /** Where agents work; empty: each agent gets its own directory under the data dir (~/.local/share/cca/workdirs/<agent id>). */
  workspace: v.optional(v.string(), ""),
  /** Give each agent its own git worktree (branch cca/<id>) of the workspace. */
  worktrees: v.optional(v.boolean(), false),
  spawn_timeout_s: v.optional(seconds, 30),
  /** How long a stopping agent gets after SIGINT before it is killed. */
  stop_timeout_s: v.optional(seconds, 10),
  /** First restart delay after a crash; doubles per consecutive crash up to restart_backoff_max_s. */
  restart_backoff_s: v.optional(seconds, 1),
  restart_backoff_max_s: v.optional(seconds, 30),
  /** This many crashes of one role within circuit_window_s open its circuit: the role is degraded. */
  circuit_crashes: v.optional(count, 3),
  circuit_window_s: v.optional(seconds, 60),
  /** How long an open circuit holds restarts and spawns of its role back. */
  circuit_cooldown_s: v.optional(seconds, 60),
  /** Entries kept in each agent's log (GET /agents/:id/logs). */
  log_entries: v.optional(count, 500),
  /** Terminal output kept per pty agent for late viewers (KiB). */
  terminal_buffer_kib: v.optional(count, 256),
  permissions: v.optional(AgentPermissions, {}),
  /** docker: each agent's claude runs in a governed container, made as `scc start` makes one (org policy, managed settings/MCP, safety net). */
  sandbox: v.optional(sandboxMode, "none"),
  /** Per role, instead of `sandbox`: `{ backend = "docker", coordinator = "none" }`. */
  sandbox_roles: v.optional(v.record(roleName, sandboxMode), {}),
  /** The scc team whose policy binds sandboxed agents; empty: the user's scc team (SCC_TEAM, scc config). */
  team: v.optional(v.string(), ""),
  /** The org config source for sandboxed agents (URL, shorthand or file); empty: the user's scc org source. */
  org: v.optional(v.string(), ""),
  /** Image asked for like `scc start --image` (checked against blocked_base_images); empty: the config's sandbox.image, else the default. */
  image: v.optional(v.string(), ""),
  /** Mount this host's claude (claude_path) read-only into agent containers instead of running the image's own (the image then needs only glibc). */
  sandbox_mount_claude: v.optional(v.boolean(), false),
  /** Tokens a task's prompt (description, injected memory, context) may take; over it the prompt is compressed by tokens.compression, and a task that still cannot fit fails. 0: only tokens.max_context_tokens bounds it. */
  token_budget_per_task: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be 0 (no budget) or more")), 0),
  /** Per role, instead of token_budget_per_task: `{ reviewer = 8000 }`. */
  token_budget_roles: v.optional(v.record(roleName, count), {}),
})
export type AgentsSection = v.InferOutput<typeof AgentsSection>

export const TasksSection = v.strictObject({
  /** A running task with no result after this long fails with `timeout` (0 = never). */
  timeout_s: v.optional(seconds, 300),
  /** Attempts before a task that keeps losing its agent (or its daemon) fails for good. */
  max_attempts: v.optional(count, 3),
  /** Deepest delegation: a task created by a task created by ... a root (depth 0). A delegation past it is refused. */
  max_depth: v.optional(count, 3),
  /**
   * Roles a task may name besides the built-in ones, local role files and the roles of agents this
   * cluster has seen (e.g. a worker's role before it first connects); ["*"] accepts any role.
   */
  roles: v.optional(v.array(v.pipe(v.string(), v.regex(/^(\*|[a-z][a-z0-9_-]{0,39})$/, "must be a role name (lowercase letters, digits, - and _) or *"))), []),
  /** How often pending tasks are looked for without a trigger (backoffs that ran out, tasks no event announced). */
  dispatch_tick_s: v.optional(v.pipe(v.number(), v.minValue(0.1, "must be at least 0.1"), v.maxValue(3600, "must be at most 3600")), 2),
})
export type TasksSection = v.InferOutput<typeof TasksSection>

export const AcpSection = v.strictObject({
  max_frame_bytes: v.optional(count, 1024 * 1024),
  /** Messages queued for one slow connection before it is cut off. */
  send_queue_limit: v.optional(count, 1024),
  max_connections: v.optional(count, 1000),
  /** Handshakes per second per client address (token bucket; 0 = no limit) and burst. */
  handshake_rps: v.optional(rate, 50),
  handshake_burst: v.optional(count, 100),
  heartbeat_interval_s: v.optional(seconds, 30),
  /** Missed heartbeats before an agent is unhealthy and its task is requeued. */
  heartbeat_misses: v.optional(count, 3),
  request_timeout_s: v.optional(seconds, 30),
})
export type AcpSection = v.InferOutput<typeof AcpSection>

export const EmbeddingsSection = v.strictObject({
  /** local: USE-lite inside the binary (semantic, 512-d, offline); hash: feature hashing (lexical); ollama: POST /api/embed; openai: any OpenAI-compatible POST /v1/embeddings. */
  provider: v.optional(v.picklist(["local", "hash", "ollama", "openai"], "must be local, hash, ollama or openai"), "local"),
  /** Model name sent to ollama/openai. Empty: nomic-embed-text (ollama), text-embedding-3-small (openai). local and hash have one model each. */
  model: v.optional(v.string(), ""),
  /** Server of ollama/openai. Empty: http://127.0.0.1:11434 (ollama), https://api.openai.com (openai); a URL ending in /v1 is fine too. */
  url: v.optional(url, ""),
  /** Vector size. 0: the provider's (local 512, hash 768, ollama 768, openai 1536). For openai a set value is also sent as `dimensions`; a server answering another size is an error, never truncated. */
  dimensions: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be 0 (the provider's) or more")), 0),
  /** openai: the NAME of the environment variable holding the API key (never the key itself); unset variable: no Authorization header (local servers). */
  api_key_env: v.optional(v.pipe(v.string(), v.regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, "must be an environment variable name like OPENAI_API_KEY, never the key")), "OPENAI_API_KEY"),
  /** Texts per request to ollama/openai (and per model run for local). */
  batch_size: v.optional(count, 32),
  /** ollama/openai: one request's time limit. */
  timeout_s: v.optional(v.pipe(v.number(), v.minValue(0.001, "must be more than 0")), 30),
  /** Texts longer than this are cut to it before embedding (bounds a model run; embedding models read ~2k tokens at most anyway). */
  max_chars: v.optional(count, 8000),
})
export type EmbeddingsSection = v.InferOutput<typeof EmbeddingsSection>

export const LearningSection = v.strictObject({
  /** false: tasks are routed by the heuristic alone (decisions are still recorded with their rewards). */
  enabled: v.optional(v.boolean(), true),
  /** The routing policy at start (`cca rl algorithm` changes it at run time; that choice then persists). */
  algorithm: v.optional(v.picklist(["heuristic", "linucb", "q_learning", "dqn", "ppo"], "must be heuristic, linucb, q_learning, dqn or ppo"), "linucb"),
  /** Step size of tabular Q-learning. */
  learning_rate: v.optional(v.pipe(v.number(), v.minValue(0.0001, "must be at least 0.0001"), v.maxValue(1, "must be at most 1")), 0.1),
  /** Adam step size of the DQN and PPO networks. */
  network_learning_rate: v.optional(v.pipe(v.number(), v.minValue(0.00001, "must be at least 0.00001"), v.maxValue(0.1, "must be at most 0.1")), 0.003),
  /** γ: weight of the next state's value (only requeued attempts have one). */
  discount: v.optional(ratio, 0.95),
  /** Share of decisions explored uniformly among the eligible roles (at most 0.5). */
  epsilon: v.optional(v.pipe(v.number(), v.minValue(0, "must be at least 0"), v.maxValue(0.5, "must be at most 0.5: exploration is bounded")), 0.03),
  /** LinUCB's α: weight of the confidence width in a role's score. */
  exploration: v.optional(v.pipe(v.number(), v.minValue(0, "must be at least 0"), v.maxValue(5, "must be at most 5")), 0.2),
  /** LinUCB: weight kept by old evidence per new observation of a role (lower adapts to drift faster). */
  forgetting: v.optional(v.pipe(v.number(), v.minValue(0.8, "must be at least 0.8"), v.maxValue(1, "must be at most 1")), 0.99),
  /** Samples per network training step. */
  batch_size: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1, "must be at least 1"), v.maxValue(1024, "must be at most 1024")), 32),
  /** Rewards a learned policy must have seen before it routes instead of the heuristic. */
  warmup: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be at least 0")), 10),
  /** A learned choice overrides the heuristic's only when it scores this much better (closer: unsure, the heuristic decides). */
  margin: v.optional(v.pipe(v.number(), v.minValue(0, "must be at least 0"), v.maxValue(2, "must be at most 2")), 0.05),
  /** Retrain the active algorithm, save every model and refresh the off-policy estimates after this many rewards (0: only on `cca rl train`). */
  train_every: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be at least 0")), 50),
  /** Newest recorded decisions a training run or an evaluation reads. */
  history: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(10, "must be at least 10"), v.maxValue(100_000, "must be at most 100000")), 5000),
  /** Seed of the router's exploration draws and the networks' initial weights. */
  seed: v.optional(v.pipe(v.number(), v.integer("must be a whole number")), 1),
  /** Routing reward: a completed attempt using at most this many input + output + cache-creation tokens earns +0.2. */
  token_budget: v.optional(count, 50_000),
  /** Routing reward: a completed attempt faster than its role's median (this, until a role has 5 completions) earns +0.1. */
  baseline_s: v.optional(v.pipe(v.number(), v.minValue(0.001, "must be more than 0")), 60),
})
export type LearningSection = v.InferOutput<typeof LearningSection>

export const MemorySection = v.strictObject({
  /** false: nothing is written from ended tasks and nothing is put into prompts (the routes and `cca memory` still work). */
  enabled: v.optional(v.boolean(), true),
  /** How an ended task becomes items: extractive (no model call: description, result, error) or agent (one extra short turn asking for JSON items). */
  distiller: v.optional(v.picklist(["extractive", "agent"], "must be extractive or agent"), "extractive"),
  /** Items distilled from one ended task, at most. */
  max_items: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be 0 or more"), v.maxValue(3, "must be at most 3")), 3),
  /** Patterns put into a prompt. */
  top_k: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(0, "must be 0 or more"), v.maxValue(10, "must be at most 10")), 1),
  /** A pattern goes into a prompt only when its similarity to the task is at least this. */
  min_similarity: v.optional(ratio, 0.5),
  /** A new item this close (cosine) to a stored one of the same kind merges into it. */
  merge_similarity: v.optional(ratio, 0.92),
  /** Weight of shared words in the ranking (0: vectors alone). 0.5: chosen on the bench's dev split for the local model. */
  lexical_weight: v.optional(ratio, 0.5),
  /** Longest pattern content accepted, in characters. */
  max_content_chars: v.optional(count, 20_000),
  /** The vector index of each embedding model's patterns. */
  index: v.optional(v.picklist(["hnsw", "ivfflat"], "must be hnsw or ivfflat"), "hnsw"),
  /** HNSW graph degree; applies when a model's index is first built (pgvector's default 16). */
  hnsw_m: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(2, "must be at least 2"), v.maxValue(100, "must be at most 100")), 16),
  /** HNSW build-time candidate list; applies when a model's index is first built (pgvector's default 64; at least 2 x hnsw_m). */
  hnsw_ef_construction: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(4, "must be at least 4"), v.maxValue(1000, "must be at most 1000")), 64),
  /** HNSW search-time candidate list (higher: better recall, slower); a search asking for more rows uses that many. `bun run bench memory` measures it. */
  ef_search: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(1, "must be at least 1"), v.maxValue(1000, "must be at most 1000")), 200),
})
export type MemorySection = v.InferOutput<typeof MemorySection>

export const TokensSection = v.strictObject({
  /** How a prompt over its token budget is made to fit: auto (lossless strategies, then lossy ones), lossless (lossless only), off (none: an over-budget task fails). */
  compression: v.optional(v.picklist(["auto", "lossless", "off"], "must be auto, lossless or off"), "auto"),
  /** The model's context: no prompt is sent that the estimate puts over it, whatever the budget. */
  max_context_tokens: v.optional(count, 200_000),
  /** Warn when a task's prompt uses this share of max_context_tokens. */
  warn_ratio: v.optional(ratio, 0.8),
})
export type TokensSection = v.InferOutput<typeof TokensSection>

export const IndexingSection = v.strictObject({
  include: v.optional(v.array(nonEmpty), ["**/*"]),
  exclude: v.optional(v.array(nonEmpty), ["node_modules/**", ".git/**", "dist/**", "build/**"]),
  max_file_bytes: v.optional(count, 1024 * 1024),
  chunk_lines: v.optional(count, 80),
  parallelism: v.optional(count, 2),
  /** Directories that may be indexed (a path must lie in one, after symlinks); "~" is the daemon user's home. */
  roots: v.optional(v.array(nonEmpty), ["~"]),
  /** Embed chunks with [embeddings]'s model in the background and blend cosine similarity into code search; false: lexical only. */
  vectors: v.optional(v.boolean(), true),
})
export type IndexingSection = v.InferOutput<typeof IndexingSection>

/** The web dashboard at /ui (src/ui). */
export const UiSection = v.strictObject({
  /** Serve the dashboard and its sign-in routes; false: /ui answers 404. */
  enabled: v.optional(v.boolean(), true),
  /** How long a sign-in lasts (seconds); the session then ends whatever the page does. */
  session_ttl_s: v.optional(v.pipe(v.number(), v.integer("must be a whole number"), v.minValue(60, "must be 60 or more"), v.maxValue(30 * 86400, "must be at most 30 days")), 12 * 3600),
})
export type UiSection = v.InferOutput<typeof UiSection>

/** How CLI clients reach a daemon. CCA_DAEMON_URL and CCA_API_KEY take precedence. */
export const ClientSection = v.strictObject({
  /** Empty: the address a daemon on this machine wrote to its run dir, else http://<daemon.bind>:<daemon.http_port>. */
  url: v.optional(url, ""),
  /** A key from `cca keys create`. Prefer CCA_API_KEY; if set here, keep the file private (chmod 600). */
  api_key: v.optional(v.string(), ""),
  /** Seconds to wait for the daemon's answer (for an event stream: its headers; the stream itself may last). */
  timeout_s: v.optional(v.pipe(v.number(), v.minValue(0.05, "must be 0.05 or more")), 30),
  /** Seconds an event stream (`cca task watch`) may stay silent, keepalives included, before the client reconnects from its last event. */
  stream_idle_s: v.optional(v.pipe(v.number(), v.minValue(0.05, "must be 0.05 or more")), 45),
})
export type ClientSection = v.InferOutput<typeof ClientSection>

export const CcaConfig = v.strictObject({
  daemon: v.optional(DaemonSection, {}),
  postgres: v.optional(PostgresSection, {}),
  redis: v.optional(RedisSection, {}),
  cluster: v.optional(ClusterSection, {}),
  agents: v.optional(AgentsSection, {}),
  tasks: v.optional(TasksSection, {}),
  acp: v.optional(AcpSection, {}),
  embeddings: v.optional(EmbeddingsSection, {}),
  learning: v.optional(LearningSection, {}),
  memory: v.optional(MemorySection, {}),
  tokens: v.optional(TokensSection, {}),
  indexing: v.optional(IndexingSection, {}),
  client: v.optional(ClientSection, {}),
  ui: v.optional(UiSection, {}),
})
export type CcaConfig = v.InferOutput<typeof CcaConfig>
export type Section = keyof CcaConfig

export const SECTIONS = Object.keys(CcaConfig.entries) as Section[]

/** The schema of one `section.key`, or undefined when there is no such key. */
export function keySchema(section: string, key: string): v.GenericSchema | undefined {
  const s = (CcaConfig.entries as Record<string, { wrapped: { entries: Record<string, v.GenericSchema> } }>)[section]
  return s?.wrapped.entries[key]
}

/** The base type of a key's schema (through optional and pipe), for coercing env strings. */
export function keyKind(schema: v.GenericSchema): "string" | "number" | "boolean" | "array" | "object" {
  let s = schema as v.GenericSchema & { wrapped?: v.GenericSchema; pipe?: v.GenericSchema[]; options?: v.GenericSchema[] }
  for (;;) {
    if (s.type === "optional" && s.wrapped) s = s.wrapped
    else if (s.pipe && s.pipe[0] && s.pipe[0] !== s) s = s.pipe[0]
    else break
  }
  if (s.type === "number" || s.type === "boolean" || s.type === "array") return s.type
  if (s.type === "strict_object" || s.type === "object") return "object"
  return "string" // string, picklist, union of strings
}

export function defaultConfig(): CcaConfig {
  return v.parse(CcaConfig, {})
}
