import { afterAll, beforeAll, expect, test } from "bun:test"
import { PassThrough } from "node:stream"
import { runSession, type SessionIO } from "../../src/sandbox/session"
import { startPodman, TEST_IMAGE, type Podman } from "../support/podman"

// The session without a terminal (piped input): stdin goes in, stdout and
// stderr come back apart, the end of input reaches the command, and its exit
// status is returned. The TTY path is proven through the binary in a PTY
// (test/cli/start.test.ts). `claude` here is a shell script standing in for
// Claude Code: the test image is busybox and has no node.

const CLAUDE_STANDIN = `#!/bin/sh
echo "stand-in claude in $(pwd)"
while IFS= read -r line; do echo "got:$line"; done
echo "bye" >&2
exit 3
`

let pm: Podman
let id: string

beforeAll(async () => {
  pm = await startPodman()
  await pm.importImage(TEST_IMAGE, { "usr/local/bin/claude": [CLAUDE_STANDIN, 0o755] })
  const c = await pm.docker.createContainer({ Image: TEST_IMAGE, Entrypoint: ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 86400 & wait $!; done"], Cmd: [] })
  await c.start()
  id = c.id
})

afterAll(async () => {
  await pm?.[Symbol.asyncDispose]()
})

function collect(s: PassThrough): () => string {
  const chunks: Buffer[] = []
  s.on("data", (b: Buffer) => chunks.push(b))
  return () => Buffer.concat(chunks).toString()
}

test("piped input: lines in, stdout and stderr out separately, end of input delivered, exit status returned", async () => {
  const stdin = new PassThrough()
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out = collect(stdout)
  const err = collect(stderr)
  const io = { stdin, stdout, stderr } as unknown as SessionIO
  const session = runSession(pm.docker, id, { command: ["claude"], workdir: "/tmp", io })
  stdin.write("first\n")
  stdin.end("second\n")
  expect(await session).toBe(3)
  expect(out()).toBe("stand-in claude in /tmp\ngot:first\ngot:second\n")
  expect(err()).toBe("bye\n")
})
