/**
 * Two connections around PostgreSQL: fake data into a database, and that database's tables back out
 * to JSONL files. The password is never written down: `secret("PGPASSWORD")` is read from the
 * environment when a sync runs (importing this file reads nothing).
 *
 *   PGPASSWORD=… npx sluice sync examples/postgres.config.ts --connection faker-to-postgres
 */
import { defineConfig, destinations, mappers, secret, sources } from "sluice"

const database = { host: "localhost", port: 5432, database: "sluice", user: "sluice", password: secret("PGPASSWORD") }

export default defineConfig({
  connections: {
    "faker-to-postgres": {
      source: sources.faker({ count: 10_000, seed: 1 }),
      destination: destinations.postgres({ ...database, schema: "faker", ssl_mode: "prefer" }),
      streams: {
        users: { syncMode: "incremental", destinationSyncMode: "append_dedup" },
        purchases: {}
      },
      mappers: [mappers.piiHash({ stream: "users", fields: ["email"] })],
      schedule: { every: "1 hour" },
      retry: { maxSuccessiveCompleteFailures: 3, backoff: { minSeconds: 30, maxSeconds: 600 } }
    },
    "postgres-to-jsonl": {
      source: sources.postgres({ ...database, schemas: ["faker"] }),
      destination: destinations.jsonl({ path: "./out/postgres" }),
      schedule: { cron: "30 2 * * *", timezone: "Europe/Berlin" },
      transport: "stdio",
      resources: { source: { cpu: 1, memory: "512Mi" } }
    }
  }
})
