/** Turns the `state` option of Memory and the CLI into a backend of shared state (state/types.ts). */
import type { PoolConfig } from "pg";
import { describeValue } from "../core/describe.js";
import { EngramError } from "../core/errors.js";
import { PostgresState, type PostgresStateOptions } from "./postgres/index.js";
import { SqliteState } from "./sqlite/index.js";
import type { StateBackend } from "./types.js";

/**
 * Where Engram keeps its shared state (history, outbox, jobs, leases, usage, filing log):
 *
 * - a backend you made (`new SqliteState(...)`, `new PostgresState(...)`), used as is and not
 *   closed by Memory;
 * - `{ sqlite: path }`: SQLite in that folder (`<path>/engram.sqlite`) or that `.sqlite` file;
 *   `{}` is SQLite in the data folder;
 * - `{ postgres: url | PoolConfig }`: PostgreSQL, for replicas on several machines (docs/deploy.md).
 */
export type StateOption = StateBackend | { sqlite?: string } | { postgres: string | PoolConfig; schema?: string };

/** What {@link openState} falls back on. */
export interface OpenStateDefaults {
  /** The data folder: SQLite state lives there unless told otherwise. */
  dataDir: string;
  /** Time of rows. @default Date.now */
  clock?: () => number;
}

/** A backend of state and whether its opener owns it (closes it with itself). */
export interface OpenedState {
  state: StateBackend;
  owned: boolean;
}

/**
 * The backend the option names; constructing does no I/O (the backend's `setup()` does).
 * @throws EngramError `INVALID_OPTIONS` for anything else.
 */
export function openState(option: StateOption | undefined, defaults: OpenStateDefaults): OpenedState {
  const clock = defaults.clock ?? Date.now;
  if (option === undefined) return { state: new SqliteState({ path: defaults.dataDir, clock }), owned: true };
  if (isBackend(option)) return { state: option, owned: false };
  if (option === null || typeof option !== "object" || Array.isArray(option)) throw invalid(option);
  if ("postgres" in option) {
    if (typeof option.postgres !== "string" && (option.postgres === null || typeof option.postgres !== "object")) throw invalid(option);
    // PostgresState checks the rest (schema, lease timings) and connects only on setup().
    return { state: new PostgresState({ clock, ...(option as PostgresStateOptions) }), owned: true };
  }
  const keys = Object.keys(option);
  if (keys.some((key) => key !== "sqlite")) throw invalid(option);
  const path = (option as { sqlite?: unknown }).sqlite;
  if (path !== undefined && (typeof path !== "string" || path.trim() === "")) {
    throw new EngramError("INVALID_OPTIONS", `state.sqlite must be a folder or file path, got ${describeValue(path)}.`);
  }
  return { state: new SqliteState({ path: path ?? defaults.dataDir, clock }), owned: true };
}

/**
 * The CLI's `--state <url>`: `postgres://...` (or `postgresql://...`) is PostgreSQL, anything else
 * a folder (or `.sqlite` file) of SQLite state.
 */
export function stateFromUrl(url: string): StateOption {
  return /^postgres(ql)?:\/\//i.test(url) ? { postgres: url } : { sqlite: url };
}

function isBackend(value: unknown): value is StateBackend {
  const candidate = value as Partial<StateBackend> | null;
  return typeof candidate === "object" && candidate !== null && typeof candidate.setup === "function" && typeof candidate.outbox === "function";
}

function invalid(value: unknown): EngramError {
  return new EngramError(
    "INVALID_OPTIONS",
    `state must be a StateBackend, { sqlite: "<folder>" } or { postgres: "postgres://..." }, got ${describeValue(value)}.`,
  );
}
