import type { AcpServer } from "../acp/server"
import type { DocumentDecoration } from "elysia"
import type { Embedder } from "../embeddings/types"
import type { Cluster } from "../orchestrator/cluster"
import type { Orchestrator } from "../orchestrator/orchestrator"
import type { CodeIndex } from "../codeindex/service"
import type { MemoryService } from "../memory/service"
import type { RlService } from "../rl/service"
import type { TokenService } from "../tokens/service"
import type { AgentPool } from "../pool/types"
import type { StateStore } from "../state/types"
import type { Store } from "../store/store"
import type { RouteDetail } from "./openapi"

// What route groups get: the domain objects of one running daemon. Routes
// call the orchestrator's domain functions (the same ones the CLI and MCP
// call) and read status from the store, state and ACP server.

export type DaemonContext = {
  version: string
  /** This daemon's id, the owner of the tasks it claims. */
  daemonId: string
  pid: number
  startedAt: Date
  orchestrator: Orchestrator
  /** This daemon's Claude Code agents (src/pool). */
  pool: AgentPool
  store: Store
  state: StateStore
  acp: Pick<AcpServer, "agents" | "agent" | "status" | "broadcast" | "url">
  /** This daemon's lease and the adoptions it made (many daemons on one database). */
  cluster?: Cluster
  /** The one embedder of [embeddings], shared by memory, code search and routing features; loads its model on first use. */
  embedder: Embedder
  /** The ReasoningBank: patterns searched, stored, put into prompts (src/memory). */
  memory: MemoryService
  /** The code index: indexing jobs and search (src/codeindex). */
  code: CodeIndex
  /** Learned routing: status, training, algorithm and parameters (src/rl). */
  rl: RlService
  /** Token counting, compression, metrics (src/tokens). */
  tokens: TokenService
  /** The addresses it listens on, once bound. */
  addresses(): { http: string; acp: string }
}

/** Route documentation for the OpenAPI document (openapi.ts reads it back as RouteDetail). */
export function doc(d: RouteDetail): DocumentDecoration {
  return d as unknown as DocumentDecoration
}
