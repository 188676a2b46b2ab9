/**
 * Where connector processes run: the one interface the connector runtime (spec, check, discover, read,
 * write) and the socket transport use, with two implementations — `local` (a child process of this
 * one, the default) and the sidecar host (sidecar/SidecarHost.ts: a connector container beside the
 * worker in a pod, reached through a shared directory). Chosen by providing the `ConnectorHost`
 * reference; nothing else changes. No SQL, HTTP or k8s here.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ConnectorCommand, ConnectorFailure } from "./ConnectorFailure.ts"
import { type ProcessOptions, type RunningProcess, spawnConnector } from "./ConnectorProcess.ts"

export interface ConnectorHost {
  readonly kind: "local" | "sidecar"
  /**
   * Starts `command` with its JSON inputs (config, catalog, state: files of mode 0600 named by flags).
   * The process is stopped (SIGTERM, SIGKILL after the grace period) and its files removed when the
   * scope closes. Fails with a ConnectorFailure when it cannot start (or its host never shows up).
   */
  start(options: ProcessOptions, command: ConnectorCommand, inputs: Readonly<Record<string, unknown>>): Effect.Effect<RunningProcess, ConnectorFailure, Scope.Scope>
  /** A directory, private to one attempt and visible to both connectors, for the socket transport's Unix sockets; removed when the scope closes. */
  readonly socketDir: Effect.Effect<string, never, Scope.Scope>
}

/** Connectors as child processes of this one; sockets in a private temp dir (mode 0700). */
export const local: ConnectorHost = {
  kind: "local",
  start: spawnConnector,
  socketDir: Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-sock-"))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )
}

/** The host in use: `local` unless a caller provides another. */
export const ConnectorHost = Context.Reference<ConnectorHost>("sluice/engine/ConnectorHost", { defaultValue: () => local })
