/**
 * The option names `new Memory(options)` knows, at every level it reads. A name it does not know is
 * refused when the Memory is made: every method already refuses one, and a constructor that let
 * `{ dataDIr: "./data" }` through ran on the default folder without a word, and
 * `chroma: { url, path }` talked to the server at `url` while the caller thought a local folder
 * was used.
 */
import type { OptionNames } from "../core/option_names.js";
import { validateOptionObject } from "../core/validate.js";
import type { MemoryOptions } from "./options.js";

/** Typed against MemoryOptions: a new option fails the type check until it is listed here. */
const MEMORY_OPTIONS: OptionNames<MemoryOptions> = {
  dataDir: true,
  chroma: true,
  embeddings: true,
  prefix: true,
  state: true,
  clock: true,
  maxContentChars: true,
  ranker: true,
  store: true,
  writes: true,
  embeddingCache: true,
  embeddingTimeoutMs: true,
  recallIndex: true,
  recallCache: true,
  extractionModel: true,
  model: true,
  facts: true,
  entities: true,
};

type Nested<K extends keyof MemoryOptions> = OptionNames<NonNullable<MemoryOptions[K]>>;

const RECALL_INDEX: Nested<"recallIndex"> = { maxRecords: true, maxUsers: true, exactSearchLimit: true, pending: true, revisions: true };
const ENTITIES: Nested<"entities"> = { extract: true, boost: true };
const FACTS: Nested<"facts"> = {
  background: true,
  neighbours: true,
  timeoutMs: true,
  debounceMs: true,
  concurrency: true,
  maxAttempts: true,
  retryDelayMs: true,
};

/** The three shapes of `chroma` (store/connection.ts), each with the names it reads. */
const CHROMA_EMBEDDED = ["path", "port", "maxRestarts", "startTimeoutMs", "timeoutMs"];
const CHROMA_URL = ["url", "tenant", "database", "headers", "timeoutMs"];
const CHROMA_CLIENT = ["client"];

/** @throws EngramError `INVALID_OPTIONS` naming the unknown keys and the known ones. */
export function validateMemoryOptionNames(options: MemoryOptions): void {
  validateOptionObject(options, "Memory options", Object.keys(MEMORY_OPTIONS), '{ dataDir: ".engram" }');
  const nested: Array<[string, unknown, readonly string[], string]> = [
    ["recallIndex", options.recallIndex, Object.keys(RECALL_INDEX), "{ maxRecords: 100000 }"],
    ["recallCache", options.recallCache, Object.keys(RECALL_INDEX), "{ maxRecords: 100000 }"],
    ["entities", options.entities, Object.keys(ENTITIES), "{ extract: true }"],
    ["facts", options.facts, Object.keys(FACTS), "{ timeoutMs: 120000 }"],
  ];
  const chroma: unknown = options.chroma;
  if (chroma !== undefined) nested.push(["chroma", chroma, chromaNames(chroma), '{ url: "http://localhost:8000" }']);
  for (const [name, value, known, example] of nested) {
    if (value !== undefined) validateOptionObject(value, name, known, example);
  }
}

/** The names of the shape `chroma` takes: a `client` or a `url` decides it, as the connection reads it. */
function chromaNames(chroma: unknown): readonly string[] {
  if (chroma === null || typeof chroma !== "object") return CHROMA_EMBEDDED;
  const given = chroma as { client?: unknown; url?: unknown };
  if (given.client !== undefined) return CHROMA_CLIENT;
  if (given.url !== undefined) return CHROMA_URL;
  return CHROMA_EMBEDDED;
}
