/**
 * `engram/state`: the backends of shared state (history, outbox, jobs, leases, usage, filing log),
 * for a `Memory`'s `state` option when one backend is shared or built by hand: SQLite in a data
 * folder (the default) or PostgreSQL for replicas (docs/deploy.md). `{ postgres: url }` in the
 * option needs none of this. `StateBackend` is the contract a backend of your own implements.
 */
export { SqliteState, type SqliteStateOptions } from "../state/sqlite/index.js";
export { PostgresState, type PostgresStateOptions } from "../state/postgres/index.js";
export type { StateBackend } from "../state/types.js";
