/**
 * The database schema as migrations: Effects run in id order by effect/sql's Migrator, which records
 * applied ids in `sluice_migrations` (inside a transaction, under a table lock, so several servers
 * may start at once). SQL valid on PostgreSQL 15+ and PGlite. Never edit a released migration.
 */
import * as Effect from "effect/Effect"
import { Migrator, SqlClient } from "effect/sql"

const statements = (...queries: ReadonlyArray<(sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    for (const query of queries) yield* query(sql)
  })

/** The columns of a SyncStats row, shared by sync_stats and stream_stats (counts are bigint). */
const statsColumns = `
  records_emitted bigint NOT NULL DEFAULT 0,
  bytes_emitted bigint NOT NULL DEFAULT 0,
  records_committed bigint NOT NULL DEFAULT 0,
  bytes_committed bigint NOT NULL DEFAULT 0,
  records_rejected bigint NOT NULL DEFAULT 0,
  records_filtered_out bigint NOT NULL DEFAULT 0,
  bytes_filtered_out bigint NOT NULL DEFAULT 0,
  source_state_messages_emitted bigint NOT NULL DEFAULT 0,
  destination_state_messages_emitted bigint NOT NULL DEFAULT 0,
  estimated_records bigint,
  estimated_bytes bigint,
  mean_seconds_between_state_message_emitted_and_committed double precision,
  max_seconds_between_state_message_emitted_and_committed double precision,
  mean_seconds_before_source_state_message_emitted double precision,
  max_seconds_before_source_state_message_emitted double precision,
  replication_start_time timestamptz,
  replication_end_time timestamptz,
  source_read_start_time timestamptz,
  source_read_end_time timestamptz,
  destination_write_start_time timestamptz,
  destination_write_end_time timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()`

const jobsAndAttempts = statements(
  (sql) =>
    sql`CREATE TABLE connections (
      name text PRIMARY KEY,
      spec jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  (sql) =>
    sql`CREATE TABLE jobs (
      id bigserial PRIMARY KEY,
      config_type text NOT NULL CHECK (config_type IN
        ('sync', 'check_connection_source', 'check_connection_destination', 'discover_schema', 'get_spec')),
      scope text NOT NULL,
      status text NOT NULL CHECK (status IN
        ('pending', 'queued', 'running', 'incomplete', 'failed', 'succeeded', 'cancelled')),
      config jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  // At most one non-terminal sync job per connection, enforced by the database.
  (sql) =>
    sql`CREATE UNIQUE INDEX jobs_one_active_sync_per_scope ON jobs (scope)
      WHERE config_type = 'sync' AND status IN ('pending', 'queued', 'running', 'incomplete')`,
  (sql) => sql`CREATE INDEX jobs_scope_id ON jobs (scope, id DESC)`,
  (sql) => sql`CREATE INDEX jobs_status_config_type ON jobs (status, config_type)`,
  (sql) =>
    sql`CREATE TABLE attempts (
      id bigserial PRIMARY KEY,
      job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      attempt_number integer NOT NULL CHECK (attempt_number >= 0),
      status text NOT NULL CHECK (status IN ('running', 'failed', 'succeeded')),
      output jsonb,
      failure_summary jsonb,
      transport jsonb,
      log_line_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      UNIQUE (job_id, attempt_number)
    )`,
  (sql) => sql`CREATE UNIQUE INDEX attempts_one_running_per_job ON attempts (job_id) WHERE status = 'running'`,
  (sql) =>
    sql`CREATE TABLE sync_stats (
      attempt_id bigint PRIMARY KEY REFERENCES attempts (id) ON DELETE CASCADE,
      ${sql.literal(statsColumns)}
    )`,
  (sql) =>
    sql`CREATE TABLE stream_stats (
      id bigserial PRIMARY KEY,
      attempt_id bigint NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
      stream_name text NOT NULL,
      stream_namespace text,
      was_resumed boolean NOT NULL DEFAULT false,
      ${sql.literal(statsColumns)}
    )`,
  (sql) =>
    sql`CREATE UNIQUE INDEX stream_stats_attempt_stream
      ON stream_stats (attempt_id, stream_name, (COALESCE(stream_namespace, '')))`,
  (sql) =>
    sql`CREATE TABLE retry_states (
      id bigserial PRIMARY KEY,
      job_id bigint NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,
      connection text NOT NULL,
      successive_complete_failures integer NOT NULL DEFAULT 0 CHECK (successive_complete_failures >= 0),
      total_complete_failures integer NOT NULL DEFAULT 0 CHECK (total_complete_failures >= 0),
      successive_partial_failures integer NOT NULL DEFAULT 0 CHECK (successive_partial_failures >= 0),
      total_partial_failures integer NOT NULL DEFAULT 0 CHECK (total_partial_failures >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  (sql) =>
    sql`CREATE TABLE attempt_logs (
      job_id bigint NOT NULL,
      attempt_number integer NOT NULL,
      line_no integer NOT NULL,
      at timestamptz NOT NULL,
      level text NOT NULL,
      origin text NOT NULL,
      message text NOT NULL,
      PRIMARY KEY (job_id, attempt_number, line_no),
      FOREIGN KEY (job_id, attempt_number) REFERENCES attempts (job_id, attempt_number) ON DELETE CASCADE
    )`
)

const connectionState = statements(
  (sql) =>
    sql`CREATE TABLE connection_state (
      id bigserial PRIMARY KEY,
      connection text NOT NULL REFERENCES connections (name) ON DELETE CASCADE ON UPDATE CASCADE,
      state_type text NOT NULL CHECK (state_type IN ('STREAM', 'GLOBAL', 'LEGACY')),
      stream_name text,
      stream_namespace text,
      state jsonb NOT NULL,
      job_id bigint NOT NULL,
      attempt_number integer NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((state_type = 'STREAM') = (stream_name IS NOT NULL))
    )`,
  (sql) =>
    sql`CREATE UNIQUE INDEX connection_state_key ON connection_state
      (connection, state_type, (COALESCE(stream_name, '')), (COALESCE(stream_namespace, '')))`,
  (sql) =>
    sql`CREATE TABLE state_history (
      id bigserial PRIMARY KEY,
      connection text NOT NULL REFERENCES connections (name) ON DELETE CASCADE ON UPDATE CASCADE,
      kind text NOT NULL CHECK (kind IN ('commit', 'reset')),
      job_id bigint,
      attempt_number integer,
      state jsonb,
      at timestamptz NOT NULL DEFAULT now()
    )`,
  (sql) => sql`CREATE INDEX state_history_connection ON state_history (connection, id DESC)`
)

/** Workloads with their queue columns (reference §8.2) and the dataplane heartbeat log. */
const workloads = statements(
  (sql) =>
    sql`CREATE TABLE workloads (
      id varchar(256) PRIMARY KEY,
      type text NOT NULL CHECK (type IN ('sync', 'check', 'discover', 'spec')),
      status text NOT NULL CHECK (status IN
        ('pending', 'claimed', 'launched', 'running', 'success', 'failure', 'cancelled')),
      job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      attempt_number integer NOT NULL CHECK (attempt_number >= 0),
      connection text,
      priority integer NOT NULL DEFAULT 0,
      mutex_key text,
      dataplane_id text,
      token_hash text UNIQUE,
      deadline timestamptz,
      poll_deadline timestamptz NOT NULL DEFAULT now(),
      acked_at timestamptz,
      termination_source text,
      termination_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      last_heartbeat_at timestamptz
    )`,
  (sql) => sql`CREATE INDEX workloads_status ON workloads (status)`,
  (sql) => sql`CREATE INDEX workloads_deadline ON workloads (deadline) WHERE deadline IS NOT NULL`,
  (sql) =>
    sql`CREATE INDEX workloads_mutex_active ON workloads (mutex_key)
      WHERE status IN ('pending', 'claimed', 'launched', 'running')`,
  (sql) => sql`CREATE INDEX workloads_job ON workloads (job_id)`,
  (sql) =>
    sql`CREATE INDEX workloads_queue ON workloads (priority DESC, poll_deadline, created_at)
      WHERE acked_at IS NULL AND status = 'pending'`,
  (sql) =>
    sql`CREATE TABLE dataplane_heartbeat_log (
      id bigserial PRIMARY KEY,
      dataplane_id text NOT NULL,
      dataplane_version text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  (sql) => sql`CREATE INDEX dataplane_heartbeat_log_created ON dataplane_heartbeat_log (created_at)`,
  (sql) =>
    sql`CREATE INDEX dataplane_heartbeat_log_latest ON dataplane_heartbeat_log (dataplane_id, created_at DESC)`
)

/**
 * The server (dataplane) whose job runner orchestrates each job: on shared PostgreSQL a live server
 * adopts the non-terminal jobs of a server that stopped logging dataplane heartbeats.
 */
const jobOwners = statements(
  (sql) => sql`ALTER TABLE jobs ADD COLUMN owner text`,
  (sql) =>
    sql`CREATE INDEX jobs_owner_active ON jobs (owner)
      WHERE owner IS NOT NULL AND status IN ('pending', 'queued', 'running', 'incomplete')`
)

/** The migrations, keyed `<id>_<name>`. */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "1_jobs_and_attempts": jobsAndAttempts,
  "2_connection_state": connectionState,
  "3_workloads": workloads,
  "4_job_owners": jobOwners
}

export const MIGRATIONS_TABLE = "sluice_migrations"

/** Applies pending migrations; returns those it applied. Safe to run at every start. */
export const run = Migrator.make({})({
  loader: Migrator.fromRecord(migrations),
  table: MIGRATIONS_TABLE
})
