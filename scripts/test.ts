// `bun run test [files...]`: build the binary the CLI tests run, then bun test.
const root = `${import.meta.dir}/..`
const run = (cmd: string[]) => Bun.spawnSync(cmd, { cwd: root, stdout: "inherit", stderr: "inherit", stdin: "inherit" }).exitCode ?? 1

const built = run([process.execPath, "run", "build"])
if (built !== 0) process.exit(built)
// bunfig's [test] timeout is not read by this Bun; the default is 5 s, too short
// for tests that start real servers and the real claude.
process.exit(run([process.execPath, "test", "--timeout=60000", ...process.argv.slice(2)]))
