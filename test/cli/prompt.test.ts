import { expect, test } from "bun:test"
import { PassThrough } from "node:stream"
import { prompter } from "../../src/cli/prompt"

// The prompter reads stdin as the session after it does (a Node stream), and
// hands back what it read past the last answer: nothing the user typed is lost.

test("answers line by line; what was read past the last answer goes back to the stream", async () => {
  const input = new PassThrough()
  const ask = prompter(input as unknown as NodeJS.ReadStream)
  input.write("first\r\nsecond\nkeys for the session")
  expect(await ask.ask("one")).toBe("first")
  expect(await ask.ask("two", "dflt")).toBe("second")
  ask.close()
  const rest = new Promise<string>((resolve) => input.once("data", (c: Buffer) => resolve(c.toString())))
  input.resume() // as the session does
  expect(await rest).toBe("keys for the session")
})

test("an empty answer is the fallback; end of input is undefined", async () => {
  const input = new PassThrough()
  const ask = prompter(input as unknown as NodeJS.ReadStream)
  input.end("\n")
  expect(await ask.ask("q", "kept")).toBe("kept")
  expect(await ask.ask("q")).toBeUndefined()
  ask.close()
})
