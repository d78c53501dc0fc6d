import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { Memory } from "../memory/memory.js";
import type { MemoryOptions } from "../memory/options.js";
import { stateFromUrl } from "../state/open.js";
import type { CliIO } from "./io.js";
import { embeddingsForFolder } from "./models.js";

/** The options every memory command takes (`--data-dir`, `--chroma-url`, `--prefix`). */
export interface StoreFlags {
  /** @default ".engram" */
  dataDir: string;
  /** A running Chroma server; without it the local server for the data folder is used. */
  chromaUrl?: string;
  /** @default "engram" */
  prefix: string;
  /** Shared state: `postgres://...`, or a folder of SQLite state. @default the data folder */
  state?: string;
}

export const DEFAULT_DATA_DIR = ".engram";

export function addDataDirOption(command: Command): Command {
  return command.option(
    "--data-dir <dir>",
    "data folder: history log and outbox (engram.sqlite), the local server's data (chroma/)",
    DEFAULT_DATA_DIR,
  );
}

/** Adds the options of a command that opens a user's memory. */
export function addStoreOptions(command: Command): Command {
  addDataDirOption(command);
  return command
    .option("--chroma-url <url>", "use the Chroma server at this URL instead of the local one for the data folder")
    .option("--prefix <prefix>", "collection name prefix (several apps can share one server)", "engram")
    .option("--state <url>", "shared state (history, outbox, jobs): postgres://... for PostgreSQL, or a folder of SQLite state (default: the data folder)")
    .requiredOption("--user <id>", "the user whose memory this reads or changes");
}

/**
 * Opens a `Memory` for one command and always closes it, so no server or database handle outlives
 * the command (a local server this command started stops; one started by `server start` stays).
 */
export async function withMemory<T>(
  io: CliIO,
  flags: StoreFlags,
  run: (memory: Memory) => Promise<T>,
  extra: Pick<MemoryOptions, "clock" | "maxContentChars"> = {},
): Promise<T> {
  const dataDir = resolve(io.cwd, flags.dataDir);
  // The model the folder records (one model per folder: docs/embeddings.md), when the CLI knows it.
  const state = flags.state === undefined ? undefined : stateFromUrl(flags.state);
  const embeddings = await embeddingsForFolder(dataDir, state);
  const memory = new Memory({
    dataDir,
    ...(state === undefined ? {} : { state }),
    ...(embeddings === undefined ? {} : { embeddings }),
    prefix: flags.prefix,
    ...(flags.chromaUrl === undefined ? {} : { chroma: { url: flags.chromaUrl } }),
    // A command is one short process: its report says what reached the store, not what was queued.
    writes: "sync",
    ...extra,
  });
  try {
    return await run(memory);
  } finally {
    await memory.close();
    await embeddings?.close?.();
  }
}

/** A commander parser for a whole number in [min, max]; a bad value is a usage error. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    }
    return parsed;
  };
}
