/** One embedding model per data folder and server prefix: refuses a Memory whose model did not write the vectors. */
import type { ChromaClient } from "chromadb";
import { EngramError, isEngramError } from "../core/errors.js";
import { LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { STATIC_MODEL_ID } from "../embeddings/static.js";
import type { MetaState } from "../state/types.js";
import { MODEL_KEY, REEMBED_PENDING, readStoreModel, recordStoreModel, storeHasData } from "../store/model_marker.js";

/**
 * The folder's state key recording the vector size of the model that wrote it, as
 * `<model id> <dimensions>`: a model keeps its id when only its size changes (a custom class with
 * no `modelId`, OpenAI's `dimensions` changed under one `modelId`), and Chroma then refused each
 * write of the new size when the drain sent it, dropping background writes already acknowledged.
 * The id in the value makes a record of the model a folder held before `engram reembed` count
 * as none.
 */
export const DIMENSIONS_KEY = "embeddings.dimensions";

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
 * refused with `EMBEDDINGS_MISMATCH` before it writes or reads a vector.
 *
 * A folder (or server prefix) is claimed by its first write, not by its first open: the model is
 * recorded when this Memory first makes a vector to store ({@link claimFolder}) and before it first
 * writes records to the server ({@link claimStore}), each recorded only if none is (the first claim
 * wins a race between processes; only `engram reembed` replaces it). So opening a new folder to
 * look, then switching models, costs nothing; and two processes with two models that opened one
 * new folder at the same time cannot both write it: the second claim reads the first's model and
 * is refused. Until a marker exists, every call reads it again, so a Memory that opened an empty
 * folder is refused as soon as another model's first write claims it. An unmarked folder that
 * already holds data (written before folders recorded their model) records
 * `unmarkedModelId ?? modelId` when it opens.
 */
export class ModelGuard {
  private storeChecked?: Promise<void>;

  /** The server's marker was read and agreed (a mismatch, once found, stays). */
  private storeAgreed = false;

  private folderMatches = false;

  /** The folder's marker was read and agreed: it only changes by `engram reembed`, so it is not read again. */
  get folderAgreed(): boolean {
    return this.folderMatches;
  }

  /**
   * The prefix held no data when first checked: until a marker appears, later checks read only
   * the marker (data can only come after a claim now), not the server's collection list.
   */
  private storeWasEmpty = false;

  /** The vector size the folder's record agreed with: it only changes by `engram reembed`, so it is not read again. */
  private sizeAgreed?: number;

  /** A folder claim in flight (one state write for concurrent first writes). */
  private folderClaim?: Promise<void>;

  constructor(private readonly options: ModelGuardOptions) {}

  /** Checks the model of the state (the data folder's, or the shared one's) when it opens; records one only for an unmarked folder with data. */
  async checkFolder(meta: MetaState): Promise<void> {
    const { modelId, unmarkedModelId } = this.options;
    const recorded =
      (await meta.get(MODEL_KEY)) ?? ((await meta.hasData()) ? await meta.set(MODEL_KEY, unmarkedModelId ?? modelId, { replace: false }) : undefined);
    this.agreeFolder(recorded);
  }

  /**
   * Before every call once the folder is open: a folder with no model recorded yet may be claimed
   * by another process's first write at any time, so its marker is read again until it names one.
   */
  async current(meta: MetaState): Promise<void> {
    if (this.folderMatches) return;
    this.agreeFolder(await meta.get(MODEL_KEY));
  }

  /**
   * Before this Memory makes a vector that will be stored (an add, an update, a fact, a queued
   * write the drain embeds): records its model on a folder that has none, or refuses with
   * `EMBEDDINGS_MISMATCH` when another model claimed it first.
   */
  async claimFolder(meta: MetaState): Promise<void> {
    if (this.folderMatches) return;
    this.folderClaim ??= meta
      .set(MODEL_KEY, this.options.modelId, { replace: false })
      .then((recorded) => this.agreeFolder(recorded))
      .finally(() => (this.folderClaim = undefined));
    await this.folderClaim;
  }

  /**
   * The size of this model's vectors against the size recorded for the folder: a vector to be
   * stored (`storing`) records its size when none is recorded for this model; a vector of another
   * size than recorded is refused with `EMBEDDINGS_MISMATCH`, so that neither a write Chroma would
   * refuse nor a query ranked against vectors of another size goes further.
   */
  async dimensions(meta: MetaState, size: number, storing: boolean): Promise<void> {
    if (this.sizeAgreed === size) return;
    const { modelId } = this.options;
    const read = await meta.get(DIMENSIONS_KEY);
    let recorded = recordedSize(read, modelId);
    if (recorded === undefined) {
      // Read again by the next call until a write records one, as the model is (current()).
      if (!storing) return;
      // A record naming another model is the one the folder held before `engram reembed`: replaced.
      recorded = recordedSize(await meta.set(DIMENSIONS_KEY, `${modelId} ${size}`, { replace: read !== undefined }), modelId);
    }
    if (recorded !== undefined && recorded !== size) {
      const { dataDir, prefix } = this.options;
      throw new EngramError(
        "EMBEDDINGS_MISMATCH",
        `The data folder ${dataDir} holds vectors of ${recorded} dimensions of the embedding model "${modelId}", but this Memory's model ` +
          `of that name gives vectors of ${size}: vectors of different sizes cannot be compared. Open it with the model as it was, give the ` +
          "new one its own `modelId` and move the folder to it with `reembed({ embeddings, ... })` (from engram; see docs/embeddings.md).",
        { details: { recorded: `${modelId} ${recorded}`, modelId, dimensions: size, dataDir, prefix } },
      );
    }
    this.sizeAgreed = size;
  }

  /** The client, once the server's marker for this prefix agrees with this Memory's model (or none is recorded yet). */
  async client(connect: () => Promise<ChromaClient>): Promise<ChromaClient> {
    const client = await connect();
    if (this.storeAgreed) return client;
    this.storeChecked ??= this.checkStore(client).catch((error: unknown) => {
      // An outage is checked again on the next call; a mismatch stays.
      if (!isEngramError(error, "EMBEDDINGS_MISMATCH")) this.storeChecked = undefined;
      throw error;
    });
    await this.storeChecked;
    return client;
  }

  /**
   * Before records are written to the server: records this model on a prefix that has none (the
   * server creates the marker collection once, so the first of two racing processes wins), or
   * refuses with `EMBEDDINGS_MISMATCH`.
   */
  async claimStore(client: ChromaClient): Promise<void> {
    if (this.storeAgreed) return;
    const { modelId, prefix } = this.options;
    const recorded = await recordStoreModel(client, prefix, modelId, { replace: false });
    if (recorded !== modelId) throw this.mismatch(recorded, `The Chroma collections of prefix "${prefix}" hold`);
    this.storeAgreed = true;
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
      await this.claimStore(await this.client(connect));
    } catch (error) {
      if (isEngramError(error, "EMBEDDINGS_MISMATCH")) throw error;
    }
  }

  /** Agrees with the folder's recorded model, or refuses; nothing recorded yet leaves it open. */
  private agreeFolder(recorded: string | undefined): void {
    if (recorded === undefined) return;
    if (recorded !== this.options.modelId) throw this.mismatch(recorded, `The data folder ${this.options.dataDir} holds`);
    this.folderMatches = true;
  }

  /** Reads the server's marker: one that names another model refuses; none recorded is checked again on the next call. */
  private async checkStore(client: ChromaClient): Promise<void> {
    const { modelId, unmarkedModelId, prefix } = this.options;
    const recorded =
      (await readStoreModel(client, prefix)) ??
      (!this.storeWasEmpty && (await storeHasData(client, prefix)) ? await recordStoreModel(client, prefix, unmarkedModelId ?? modelId, { replace: false }) : undefined);
    if (recorded === undefined) {
      this.storeWasEmpty = true;
      this.storeChecked = undefined;
      return;
    }
    if (recorded !== modelId) throw this.mismatch(recorded, `The Chroma collections of prefix "${prefix}" hold`);
    this.storeAgreed = true;
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

/** The size in a {@link DIMENSIONS_KEY} value when it names `modelId`; undefined otherwise. */
export function recordedSize(value: string | undefined, modelId: string): number | undefined {
  if (value === undefined) return undefined;
  const at = value.lastIndexOf(" ");
  const size = Number(value.slice(at + 1));
  return at > 0 && value.slice(0, at) === modelId && Number.isInteger(size) && size > 0 ? size : undefined;
}
