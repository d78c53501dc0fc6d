/**
 * `engram/checkpointer`: a LangGraph checkpointer that wraps any other (SQLite by default) and files
 * every new turn of a thread into the user's long-term memory.
 */
export { EngramCheckpointer, CHECKPOINTS_FILE_NAME } from "../adapters/checkpointer/checkpointer.js";
export type {
  EngramCheckpointerOptions,
  CheckpointerFlushResult,
  CheckpointerRecallOptions,
  DeletedThreadMemories,
} from "../adapters/checkpointer/options.js";
export type { CheckpointRetention, PruneResult } from "../adapters/checkpointer/retention.js";
export { createPostgresSaver, type PostgresCheckpointSaver, type PostgresSaverOptions } from "../adapters/checkpointer/postgres_saver.js";
