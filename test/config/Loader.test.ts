/**
 * loadConfig as `sluice` runs it: real Node processes importing real files (the examples, and temp
 * files outside the repository that import "sluice"), with every failure typed and precise; importing
 * a config module does no I/O and reads no env; resolveConnection picks a connection by name.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll } from "vitest"
import { resolveConnection } from "../../src/config/Loader.ts"

const run = promisify(execFile)
const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url))

interface Outcome {
  readonly path: string
  readonly ok: boolean
  readonly loaded?: { readonly path: string; readonly directory: string; readonly config: { readonly connections: Record<string, unknown> } }
  readonly error?: {
    readonly tag: string
    readonly message: string
    readonly path?: string
    readonly detail?: string
    readonly issues?: ReadonlyArray<{ readonly path: string; readonly message: string }>
  }
}

const header = `import { defineConfig, destinations, mappers, sources } from "sluice"\n`
const files: Record<string, string> = {
  "broken.config.ts": `${header}const count: number = \nexport default defineConfig({{ connections: {} })\n`,
  "throws.config.ts": `${header}\nthrow new Error("boom while building the config")\n`,
  "enum.config.ts": `enum Mode { A }\nexport default { connections: { a: Mode.A } }\n`,
  "missing-package.config.ts": `import { nope } from "no-such-package-for-sluice"\nexport default nope\n`,
  "missing-file.config.ts": `import { shared } from "./shared"\nexport default shared\n`,
  "no-default.config.ts": `${header}export const config = defineConfig({ connections: {} })\n`,
  "count-ten.config.ts": `${header}export default defineConfig({ connections: { quickstart: {
  source: sources.faker({ count: "ten" }),
  destination: destinations.jsonl({ path: "./out" })
} } })\n`,
  "many.config.ts": `${header}export default defineConfig({ connections: {
  "Bad Name": { source: sources.faker({ count: 1 }), destination: destinations.devNull() },
  a: {
    source: { kind: "source", connector: "mysql", config: {} },
    destination: destinations.devNull(),
    mappers: [{ type: "uppercase", stream: "users" }, mappers.hash({ stream: "users" })],
    schedule: { every: "10 seconds" }
  },
  b: { source: sources.faker({ count: 1 }), destination: destinations.devNull(), schedule: { cron: "0 * * *" } }
} })\n`,
  "ok.config.mjs": `import { defineConfig, destinations, sources } from "sluice"\nexport default defineConfig({ connections: { only: {
  source: sources.faker({ count: 5 }), destination: destinations.jsonl({ path: "out/only" }) } } })\n`,
  "notes.txt": "not a config\n",
  "dir/sluice.config.ts": `${header}export default defineConfig({ connections: { d: { source: sources.faker({ count: 1 }), destination: destinations.devNull() } } })\n`
}

let dir = ""
const outcomes = new Map<string, Outcome>()
const outcome = (name: string): Outcome => {
  const found = outcomes.get(name)
  assert.isDefined(found, name)
  return found!
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-config-test-"))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  const targets: ReadonlyArray<readonly [string, string]> = [
    ...Object.keys(files).map((name) => [name, join(dir, name)] as const),
    ["dir", join(dir, "dir")],
    ["absent", join(dir, "absent.config.ts")],
    ["quickstart", example("quickstart.config.ts")],
    ["postgres", example("postgres.config.ts")]
  ]
  const { stdout } = await run(process.execPath, [fixture("load-configs.ts"), ...targets.map(([, path]) => path)], {
    env: { ...process.env, PGPASSWORD: "hunter2-never-loaded" }
  })
  const lines = stdout.trim().split("\n").map((line) => JSON.parse(line) as Outcome)
  targets.forEach(([name], i) => outcomes.set(name, lines[i]!))
})

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

describe("loadConfig", () => {
  it("loads the examples; relative paths resolve against the config file's directory", () => {
    const quickstart = outcome("quickstart")
    assert.isTrue(quickstart.ok, JSON.stringify(quickstart.error))
    assert.deepStrictEqual(quickstart.loaded?.config, {
      connections: {
        quickstart: {
          source: { kind: "source", connector: "faker", config: { count: 1000, seed: 1 } },
          destination: { kind: "destination", connector: "jsonl", config: { path: example("out/quickstart") } }
        }
      }
    })
    const postgres = outcome("postgres")
    assert.isTrue(postgres.ok, JSON.stringify(postgres.error))
    assert.deepStrictEqual(Object.keys(postgres.loaded?.config.connections ?? {}), ["faker-to-postgres", "postgres-to-jsonl"])
    const text = JSON.stringify(postgres.loaded)
    assert.include(text, "{\"$secret\":\"PGPASSWORD\"}")
    assert.notInclude(text, "hunter2")
  })

  it("a config file outside the repository imports \"sluice\" from the running Sluice", () => {
    const ok = outcome("ok.config.mjs")
    assert.isTrue(ok.ok, JSON.stringify(ok.error))
    assert.deepStrictEqual(ok.loaded?.config.connections["only"], {
      source: { kind: "source", connector: "faker", config: { count: 5 } },
      destination: { kind: "destination", connector: "jsonl", config: { path: join(dir, "out/only") } }
    })
    const inDirectory = outcome("dir")
    assert.isTrue(inDirectory.ok, JSON.stringify(inDirectory.error))
    assert.strictEqual(inDirectory.loaded?.path, join(dir, "dir/sluice.config.ts"))
  })

  it("a missing file is ConfigNotFound", () => {
    assert.strictEqual(outcome("absent").error?.tag, "ConfigNotFound")
    assert.strictEqual(outcome("absent").error?.message, `config file not found: ${join(dir, "absent.config.ts")}`)
  })

  it("import failures are ConfigImportFailed with the file, the underlying message, where, and a hint", () => {
    const broken = outcome("broken.config.ts").error
    assert.strictEqual(broken?.tag, "ConfigImportFailed")
    assert.strictEqual(broken?.path, join(dir, "broken.config.ts"))
    assert.match(broken?.detail ?? "", /^SyntaxError: Expression expected\nat .*broken\.config\.ts:3\nconst count: number = \n/)
    assert.include(broken?.message ?? "", join(dir, "broken.config.ts"))
    const throws = outcome("throws.config.ts").error
    assert.strictEqual(throws?.tag, "ConfigImportFailed")
    assert.match(throws?.detail ?? "", /^Error: boom while building the config\nat .*throws\.config\.ts:3:7/)
    const enumFile = outcome("enum.config.ts").error
    assert.include(enumFile?.detail ?? "", "TypeScript enum is not supported in strip-only mode")
    assert.include(enumFile?.detail ?? "", "hint: config files run with Node's type stripping")
    const missing = outcome("missing-package.config.ts").error
    assert.include(missing?.detail ?? "", "Cannot find package 'no-such-package-for-sluice'")
    assert.include(missing?.detail ?? "", "hint: config files resolve imports from their own directory")
    const relative = outcome("missing-file.config.ts").error
    assert.include(relative?.detail ?? "", "Cannot find module")
    assert.include(relative?.detail ?? "", "hint: check the import path")
    assert.include(outcome("notes.txt").error?.detail ?? "", "unsupported extension \".txt\"")
  })

  it("a file without a default export is ConfigInvalid saying so", () => {
    const error = outcome("no-default.config.ts").error
    assert.strictEqual(error?.tag, "ConfigInvalid")
    assert.deepStrictEqual(error?.issues, [{
      path: "(default export)",
      message: "the file has no default export: end it with `export default defineConfig({ connections: { ... } })`"
    }])
  })

  it("reports a bad value with its full path", () => {
    const error = outcome("count-ten.config.ts").error
    assert.strictEqual(error?.tag, "ConfigInvalid")
    assert.include(error?.message ?? "", "connections.quickstart.source.config.count: expected a positive integer, got \"ten\"")
    assert.deepStrictEqual(error?.issues, [{ path: "connections.quickstart.source.config.count", message: "expected a positive integer, got \"ten\"" }])
  })

  it("reports every problem: connection name, unknown connector, unknown mapper, mapper shape, schedules", () => {
    assert.deepStrictEqual(outcome("many.config.ts").error?.issues, [
      { path: "connections.Bad Name", message: "connection names are 1–63 characters of a-z, 0-9, _ and -; got \"Bad Name\"" },
      { path: "connections.a.schedule.every", message: "expected an interval of at least 1 minute, got \"10 seconds\"" },
      {
        path: "connections.a.source.connector",
        message: "unknown source connector \"mysql\"; known sources: faker, postgres; or run any Airbyte-protocol executable with sources.command({ command: [...], config })"
      },
      { path: "connections.a.mappers[0].type", message: "unknown mapper type \"uppercase\"; known types: pii-hash, hash, rename, drop, filter, encrypt" },
      { path: "connections.a.mappers[1].field", message: "missing key" },
      {
        path: "connections.b.schedule.cron",
        message: "expected a cron expression of 5 fields (minute hour day-of-month month day-of-week), got \"0 * * *\""
      }
    ])
  })
})

describe("importing a config module", () => {
  it("does no I/O and reads no env (the postgres example, with its secret)", async () => {
    const probe = async (file: string) => {
      const { stdout } = await run(process.execPath, [fixture("import-probe.ts"), file], { env: { ...process.env, PGPASSWORD: "hunter2" } })
      return JSON.parse(stdout) as { readonly touched: ReadonlyArray<string>; readonly value: unknown }
    }
    const postgres = await probe(example("postgres.config.ts"))
    assert.deepStrictEqual(postgres.touched, [])
    assert.notInclude(JSON.stringify(postgres.value), "hunter2")
    // The probe does see a module that reads the environment or a file.
    const leaky = join(dir, "leaky.config.ts")
    writeFileSync(leaky, `import { readFileSync } from "node:fs"\nexport default { a: process.env["PGPASSWORD"], b: readFileSync(${JSON.stringify(leaky)}, "utf8").length }\n`)
    assert.deepStrictEqual((await probe(leaky)).touched, ["env.PGPASSWORD", "node:fs.readFileSync"])
  })
})

describe("resolveConnection", () => {
  const one = { connections: { quickstart: { n: 1 } } }
  const two = { connections: { a: { n: 1 }, b: { n: 2 } } }

  it.effect("the only connection needs no name; a named one is found", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* resolveConnection(one), { name: "quickstart", connection: { n: 1 } })
      assert.deepStrictEqual(yield* resolveConnection(two, "b"), { name: "b", connection: { n: 2 } })
    }))

  it.effect("an unknown name, or no name among several, lists the available ones", () =>
    Effect.gen(function*() {
      const unknown = yield* Effect.flip(resolveConnection(two, "c"))
      assert.strictEqual(unknown._tag, "UnknownConnection")
      assert.strictEqual(unknown.message, "no connection \"c\" in the config; available connections: a, b")
      const unnamed = yield* Effect.flip(resolveConnection(two))
      assert.strictEqual(unnamed.message, "the config defines 2 connections; name one (--connection NAME): a, b")
      const inherited = yield* Effect.flip(resolveConnection(one, "toString"))
      assert.deepStrictEqual(inherited.available, ["quickstart"])
    }))
})
