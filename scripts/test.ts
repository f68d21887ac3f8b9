// `bun run test [files...]`: build the binary the CLI tests run, then bun test.
const root = `${import.meta.dir}/..`
const run = (cmd: string[]) => Bun.spawnSync(cmd, { cwd: root, stdout: "inherit", stderr: "inherit", stdin: "inherit" }).exitCode ?? 1

const built = run([process.execPath, "run", "build"])
if (built !== 0) process.exit(built)
process.exit(run([process.execPath, "test", ...process.argv.slice(2)]))
