import { Redis } from "ioredis"
import { MemoryState } from "../../src/state/memory"
import { openRedisState } from "../../src/state/redis"
import { Keys } from "../../src/state/types"
import { startRedis, type RedisServer } from "../support/redis"
import { stateBehaviour } from "./behaviour"

// One behavioural suite, both implementations.

function clock() {
  let t = 1_700_000_000_000
  return { now: () => t, advance: (ms: number) => void (t += ms) }
}

stateBehaviour("memory", async () => {
  const c = clock()
  const store = new MemoryState({ now: c.now, onHandlerError: () => {} })
  return {
    store,
    advance: c.advance,
    async expireAgent(_id, ttlMs) {
      c.advance(ttlMs)
    },
    close: () => store.close(),
  }
})

let redis: RedisServer | undefined
let admin: Redis | undefined
const quiet = { warn() {}, info() {}, debug() {} }

stateBehaviour(
  "redis",
  async () => {
    redis ??= await startRedis()
    admin ??= new Redis(redis.url)
    await admin.flushall()
    const c = clock()
    const store = await openRedisState({ url: redis.url, now: c.now, log: quiet })
    return {
      store,
      advance: c.advance,
      async expireAgent(id) {
        // A deadline in the past: Redis drops the key the way its TTL would.
        await admin!.pexpireat(Keys.agentState(id), 1)
      },
      close: () => store.close(),
    }
  },
  async () => {
    admin?.disconnect()
    await redis?.close()
  },
)
