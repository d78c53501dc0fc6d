/** The PostgreSQL backend of shared state (issue 16): replicas on several machines share it. */
export { PostgresState } from "./state.js";
export type { PostgresStateOptions } from "./options.js";
export { MIGRATIONS, LATEST_VERSION, type Migration } from "./migrations.js";
