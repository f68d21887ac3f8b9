// WebSocket upgrades for routes served through `app.handle` (which sees only
// the Request). The server registers how to upgrade each request that asks
// for it before handing it to the app; a route that accepts the upgrade calls
// `upgrade(request, data)` after the guard (auth, rate limit) let it through.
// The server then answers nothing itself: Bun has taken the socket.

export type SocketData = { kind: "attach"; agentId: string }

type Upgrader = (data: SocketData) => boolean

const upgraders = new WeakMap<Request, Upgrader>()

export function wantsUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket"
}

export function allowUpgrade(request: Request, upgrader: Upgrader): void {
  upgraders.set(request, upgrader)
}

/** True when the request was turned into a WebSocket carrying `data`. */
export function upgrade(request: Request, data: SocketData): boolean {
  const fn = upgraders.get(request)
  upgraders.delete(request)
  return fn ? fn(data) : false
}
