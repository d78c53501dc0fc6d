import type { ChromaClient } from "chromadb";
import { EngramError, isEngramError } from "../../core/errors.js";
import { readStoreModel, recordStoreModel } from "../model_marker.js";

/*
 * One embedding model per LangGraph store prefix, as `Memory` has per data folder
 * (docs/embeddings.md): the model that wrote a store's vectors is recorded on the Chroma server
 * with the marker of store/model_marker.ts, under the store's own name (`<prefix>-ns`, so the
 * marker collection is `<prefix>-ns-meta`, apart from `Memory`'s `<prefix>-meta`), and a store
 * opened with another model is refused with EMBEDDINGS_MISMATCH before it writes or queries a
 * vector. Reads by key and namespace listings involve no vector and are not checked.
 */

/** The name the store's marker is recorded under. */
export function storeMarkerName(prefix: string): string {
  return `${prefix}-ns`;
}

export interface StoreModelCheckOptions {
  prefix: string;
  /** The model this store embeds with (embeddings/identity.ts). */
  modelId: string;
  /** The current client (the store's collection handling: errors already mapped). */
  client: () => Promise<ChromaClient>;
  /** Runs a driver call with the store's error mapping. */
  call: <T>(operation: string, run: () => Promise<T>) => Promise<T>;
}

/**
 * Checks once per store object. A prefix with no marker records this store's model: a new
 * store, and one written before stores recorded a model (its model cannot be known). Recording
 * is atomic on the server (model_marker.ts): of two processes that claim one new prefix at once
 * with two models, the first has it and the other is refused. A marker naming another model is
 * never replaced, not even while the store holds nothing: a store of the recorded model may be
 * open in another process, its check passed once, about to write its first vector, and a new
 * model taking the prefix then would mix two models' vectors (model_race.int.test.ts).
 */
export class StoreModelCheck {
  private checked?: Promise<void>;

  constructor(private readonly options: StoreModelCheckOptions) {}

  check(): Promise<void> {
    this.checked ??= this.run().catch((error: unknown) => {
      // An outage is checked again on the next call; a mismatch stays.
      if (!isEngramError(error, "EMBEDDINGS_MISMATCH")) this.checked = undefined;
      throw error;
    });
    return this.checked;
  }

  private async run(): Promise<void> {
    const { prefix, modelId, call } = this.options;
    const name = storeMarkerName(prefix);
    const client = await this.options.client();
    const recorded =
      (await call("read model marker", () => readStoreModel(client, name))) ??
      (await call("record model marker", () => recordStoreModel(client, name, modelId, { replace: false })));
    if (recorded !== modelId) {
      throw new EngramError(
        "EMBEDDINGS_MISMATCH",
        `The LangGraph store of prefix "${prefix}" holds vectors of the embedding model "${recorded}", but this store embeds ` +
          `with "${modelId}": vectors of different models cannot be compared. Open it with the model that wrote it, or ` +
          `use a new prefix for the new model (engram reembed moves Memory's records, not store items).`,
        { details: { recorded, modelId, prefix } },
      );
    }
  }
}
