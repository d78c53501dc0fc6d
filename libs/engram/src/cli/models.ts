import { existsSync } from "node:fs";
import { join } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { STATIC_MODEL_ID, StaticEmbeddings } from "../embeddings/static.js";
import { EngramError } from "../core/errors.js";
import { MODEL_KEY, REEMBED_PENDING } from "../store/model_marker.js";
import { openState, type StateOption } from "../state/open.js";
import { DATABASE_FILE_NAME } from "../state/sqlite/database.js";

/** Embeddings the CLI may have to let go of (worker threads). */
export type CliEmbeddings = EmbeddingsInterface & { close?: () => Promise<void> };

/** The models the CLI builds by name (`reembed --model`); the first is Engram's default. */
export const CLI_MODELS: Record<string, { id: string; create: () => CliEmbeddings }> = {
  "use-lite": { id: LEGACY_DEFAULT_MODEL_ID, create: () => new LocalEmbeddings() },
  static: { id: STATIC_MODEL_ID, create: () => new StaticEmbeddings() },
};

/**
 * Stands for a model the CLI cannot build (OpenAI, a community model, one of the application's):
 * it carries the folder's model id, so commands that need no vector (list, get, history, export,
 * erase) open the folder, and those that do (search, import) say why they cannot.
 */
class UnavailableEmbeddings implements EmbeddingsInterface {
  constructor(readonly modelId: string) {}

  async embedDocuments(): Promise<number[][]> {
    throw this.refusal();
  }

  async embedQuery(): Promise<number[]> {
    throw this.refusal();
  }

  private refusal(): EngramError {
    return new EngramError(
      "EMBEDDING_FAILED",
      `This data folder's vectors come from "${this.modelId}", which the CLI cannot run (it runs ${Object.keys(CLI_MODELS).join(", ")}): ` +
        "search and import need that model; use the library with it, or move the folder with `engram reembed`.",
    );
  }
}

/**
 * The model a command should open a data folder with: the one the folder records (a stand-in
 * when the CLI cannot run it); undefined for an unmarked or half-moved folder (Memory's default,
 * and its rules for those).
 */
export async function embeddingsForFolder(dataDir: string, state?: StateOption): Promise<CliEmbeddings | undefined> {
  // A folder that holds no state yet records no model (and is not created by looking).
  if (state === undefined && !existsSync(join(dataDir, DATABASE_FILE_NAME))) return undefined;
  const opened = openState(state, { dataDir });
  let recorded: string | undefined;
  try {
    await opened.state.setup();
    recorded = await opened.state.meta.get(MODEL_KEY);
  } finally {
    if (opened.owned) await opened.state.close();
  }
  if (recorded === undefined || recorded.startsWith(REEMBED_PENDING)) return undefined;
  const known = Object.values(CLI_MODELS).find((model) => model.id === recorded);
  return known ? known.create() : new UnavailableEmbeddings(recorded);
}
