import * as v from "valibot"

// The Agent Communication Protocol: JSON-RPC 2.0 over WebSocket. One schema
// per method's params and result, shared by the server and the client, so
// both sides reject the same malformed messages with the same paths.

export const JSONRPC_VERSION = "2.0"
/** Subprotocol the server selects when a client offers it (browsers need one echoed back). */
export const ACP_SUBPROTOCOL = "acp.v1"
/** A subprotocol entry `acp.bearer.<key>` carries the API key for clients that cannot set headers. */
export const BEARER_SUBPROTOCOL_PREFIX = "acp.bearer."
/** Query parameter that may carry the API key instead of a header (`ws://host:9100/?token=KEY`). */
export const TOKEN_QUERY_PARAM = "token"

export const DEFAULT_PORT = 9100
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000
export const DEFAULT_MISSED_HEARTBEATS = 3
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

/** JSON-RPC error codes: the standard ones, then ACP's own in the server-error range. */
export const ErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** A host handler refused or failed; `data` is `{ code, hint }` of the named error. */
  application: -32000,
  /** The frame is larger than the server's `maxFrameBytes`; `data` is `{ bytes, maxBytes }`. */
  frameTooLarge: -32001,
  /** The method needs `agent.register` first. */
  notRegistered: -32002,
  /** The addressed agent is not connected. */
  agentNotFound: -32003,
  /** The server has no handler for this (e.g. no delegation hook in this daemon). */
  unavailable: -32004,
  /** Another principal's live connection holds this agent id. */
  agentIdInUse: -32005,
  /** The connection already has `maxInFlight` requests being handled; retry when some have answered. */
  tooManyInFlight: -32006,
} as const

/** WebSocket close codes the server uses beyond the standard ones. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  /** The client read too slowly; its send queue passed `maxBufferedBytes`. */
  slowConsumer: 4008,
  /** The same agent registered again on a newer connection. */
  superseded: 4009,
} as const

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(200))
const Text = v.pipe(v.string(), v.maxLength(64))
const Data = v.optional(v.unknown())
const Metadata = v.optional(v.record(v.string(), v.unknown()))
const Ms = v.pipe(v.number(), v.integer(), v.minValue(0))

export const AgentRegisterParams = v.object({
  agentId: Id,
  role: v.pipe(Text, v.minLength(1)),
  capabilities: v.optional(v.array(Text), []),
  host: v.optional(v.pipe(v.string(), v.maxLength(255))),
  version: v.optional(Text),
  /** Tasks the agent is still running, when it registers again after a reconnect. */
  taskIds: v.optional(v.array(Id), []),
})
export type AgentRegisterParams = v.InferInput<typeof AgentRegisterParams>

export const AgentRegisterResult = v.object({
  agentId: Id,
  heartbeatIntervalMs: Ms,
  maxFrameBytes: Ms,
  serverTime: v.number(),
})
export type AgentRegisterResult = v.InferOutput<typeof AgentRegisterResult>

export const HeartbeatParams = v.optional(
  v.object({
    status: v.optional(v.picklist(["idle", "busy"])),
    load: v.optional(v.pipe(v.number(), v.minValue(0))),
  }),
  {},
)
export type HeartbeatParams = v.InferInput<typeof HeartbeatParams>
export const HeartbeatResult = v.object({ serverTime: v.number() })
export type HeartbeatResult = v.InferOutput<typeof HeartbeatResult>

export const TaskAssignParams = v.object({
  taskId: Id,
  prompt: v.string(),
  role: v.optional(Text),
  title: v.optional(v.string()),
  parentTaskId: v.optional(Id),
  metadata: Metadata,
})
export type TaskAssignParams = v.InferOutput<typeof TaskAssignParams>
export const TaskAssignResult = v.object({ accepted: v.boolean(), reason: v.optional(v.string()) })
export type TaskAssignResult = v.InferOutput<typeof TaskAssignResult>

export const TaskCancelParams = v.object({ taskId: Id, reason: v.optional(v.string()) })
export type TaskCancelParams = v.InferOutput<typeof TaskCancelParams>

export const TaskProgressParams = v.object({
  taskId: Id,
  message: v.optional(v.string()),
  percent: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
  data: Data,
})
export type TaskProgressParams = v.InferOutput<typeof TaskProgressParams>

const Count = v.pipe(v.number(), v.integer(), v.minValue(0))
export const TaskOutcome = v.object({
  taskId: Id,
  status: v.picklist(["completed", "failed", "cancelled"]),
  output: v.optional(v.string()),
  error: v.optional(v.string()),
  tokens: v.optional(v.object({ input: Count, output: Count })),
  costUsd: v.optional(v.pipe(v.number(), v.minValue(0))),
  durationMs: v.optional(Ms),
  data: Data,
})
export type TaskOutcome = v.InferOutput<typeof TaskOutcome>
/** `task_result` params are the task's outcome. */
export const TaskResultParams = TaskOutcome
export type TaskResultParams = TaskOutcome
export const TaskResultResult = v.object({ recorded: v.boolean() })
export type TaskResultResult = v.InferOutput<typeof TaskResultResult>

export const BroadcastParams = v.object({ message: v.string(), role: v.optional(Text), data: Data })
export type BroadcastParams = v.InferOutput<typeof BroadcastParams>
export const BroadcastResult = v.object({ recipients: Count })
export type BroadcastResult = v.InferOutput<typeof BroadcastResult>
/** What every recipient of a broadcast gets (method `broadcast`, a notification). `from` is an agent id or "server". */
export const BroadcastNotice = v.object({ from: Id, message: v.string(), role: v.optional(Text), data: Data })
export type BroadcastNotice = v.InferOutput<typeof BroadcastNotice>

export const HealthCheckParams = v.optional(v.object({}), {})
export type HealthCheckParams = v.InferInput<typeof HealthCheckParams>
/** The server's answer to an agent's `health_check`. */
export const ServerHealth = v.object({
  status: v.literal("ok"),
  serverTime: v.number(),
  uptimeMs: Ms,
  agents: Count,
})
export type ServerHealth = v.InferOutput<typeof ServerHealth>
/** An agent's answer to the server's `health_check`. */
export const AgentHealth = v.object({
  status: v.picklist(["ok", "busy", "degraded"]),
  taskIds: v.array(Id),
  load: v.optional(v.number()),
})
export type AgentHealth = v.InferOutput<typeof AgentHealth>

export const AgentMessageParams = v.object({ to: Id, message: v.string(), data: Data })
export type AgentMessageParams = v.InferOutput<typeof AgentMessageParams>
export const AgentMessageResult = v.object({ delivered: v.boolean() })
export type AgentMessageResult = v.InferOutput<typeof AgentMessageResult>
/** What the addressee gets (method `agent.message`, a notification). */
export const AgentMessageNotice = v.object({ from: Id, to: Id, message: v.string(), data: Data })
export type AgentMessageNotice = v.InferOutput<typeof AgentMessageNotice>

export const DelegateParams = v.object({
  prompt: v.pipe(v.string(), v.minLength(1)),
  role: v.optional(Text),
  title: v.optional(v.string()),
  parentTaskId: v.optional(Id),
  metadata: Metadata,
  /** Answer only once the child task finished, with its outcome. */
  wait: v.optional(v.boolean(), false),
  /** How long the host may wait for the outcome when `wait` is set. */
  timeoutMs: v.optional(Ms),
})
export type DelegateParams = v.InferOutput<typeof DelegateParams>
export const DelegateResult = v.object({ taskId: Id, result: v.optional(TaskOutcome) })
export type DelegateResult = v.InferOutput<typeof DelegateResult>

/** Methods an agent calls on the server. `notification: true` ones carry no id and get no answer. */
export const ServerMethods = {
  "agent.register": { params: AgentRegisterParams, result: AgentRegisterResult },
  heartbeat: { params: HeartbeatParams, result: HeartbeatResult },
  "task.progress": { params: TaskProgressParams, notification: true },
  task_result: { params: TaskResultParams, result: TaskResultResult },
  broadcast: { params: BroadcastParams, result: BroadcastResult },
  health_check: { params: HealthCheckParams, result: ServerHealth },
  "agent.message": { params: AgentMessageParams, result: AgentMessageResult },
  "agent.delegate": { params: DelegateParams, result: DelegateResult },
} as const

/** Methods the server calls on an agent. */
export const ClientMethods = {
  task_assign: { params: TaskAssignParams, result: TaskAssignResult },
  "task.cancel": { params: TaskCancelParams, notification: true },
  broadcast: { params: BroadcastNotice, notification: true },
  "agent.message": { params: AgentMessageNotice, notification: true },
  health_check: { params: HealthCheckParams, result: AgentHealth },
} as const

type MethodTable = Record<string, { params: v.GenericSchema; result?: v.GenericSchema; notification?: true }>
type Requests<T extends MethodTable> = { [K in keyof T]: T[K] extends { result: v.GenericSchema } ? K : never }[keyof T]
type Notifications<T extends MethodTable> = { [K in keyof T]: T[K] extends { notification: true } ? K : never }[keyof T]

export type ServerRequest = Requests<typeof ServerMethods>
export type ServerNotification = Notifications<typeof ServerMethods>
export type ClientRequest = Requests<typeof ClientMethods>
export type ClientNotification = Notifications<typeof ClientMethods>
export type ParamsOf<T extends MethodTable, K extends keyof T> = v.InferInput<T[K]["params"]>
export type ResultOf<T extends MethodTable, K extends keyof T> = T[K] extends { result: infer R extends v.GenericSchema } ? v.InferOutput<R> : never
