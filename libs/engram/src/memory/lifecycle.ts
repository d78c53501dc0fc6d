/**
 * Memory's lifecycle: its options resolved once (constructing does no I/O), its parts opened by a
 * lazy `setup()` that every call awaits (the shared state, the model check, the store, recall and
 * the writer), and one closing state for `close()`.
 */
import type { MemoryRecord } from "../core/types.js";
import { join } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { EngramError } from "../core/errors.js";
import { validatePrefix } from "../core/scope.js";
import { validateLimit, validateMaxContentChars } from "../core/validate.js";
import { describeValue } from "../core/describe.js";
import { EmbeddingCache } from "../embeddings/cache.js";
import { embeddingsIdentity, LEGACY_DEFAULT_MODEL_ID } from "../embeddings/identity.js";
import { resolveEmbeddingTimeout } from "../embeddings/deadline.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { STATIC_MODEL_ID } from "../embeddings/static.js";
import { DEFAULT_RANKER, resolveRanker, STATIC_RANKER, type ResolvedRankerOptions } from "../scoring/ranker.js";
import { resolveEntityOptions, withEntities, type ResolvedEntityOptions } from "../scoring/entities.js";
import { openState, type OpenedState } from "../state/open.js";
import type { StateBackend } from "../state/types.js";
import { ChromaStore } from "../store/chroma_store.js";
import { ChromaConnection } from "../store/connection.js";
import { Embedder } from "./embedder.js";
import { resolveFactOptions } from "./facts.js";
import { GatedStore } from "./gated_store.js";
import { ModelGuard } from "./model_guard.js";
import { validateMemoryOptionNames } from "./known_options.js";
import type { MemoryOptions } from "./options.js";
import { PendingOverlay, validatePendingReads } from "./pending_overlay.js";
import { Recall, validateRecallSizes, validateRevisionSource } from "./recall.js";
import { validateWrites } from "./records.js";
import { Writer, type WriteOp } from "./writer.js";
import type { WriteMode } from "./write_policy.js";

/** The options of a Memory with defaults applied and checked, once. */
export interface MemoryConfig {
  options: MemoryOptions;
  dataDir: string;
  clock: () => number;
  maxContentChars: number;
  prefix: string;
  ranker: ResolvedRankerOptions;
  entities: ResolvedEntityOptions;
  writes: WriteMode;
  embedder: Embedder;
  /**
   * The embeddings this Memory made itself (no `embeddings` option), closed with it: their worker
   * threads would otherwise run on after `close()`, until their idle timeout.
   */
  ownedEmbeddings?: LocalEmbeddings;
  /** The Chroma connection, unless the caller gave a store of their own. */
  connection?: ChromaConnection;
  /** One model per data folder: refuses a folder whose vectors another model wrote. */
  modelGuard: ModelGuard;
  /** The shared state, and whether this Memory owns it (closes it). */
  state: OpenedState;
}

/** Resolves and checks every option: a bad value fails here, when the Memory is made. */
export function resolveMemoryConfig(options: MemoryOptions): MemoryConfig {
  validateMemoryOptionNames(options);
  const dataDir = options.dataDir ?? ".engram";
  // Checked before anything below makes a worker pool or opens a database.
  const maxContentChars = validateMaxContentChars(options.maxContentChars);
  const clock = options.clock ?? Date.now;
  if (typeof clock !== "function") throw new EngramError("INVALID_OPTIONS", `clock must be a function returning milliseconds, got ${describeValue(clock)}.`);
  let ownedEmbeddings: LocalEmbeddings | undefined;
  const embeddings: EmbeddingsInterface = options.embeddings ?? (ownedEmbeddings = new LocalEmbeddings());
  const prefix = validatePrefix(options.prefix ?? "engram");
  const modelId = embeddingsIdentity(embeddings);
  // The ranker's weights were chosen per model (cross-validated on LoCoMo dev): the static
  // model's narrow cosine band needs its own.
  const ranker = resolveRanker(options.ranker, modelId === STATIC_MODEL_ID ? STATIC_RANKER : DEFAULT_RANKER);
  const entities = resolveEntityOptions(options.entities);
  const cache = new EmbeddingCache(validateLimit(options.embeddingCache, "embeddingCache", 1_024, 1_000_000));
  const writes = validateWrites(options.writes);
  const embeddingTimeoutMs = resolveEmbeddingTimeout(options.embeddingTimeoutMs, embeddings);
  if (options.model) resolveFactOptions(options.facts);
  validatePendingReads(options.recallCache?.pending);
  validateRevisionSource(options.recallCache?.revisions);
  validateRecallSizes(options.recallCache);
  const connection = options.store ? undefined : new ChromaConnection(options.chroma ?? {}, join(dataDir, "chroma"));
  const chroma = options.chroma as { url?: unknown; client?: unknown } | undefined;
  const modelGuard = new ModelGuard({
    modelId,
    // A folder written before folders recorded their model, opened with the default model, holds
    // the vectors of the default of that time.
    unmarkedModelId: options.embeddings === undefined ? LEGACY_DEFAULT_MODEL_ID : undefined,
    dataDir,
    prefix,
    sharedServer: !options.store && (chroma?.url !== undefined || chroma?.client !== undefined),
  });
  const state = openState(options.state, { dataDir, clock });
  return {
    options,
    dataDir,
    clock,
    maxContentChars,
    prefix,
    ranker,
    entities,
    writes,
    // A vector made to be stored claims the folder for this model first (model_guard.ts), and
    // every vector's size is held to the folder's.
    embedder: new Embedder(embeddings, cache, {
      beforeStore: () => modelGuard.claimFolder(state.state.meta),
      dimensions: (size, storing) => modelGuard.dimensions(state.state.meta, size, storing),
    }, embeddingTimeoutMs),
    ...(ownedEmbeddings ? { ownedEmbeddings } : {}),
    ...(connection ? { connection } : {}),
    modelGuard,
    state,
  };
}

/** What `setup()` opens. */
export interface MemoryParts {
  state: StateBackend;
  store: GatedStore;
  writer: Writer;
  recall: Recall;
  /** The user's queued writes for search (`recallIndex.pending: "overlay"`, the default); absent with `"drain"`. */
  overlay?: PendingOverlay;
}

/** What the Memory does when its parts open and before they close. */
export interface LifecycleHooks {
  /** Right after the parts open (fact extraction starts here). */
  opened(parts: MemoryParts): Promise<void>;
  /** Work that must finish while the parts are open (forgetting passes, due drains). */
  settle(): Promise<void>;
  /** Stops background work (extraction in flight is aborted; its jobs stay queued). */
  stop(): Promise<void>;
}

type Phase = "open" | "closing" | "closed";

export class MemoryLifecycle {
  /** `closing` from the start of `close()`, `closed` once no drain may start any more. */
  private phase: Phase = "open";

  private opening?: Promise<MemoryParts>;

  private closing?: Promise<void>;

  constructor(
    private readonly config: MemoryConfig,
    private readonly hooks: LifecycleHooks,
  ) {}

  get state(): StateBackend {
    return this.config.state.state;
  }

  /** True once `close()` began. */
  get isClosing(): boolean {
    return this.phase !== "open";
  }

  /** True once the parts are closing (no drain starts any more). */
  get isClosed(): boolean {
    return this.phase === "closed";
  }

  /** @throws EngramError `CLOSED` once `close()` began, as every call after it does. */
  assertOpen(): void {
    if (this.phase !== "open") throw new EngramError("CLOSED", "This Memory was closed.");
  }

  /**
   * The parts, opened on first use (idempotent). A failure (a folder of another model, the state
   * unreachable) is thrown to this call, and the next call tries again.
   * @throws EngramError `CLOSED` once closed.
   */
  setup(): Promise<MemoryParts> {
    if (this.phase === "closed") return Promise.reject(new EngramError("CLOSED", "This Memory was closed."));
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    // A folder no model has claimed yet may be claimed by another process's first write at any
    // time: until then each call reads its marker (model_guard.ts); afterwards calls skip it.
    if (this.config.modelGuard.folderAgreed) return this.opening;
    return this.opening.then(async (parts) => {
      await this.config.modelGuard.current(parts.state.meta);
      return parts;
    });
  }

  /** Releases what this Memory started: background work, the store, the local server, the state it owns. */
  close(): Promise<void> {
    return (this.closing ??= this.closeNow());
  }

  private async open(): Promise<MemoryParts> {
    const { config } = this;
    const { options, connection, modelGuard } = config;
    const state = this.state;
    await state.setup();
    await modelGuard.checkFolder(state.meta);
    // Every write goes through the gate, which keeps recall's in-process indexes coherent with
    // other instances sharing the store (the argument is in gated_store.ts).
    const store = new GatedStore(
      options.store ??
        new ChromaStore({
          client: () => modelGuard.client(() => connection!.client()),
          prefix: config.prefix,
          describe: () => connection!.describe(),
          recover: (elapsedMs) => connection!.recover(elapsedMs),
          // A collection gone from under us may have been replaced by `engram reembed`: the model is checked again.
          stale: () => modelGuard.recheck(),
          // The prefix is claimed for this model by its first records (model_guard.ts).
          beforeWrite: (client) => modelGuard.claimStore(client),
        }),
      state.leases,
      // Every write advances the user's revision in the state; a warm search checks its index
      // against it, without a store round trip, when every writer of the store shares this state
      // (recall.ts, `revisions`), else against the store's.
      state.revisions,
      revisionsInState(options),
    );
    const embed = (texts: string[]) => config.embedder.embed(texts);
    const overlay = validatePendingReads(options.recallCache?.pending) === "overlay" ? new PendingOverlay(state.outbox<WriteOp>(), embed, { tag: tagRecord }) : undefined;
    // The overlay hears of this process's store writes through recall, so drained rows' vectors leave.
    const recall = new Recall(store, config.ranker, options.recallCache, overlay);
    // Drains of one user never overlap across instances on the state (the "drain" lock, writer.ts).
    const writer = new Writer({
      outbox: state.outbox<WriteOp>(),
      store,
      embed: (texts) => config.embedder.embedToStore(texts),
      // Entity tagging of added records runs in the drain, off the caller's path (records.ts).
      tag: tagRecord,
      leases: state.leases,
    });
    const parts = { state, store, writer, recall, ...(overlay ? { overlay } : {}) };
    await this.hooks.opened(parts);
    return parts;
  }

  private async closeNow(): Promise<void> {
    this.phase = "closing";
    // Forgetting passes asked for before close() and background drains scheduled but not started
    // run to their end first, while the parts are open.
    await this.hooks.settle();
    this.phase = "closed";
    const parts = await this.opening?.catch(() => undefined);
    this.opening = undefined;
    await this.hooks.stop();
    // Background writes in flight finish (or stay in the outbox) before the state closes.
    try {
      await parts?.writer.idle();
      await parts?.store.close();
      await this.config.connection?.close();
      if (this.config.state.owned) await this.state.close();
    } finally {
      // Last (nothing above embeds any more), and even when a part failed to close. Embeddings the
      // caller gave stay theirs to close.
      await this.config.ownedEmbeddings?.close();
    }
  }
}

/**
 * Whether recall reads revisions from the state (`recallIndex.revisions`): `"auto"` does when the
 * store is the data folder's own server, which only instances on this folder (and state) write.
 */
function revisionsInState(options: MemoryOptions): boolean {
  const source = validateRevisionSource(options.recallCache?.revisions);
  if (source !== "auto") return source === "state";
  const chroma = options.chroma as { url?: unknown; client?: unknown; path?: unknown } | undefined;
  return options.store === undefined && chroma?.url === undefined && chroma?.client === undefined && chroma?.path === undefined;
}

/** A record with its entities tagged into the metadata: what the drain does to one queued with `tagEntities`. */
function tagRecord(record: MemoryRecord): MemoryRecord {
  return { ...record, metadata: withEntities(record.metadata, record.content) };
}
