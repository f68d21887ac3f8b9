import type { ServerWebSocket, WebSocketHandler } from "bun"
import { serveAttach } from "../../pool/attach"
import type { AgentPool } from "../../pool/types"
import type { SocketData } from "../upgrade"

// The WebSocket side of GET /api/v1/agents/:id/attach: the route (agents.ts)
// checked the agent and upgraded the request after the guard let it through;
// here each socket is served by the pool's attach protocol (src/pool/attach.ts).

type Served = ReturnType<typeof serveAttach>

export function attachSockets(pool: AgentPool): WebSocketHandler<SocketData> {
  const served = new WeakMap<ServerWebSocket<SocketData>, Served>()
  return {
    open(ws) {
      served.set(
        ws,
        serveAttach(pool, ws.data.agentId, {
          sendText: (text) => void ws.sendText(text),
          sendBinary: (data) => void ws.sendBinary(data),
          buffered: () => ws.getBufferedAmount(),
          close: (code, reason) => ws.close(code, reason),
        }),
      )
    },
    message(ws, message) {
      served.get(ws)?.message(typeof message === "string" ? message : new Uint8Array(message))
    },
    close(ws) {
      served.get(ws)?.close()
      served.delete(ws)
    },
  }
}
