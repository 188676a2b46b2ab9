/**
 * The quickstart as config as code: 1000 fake users, products and purchases (seed 1) into one JSONL
 * file per stream under `examples/out/quickstart` (relative paths resolve against this file's folder).
 * Every stream syncs incremental + append by default, so a second sync copies nothing new.
 *
 *   npx sluice sync examples/quickstart.config.ts
 */
import { defineConfig, destinations, sources } from "sluice"

export default defineConfig({
  connections: {
    quickstart: {
      source: sources.faker({ count: 1000, seed: 1 }),
      destination: destinations.jsonl({ path: "./out/quickstart" })
    }
  }
})
