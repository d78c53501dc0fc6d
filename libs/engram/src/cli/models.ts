import { existsSync } from "node:fs";
import { join } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { STATIC_MODEL_ID, StaticEmbeddings } from "../embeddings/static.js";
import { readFolderModel } from "../store/model_marker.js";
import { openDatabase } from "../store/sqlite.js";

/** Embeddings the CLI may have to let go of (worker threads). */
export type CliEmbeddings = EmbeddingsInterface & { close?: () => Promise<void> };

/** The models the CLI builds by name (`reembed --model`); the first is Engram's default. */
export const CLI_MODELS: Record<string, { id: string; create: () => CliEmbeddings }> = {
  static: { id: STATIC_MODEL_ID, create: () => new StaticEmbeddings() },
  "use-lite": { id: LEGACY_DEFAULT_MODEL_ID, create: () => new LocalEmbeddings() },
};

/**
 * The model a command should open a data folder with: the one the folder records, when the CLI
 * knows it; otherwise undefined (Memory's default, and its rules for unmarked folders).
 */
export function embeddingsForFolder(dataDir: string): CliEmbeddings | undefined {
  const file = join(dataDir, "engram.sqlite");
  if (!existsSync(file)) return undefined;
  const db = openDatabase(file);
  let recorded: string | undefined;
  try {
    recorded = readFolderModel(db);
  } finally {
    db.close();
  }
  const known = Object.values(CLI_MODELS).find((model) => model.id === recorded);
  return known?.create();
}
