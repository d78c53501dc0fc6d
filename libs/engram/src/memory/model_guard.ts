/** One embedding model per data folder and server prefix: refuses a Memory whose model did not write the vectors. */
import type { ChromaClient } from "chromadb";
import { EngramError, isEngramError } from "../core/errors.js";
import { LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { STATIC_MODEL_ID } from "../embeddings/static.js";
import type { MetaState } from "../state/types.js";
import { MODEL_KEY, REEMBED_PENDING, readStoreModel, recordStoreModel, storeHasData } from "../store/model_marker.js";

/** Options for {@link ModelGuard}. */
export interface ModelGuardOptions {
  /** The model this Memory embeds with (embeddings/identity.ts). */
  modelId: string;
  /**
   * The model an unmarked folder that already holds data is taken to hold: the legacy default
   * when the Memory uses the default embeddings, undefined (adopt `modelId`) when it was given
   * a model explicitly.
   */
  unmarkedModelId?: string;
  dataDir: string;
  prefix: string;
  /** The Chroma server is one that other data folders may share (`chroma: { url }` or `{ client }`). */
  sharedServer: boolean;
}

/**
 * One model per data folder (docs/embeddings.md): the folder's database, and the Chroma server's
 * marker collection, record the model that wrote the vectors; a Memory with another model is
 * refused with `EMBEDDINGS_MISMATCH` before it writes or reads a vector. A new folder (or server
 * prefix) records this Memory's model, and so does one with nothing written yet (no vector to
 * protect); an unmarked one that holds data records `unmarkedModelId ?? modelId`.
 */
export class ModelGuard {
  private storeChecked?: Promise<void>;

  /** The server's marker was read and agreed (a mismatch, once found, stays). */
  private storeAgreed = false;

  constructor(private readonly options: ModelGuardOptions) {}

  /** Checks (or records) the model of the state (the data folder's, or the shared one's), when it opens. */
  async checkFolder(meta: MetaState): Promise<void> {
    const { modelId, unmarkedModelId } = this.options;
    let recorded =
      (await meta.get(MODEL_KEY)) ?? (await meta.set(MODEL_KEY, (await meta.hasData()) ? (unmarkedModelId ?? modelId) : modelId, { replace: false }));
    // A folder with nothing written yet has no vector to protect: it takes the model that opens it.
    if (recorded !== modelId && !recorded.startsWith(REEMBED_PENDING) && !(await meta.hasData())) {
      recorded = await meta.set(MODEL_KEY, modelId, { replace: true });
    }
    if (recorded !== modelId) throw this.mismatch(recorded, `The data folder ${this.options.dataDir} holds`);
  }

  /** The client, once the server's marker for this prefix agrees with this Memory's model. */
  async client(connect: () => Promise<ChromaClient>): Promise<ChromaClient> {
    const client = await connect();
    this.storeChecked ??= this.checkStore(client).then(() => void (this.storeAgreed = true)).catch((error: unknown) => {
      // An outage is checked again on the next call; a mismatch stays.
      if (!isEngramError(error, "EMBEDDINGS_MISMATCH")) this.storeChecked = undefined;
      throw error;
    });
    await this.storeChecked;
    return client;
  }

  /**
   * The next call reads the server's marker again. Called when a collection this Memory held went
   * away: `engram reembed` replaces a user's collections (and revision log), and an instance still
   * running with the old model must then be refused as a new one would be, rather than rank the
   * new model's vectors against its own queries or write its vectors beside them.
   */
  recheck(): void {
    if (!this.storeAgreed) return;
    this.storeAgreed = false;
    this.storeChecked = undefined;
  }

  /**
   * Before a write is queued: on a shared server, a mismatch must refuse the call rather than
   * surface later in a background drain. An unreachable server is not an error here: the write
   * waits in the outbox and the drain checks again.
   */
  async beforeWrite(connect: () => Promise<ChromaClient>): Promise<void> {
    if (!this.options.sharedServer) return;
    try {
      await this.client(connect);
    } catch (error) {
      if (isEngramError(error, "EMBEDDINGS_MISMATCH")) throw error;
    }
  }

  private async checkStore(client: ChromaClient): Promise<void> {
    const { modelId, unmarkedModelId, prefix } = this.options;
    let recorded =
      (await readStoreModel(client, prefix)) ??
      (await recordStoreModel(client, prefix, (await storeHasData(client, prefix)) ? (unmarkedModelId ?? modelId) : modelId, { replace: false }));
    if (recorded !== modelId && !recorded.startsWith(REEMBED_PENDING) && !(await storeHasData(client, prefix))) {
      recorded = await recordStoreModel(client, prefix, modelId, { replace: true });
    }
    if (recorded !== modelId) throw this.mismatch(recorded, `The Chroma collections of prefix "${prefix}" hold`);
  }

  /** `where` ends with its verb: "The data folder X holds". */
  private mismatch(recorded: string, where: string): EngramError {
    const { modelId, dataDir, prefix } = this.options;
    // The command that moves the folder to `target`: the CLI runs USE-Lite (its default) and the static model only.
    const command = (target: string): string | undefined => {
      const model = target === LEGACY_DEFAULT_MODEL_ID ? "" : target === STATIC_MODEL_ID ? " --model static" : undefined;
      return model === undefined ? undefined : `\`engram reembed --data-dir ${dataDir}${prefix === "engram" ? "" : ` --prefix ${prefix}`}${model}\``;
    };
    if (recorded.startsWith(REEMBED_PENDING)) {
      const target = recorded.slice(REEMBED_PENDING.length);
      return new EngramError(
        "EMBEDDINGS_MISMATCH",
        `${where} vectors half-way through \`engram reembed\` to "${target}", which did not finish: ` +
          `run ${command(target) ?? "`reembed()` (from engram)"} again with the same model (it resumes), then open it with that model.`,
        { details: { recorded, modelId, dataDir, prefix } },
      );
    }
    return new EngramError(
      "EMBEDDINGS_MISMATCH",
      `${where} vectors of the embedding model "${recorded}", but this Memory embeds with "${modelId}": ` +
        `vectors of different models cannot be compared. Open it with the model that wrote it, or move it to the new model ` +
        `with ${command(modelId) ?? "`reembed({ embeddings, ... })` (from engram: the CLI runs only its two local models)"} ` +
        `(add --chroma-url for a Chroma server given by URL; see docs/embeddings.md).`,
      { details: { recorded, modelId, dataDir, prefix } },
    );
  }
}
