#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point of the `sluice` command. Sluice runs its TypeScript sources directly (Node's type
// stripping), which needs Node >= 22.19: `npx sluice` and npm scripts use the project's pinned Node.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `sluice needs Node >= 22.19 (this is ${process.version}). Run it with \`npx sluice …\` inside the project, ` +
      `which uses the Node pinned in package.json, or install a newer Node.\n`
  )
  process.exit(1)
}
// Connectors start as many short processes: cache compiled code between runs.
const { enableCompileCache } = await import("node:module")
enableCompileCache?.()
const { main } = await import("../src/cli/main.ts")
process.exitCode = await main(process.argv.slice(2))
