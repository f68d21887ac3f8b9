import { join } from "node:path"
import { hostname } from "node:os"
import type { Clock } from "../acp/clock"
import { AcpServer, type AcpHooks } from "../acp/server"
import { generateKey, keysFile } from "../config/keys"
import type { CcaConfig } from "../config/schema"
import { ConfigError } from "../errors"
import { createLogger, registerSecret, type Logger } from "../log"
import { acpHooks } from "../orchestrator/acp-hooks"
import { checkDaemonId, Cluster } from "../orchestrator/cluster"
import { BUILTIN_ROLES, listRoles } from "../agent/roles"
import { reapListed } from "../agent/reaper"
import { createEmbedder } from "../embeddings/embedder"
import { MemoryEndHook, MemoryStage } from "../memory/loop"
import { MemoryService } from "../memory/service"
import { CodeIndex } from "../codeindex/service"
import { Orchestrator } from "../orchestrator/orchestrator"
import { RlService } from "../rl/service"
import { budgeted, budgetPolicy, TokenBudgetStage } from "../tokens/budget"
import { TokenService } from "../tokens/service"
import { openContextRedis, RetryContextStage, SnapshotStore } from "../tokens/snapshots"
import type { PromptStage, TaskEndHook } from "../orchestrator/stages"
import { paths } from "../paths"
import { poolOptions, poolWarnings, type PoolOptions } from "../pool/options"
import { createPool } from "../pool/pool"
import { openState } from "../state/state"
import { Channels, type StateStore } from "../state/types"
import { loadDaemonId } from "../store/daemons"
import { openStore, type Store } from "../store/store"
import { VERSION } from "../version"
import { createApp, type DaemonApp } from "./app"
import { isLoopback, KeyRing } from "./auth"
import type { DaemonContext } from "./context"
import { Metrics } from "./metrics"
import { TokenBuckets } from "./rate-limit"
import { Sessions } from "./sessions"
import { uiSessionRepo } from "../store/ui-sessions"
import { API_PREFIX } from "./prefix"
import { attachSockets } from "./routes/attach"
import { allowUpgrade, wantsUpgrade, type SocketData } from "./upgrade"
import { acquirePidLock, type PidLock } from "./runtime"

// One running daemon: pid lock, store (recovering what a killed predecessor
// left running), state, the ACP server with the orchestrator's hooks, and the
// HTTP API. `stop()` shuts down in order: stop accepting HTTP, let running
// tasks report for the grace period and requeue the rest, close ACP, close
// the stores, release the lock.

export type DaemonOptions = {
  config: CcaConfig
  log?: Logger
  /** Keep the pid lock out of it (tests that run several daemons in one process). */
  lock?: boolean
  /** PGlite dir override ("memory" for tests). */
  dataDir?: string
  /** The clock of task timeouts and dispatch ticks (tests move it by hand). */
  taskClock?: Clock
  /** The clock of lease renewals (tests renew by hand with cluster.tick()). */
  clusterClock?: Clock
  /** Pool settings over the ones from config (tests: the claude binary, its environment, a clock). */
  pool?: Partial<PoolOptions>
  /** Prompt stages and task end hooks after the daemon's own (src/orchestrator/stages.ts). */
  stages?: readonly PromptStage[]
  endHooks?: readonly TaskEndHook[]
  /** The clock of dashboard session expiry (tests move it by hand). */
  sessionClock?: () => number
}

export type RunningDaemon = {
  http: string
  acp: string
  daemonId: string
  app: DaemonApp
  ctx: DaemonContext
  recovered: { requeued: number; failed: number }
  warnings: string[]
  stop(reason?: string): Promise<void>
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1"
  if (host === "::") return "[::1]"
  return host.includes(":") ? `[${host}]` : host
}

/** Refuse settings that would expose the API; return warnings for risky ones. */
export function checkExposure(config: CcaConfig): string[] {
  const d = config.daemon
  if (!d.require_auth && !isLoopback(d.bind)) {
    throw new ConfigError(`daemon.require_auth = false is only allowed on a loopback address, but daemon.bind is ${d.bind}`, {
      hint: "set daemon.require_auth = true (and create a key with `cca keys create`), or bind to 127.0.0.1",
    })
  }
  return d.require_auth ? [] : ["daemon.require_auth = false: the API on 127.0.0.1 answers anyone on this machine without an API key"]
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { config } = opts
  const log = opts.log ?? createLogger("daemon", { file: paths.daemonLogFile() })
  const warnings = [...checkExposure(config), ...poolWarnings(config)]
  const cleanup: (() => unknown)[] = []
  const undo = async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch((e: unknown) => log.error("cleanup failed", e))
  }
  try {
    let lock: PidLock | undefined
    let pidDir: string | undefined
    if (opts.lock !== false) {
      lock = acquirePidLock()
      cleanup.push(() => lock!.release())
      // Holding the lock, the predecessor is gone: its agents that are still running are orphans.
      pidDir = join(paths.runDir(), "agents")
      const reaped = reapListed(pidDir)
      if (reaped.length) log.warn(`killed ${reaped.length} agent process(es) a previous daemon left running: pid ${reaped.join(", ")}`)
    }
    // The key this run gives its own agents (their MCP bridge, pty hooks): in memory only, never written
    // anywhere. It is the ring's one key when no user key exists yet.
    const agentKey = generateKey()
    registerSecret(agentKey.key)
    const keys = new KeyRing([...config.daemon.api_keys, agentKey.hash], keysFile(), Date.now, 1000, (e) => log.warn(`keys file not reloaded: ${(e as Error).message}`))
    if (config.daemon.require_auth && keys.size === 1) warnings.push("no API keys yet: every route but /api/v1/health answers 401 until you run `cca keys create`")

    const store: Store = await openStore({ postgresUrl: config.postgres.url || undefined, postgresPool: config.postgres.pool, dataDir: opts.dataDir ?? (config.postgres.data_dir || undefined) })
    cleanup.push(() => store.close())
    if (!store.vectors.available) warnings.push(`${store.vectors.reason}: ${store.vectors.off.join(", ")} off (their routes answer 503). Try: ${store.vectors.hint}`)
    const daemonId = config.daemon.id || loadDaemonId()
    await checkDaemonId(store, daemonId)
    // The cluster's callbacks reach parts made further down.
    const late: { orchestrator?: Orchestrator; state?: StateStore; acpUrl?: string } = {}
    let httpUrl = ""
    const cluster = new Cluster({
      store,
      owner: daemonId,
      log,
      leaseMs: config.cluster.lease_s * 1000,
      renewMs: config.cluster.renew_s * 1000,
      workerGraceMs: config.cluster.worker_grace_s * 1000,
      clock: opts.clusterClock,
      version: VERSION,
      bridge: (on) => late.state?.bridge?.(on),
      info: () => ({ httpUrl: httpUrl || undefined, acpUrl: late.acpUrl, events: late.state?.health().events }),
      adopted: async (moved) => {
        await late.orchestrator?.absorb(moved)
      },
      fenced: async (by) => {
        const n = (await late.orchestrator?.abandonLost(`daemon ${by ?? "another daemon"} adopted this daemon's tasks`)) ?? 0
        if (n) log.warn(`dropped ${n} task(s) this daemon no longer owns`)
      },
    })
    await cluster.join()
    const orphans = await store.tasks.recoverOrphans(daemonId)
    await store.agents.stopAllOf(daemonId)
    const recovered = { requeued: orphans.filter((t) => t.task.status === "pending").length, failed: orphans.filter((t) => t.task.status === "failed").length }
    if (orphans.length) log.warn(`recovered ${orphans.length} task(s) left running by a previous run: ${recovered.requeued} requeued, ${recovered.failed} failed (attempts used up)`)

    const state: StateStore = await openState({ redisUrl: config.redis.url || undefined, log, notify: store.notify })
    late.state = state
    cleanup.push(() => state.close())
    state.onHealth((h) => (h.state === "ok" ? log.info(`state (${h.backend}) is ok again`) : log.warn(`state (${h.backend}) is degraded: ${h.detail ?? ""}`)))

    const hooks: AcpHooks = {}
    const acp = new AcpServer({
      authenticate: (key) => {
        if (!config.daemon.require_auth && isLoopback(config.daemon.bind)) return { id: key ? (keys.verify(key)?.keyId ?? "anonymous") : "anonymous" }
        const p = key ? keys.verify(key) : undefined
        return p ? { id: p.keyId, name: p.name } : null
      },
      hooks,
      port: config.daemon.acp_port,
      hostname: config.daemon.bind,
      heartbeatIntervalMs: config.acp.heartbeat_interval_s * 1000,
      missedHeartbeats: config.acp.heartbeat_misses,
      maxFrameBytes: config.acp.max_frame_bytes,
      maxConnections: config.acp.max_connections,
      maxQueuedFrames: config.acp.send_queue_limit,
      admitHandshake: ((b) => (remote: string) => b.take(remote))(new TokenBuckets(config.acp.handshake_rps, config.acp.handshake_burst)),
      requestTimeoutMs: config.acp.request_timeout_s * 1000,
      log,
    })
    const poolOpts = poolOptions(config, {
        owner: daemonId,
        state,
        agents: store.agents,
        log,
        link: () => ({ daemonUrl: httpUrl, acpUrl: acp.url, apiKey: agentKey.key }),
        hookUrl: (id) => `${httpUrl}${API_PREFIX}/agents/${encodeURIComponent(id)}/hooks`,
        pidDir,
        ...opts.pool,
      })
    const pool = createPool(poolOpts)
    cleanup.push(() => pool.close())
    const embedder = createEmbedder(config.embeddings)
    cleanup.push(() => embedder.close?.())
    const memory = new MemoryService({ db: store.sql, embedder, vectors: store.vectors, config: config.memory, log })
    // The ReasoningBank's loop: only when on and the database has vectors (nothing runs for it otherwise).
    const memoryLoop = config.memory.enabled && store.vectors.available
    // Learned routing: models reloaded now; decisions recorded after them are replayed in the background.
    const rl = await RlService.open({ db: store.sql, config: config.learning, embedder, log, memory: () => memoryLoop && config.memory.top_k > 0, budget: () => budgeted(config) })
    cleanup.push(() => rl.close())
    const tokens = new TokenService({ db: store.sql, model: config.agents.model, log })
    // Agents' contexts in Redis too (cca:agent:{id}:context, TTL 1 h) when it is configured: a client of the snapshots' own.
    const contextRedis = config.redis.url ? await openContextRedis(config.redis.url) : undefined
    if (contextRedis) cleanup.push(() => contextRedis.quit().then(() => {}, () => contextRedis.disconnect()))
    const snapshots = new SnapshotStore({ db: store.sql, redis: contextRedis, estimator: () => tokens.estimator(), log })
    const orchestrator = new Orchestrator({
      router: rl.router,
      store,
      state,
      acp,
      pool,
      owner: daemonId,
      log,
      taskTimeoutMs: config.tasks.timeout_s * 1000,
      maxAttempts: config.tasks.max_attempts,
      maxDepth: config.tasks.max_depth,
      tickMs: config.tasks.dispatch_tick_s * 1000,
      roles: () => [...Object.keys(BUILTIN_ROLES), ...(config.agents.max_agents > 0 ? listRoles(opts.pool?.rolesDir) : []), ...config.tasks.roles],
      maxAgents: config.agents.max_agents,
      tokenBudget: config.learning.token_budget,
      baselineMs: config.learning.baseline_s * 1000,
      clock: opts.taskClock,
      // The token budget last: it must count everything the stages before it put into the prompt.
      stages: [...(memoryLoop ? [new MemoryStage(memory)] : []), new RetryContextStage(store.events, snapshots, { stateDirOf: (id) => join(poolOpts.stateRoot, id), estimator: () => tokens.estimator() }), ...(opts.stages ?? []), ...(budgeted(config) ? [new TokenBudgetStage(tokens, budgetPolicy(config), log)] : [])],
      endHooks: [...(memoryLoop ? [new MemoryEndHook(memory, log, async (agentId, message) => (pool.get(agentId) ? pool.send(agentId, message, { timeoutMs: 120_000 }) : Promise.reject(new Error(`agent ${agentId} is not a local agent`))))] : []), ...(opts.endHooks ?? [])],
    })
    late.orchestrator = orchestrator
    Object.assign(hooks, acpHooks({ orchestrator, store }), {
      // An agent's broadcast reaches the agents of the other daemons too (they share the state store's pub/sub).
      onBroadcast: (from: { agentId: string }, p: { message: string; role?: string; data?: unknown }) =>
        void state.publish(Channels.broadcast, { daemonId, from: from.agentId, ...p }).catch(() => {}),
      // ... and this daemon's own agents, before their next prompt
      deliverBroadcast: (from: { agentId: string }, p: { message: string; role?: string }) => pool.deliver({ from: from.agentId, message: p.message, role: p.role }).length,
    } satisfies AcpHooks)
    const relay = await state.subscribe(Channels.broadcast, (m) => {
      const b = m as { daemonId?: string; from?: string; message?: string; role?: string; data?: unknown }
      if (b.daemonId !== daemonId && typeof b.message === "string") {
        acp.broadcast({ from: b.from ?? "remote", message: b.message, role: b.role, data: b.data })
        pool.deliver({ from: b.from ?? "remote", message: b.message, role: b.role })
      }
    })
    cleanup.push(relay)
    await orchestrator.start()
    cleanup.push(() => orchestrator.stop())
    const acpBound = await acp.listen()
    late.acpUrl = acpBound.url
    cleanup.push(() => acp.stop())
    cluster.start()
    cleanup.push(() => cluster.stop())

    // Code search with chunk vectors of the one embedder (embedded in the background; [indexing] vectors = false: lexical only).
    const code = new CodeIndex({ db: store.sql, config: config.indexing, embedder: config.indexing.vectors ? embedder : undefined, log })
    cleanup.push(() => code.close())
    const ctx: DaemonContext = {
      code,
      rl,
      tokens,
      memory,
      version: VERSION,
      embedder,
      daemonId,
      pid: process.pid,
      startedAt: new Date(),
      orchestrator,
      pool,
      store,
      state,
      acp,
      cluster,
      addresses: () => ({ http: httpUrl, acp: acpBound.url }),
    }
    const metrics = new Metrics()
    metrics.addGauges(async () => {
      const counts = await store.tasks.counts()
      const s = acp.status()
      return [
        ...Object.entries(counts).map(([status, n]) => ({ name: "cca_tasks", help: "Tasks by status.", labels: { status }, value: n })),
        { name: "cca_tasks_in_flight", help: "Tasks this daemon has handed to agents.", value: orchestrator.inFlight },
        { name: "cca_agents", help: "Registered agents by health.", labels: { health: "healthy" }, value: s.agents.healthy },
        { name: "cca_agents", help: "Registered agents by health.", labels: { health: "unhealthy" }, value: s.agents.unhealthy },
        { name: "cca_acp_connections", help: "Open ACP WebSocket connections.", value: s.connections },
        { name: "cca_acp_messages_in_total", help: "ACP frames received.", value: s.messages.in },
        { name: "cca_acp_errors_total", help: "ACP frames that were answered with an error or dropped.", value: s.errors },
        { name: "cca_state_degraded", help: "1 while the state store runs on its local fallback.", value: state.health().state === "degraded" ? 1 : 0 },
        { name: "process_resident_memory_bytes", help: "Resident memory.", value: process.memoryUsage.rss() },
        { name: "process_uptime_seconds", help: "Seconds since the daemon started.", value: (Date.now() - ctx.startedAt.getTime()) / 1000 },
      ]
    })
    const sessions = config.ui.enabled
      ? new Sessions({ repo: uiSessionRepo(store.sql), keyActive: (id) => keys.active(id), ttlMs: config.ui.session_ttl_s * 1000, now: opts.sessionClock, log })
      : undefined
    const app = createApp({ config, keys, metrics, log, ctx, sessions })
    const sockets = attachSockets(pool)
    const http = Bun.serve<SocketData>({
      hostname: config.daemon.bind,
      port: config.daemon.http_port,
      // The app reads bodies itself, capped at body_limit with a JSON 413 (body-check.ts); Bun's own cap
      // (a bare 413) only stops what no client of this API sends.
      maxRequestBodySize: Math.max(config.daemon.body_limit * 16, 64 * 1024 * 1024),
      idleTimeout: 60,
      fetch(request, server) {
        const ip = () => server.requestIP(request)?.address ?? "unknown"
        // Problem: the idle timeout used to be lifted for every path ending in /events before auth, so
        // unauthenticated sockets stayed open forever. Fix: only a 200 event stream lifts it, and a
        // refused request (401, 429) closes its connection at once.
        const answered = (r: Response | undefined): Response | undefined => {
          if (!r) return r
          if (r.status === 200 && r.headers.get("content-type")?.startsWith("text/event-stream")) server.timeout(request, 0)
          else if (r.status === 401 || r.status === 429) r.headers.set("connection", "close")
          return r
        }
        if (!wantsUpgrade(request)) {
          const r = app.handle(request, ip)
          return r instanceof Response ? answered(r) : r.then(answered)
        }
        let upgraded = false
        allowUpgrade(request, (data) => (upgraded = server.upgrade(request, { data })))
        return Promise.resolve(app.handle(request, ip)).then((r) => (upgraded ? undefined : answered(r)))
      },
      websocket: sockets,
    })
    httpUrl = `http://${hostForUrl(config.daemon.bind)}:${http.port}`
    let httpOpen = true
    cleanup.push(() => httpOpen && http.stop(true))
    lock?.writeRuntime({ http: httpUrl, acp: acpBound.url, daemonId, started_at: ctx.startedAt.toISOString(), version: VERSION })
    for (const w of warnings) log.warn(w)
    log.info(`daemon ${daemonId} listening: http ${httpUrl}, acp ${acpBound.url}`)
    // Problem: recovered tasks (and ones pending before the restart) waited for the first tick (2 s), and
    // their `requeued` events reached no one. Fix: publish them and look for work now, once the HTTP
    // address is known (agents spawned for them need it for their cca tools).
    await orchestrator.absorb(orphans, { always: true })

    let stopping: Promise<void> | undefined
    const stop = (reason = "stop") =>
      (stopping ??= (async () => {
        log.info(`daemon stopping (${reason})`)
        httpOpen = false
        void http.stop(false) // stop accepting; requests in flight finish (not awaited: event streams never do)
        const { requeued } = await orchestrator.drain(config.daemon.shutdown_grace_s * 1000)
        await cluster.stop()
        if (requeued) log.info(`requeued ${requeued} running task(s) for the next daemon`)
        await pool.close()
        void http.stop(true) // what is left (event streams)
        await acp.stop()
        await store.daemons.stopped(daemonId).catch(() => {})
        await undo()
        log.info("daemon stopped")
      })())
    return { http: httpUrl, acp: acpBound.url, daemonId, app, ctx, recovered, warnings, stop }
  } catch (e) {
    await undo()
    throw e
  }
}
