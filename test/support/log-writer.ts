// A process that writes numbered lines through the real logger, for
// test/unit/log.test.ts: bun test/support/log-writer.ts KIND TAG COUNT
import { createLogger, flushLogs, setLogKind, type LogKind } from "../../src/log"

const [kind, tag, count] = process.argv.slice(2)
setLogKind(kind as LogKind)
const log = createLogger(tag!)
for (let i = 0; i < Number(count); i++) log.info(`${tag} line ${i} ${"x".repeat(60)}`)
await flushLogs()
