import { randomUUID } from "node:crypto";
import type { ChromaClient, Collection } from "chromadb";
import { EngramError } from "../core/errors.js";
import { shortHash } from "../core/ids.js";
import { isNotFound } from "./not_found.js";
import { BoundedMap, DEFAULT_MAX_HANDLES } from "./bounded_map.js";

/** An erase elsewhere can drop the log between our lookup and our append; it cannot do so forever. */
const APPEND_ATTEMPTS = 5;

/**
 * Where a user's records stood when read: the revision log's collection and how many entries it
 * held. `log` is null when the user has no log (nothing stored): such a revision is not one, and
 * equals no other, since "no log" recurs (before the first write, and after each erase).
 */
export interface StoreRevision {
  log: string | null;
  count: number;
}

export function sameRevision(a: StoreRevision, b: StoreRevision): boolean {
  return a.log !== null && a.log === b.log && a.count === b.count;
}

/** The collection of a user's revision log. Hashed like the records' collection. */
export function revisionLogNameFor(prefix: string, userId: string): string {
  return `${prefix}-r-${shortHash(userId)}`;
}

/** The revision log beside a user's records collection (`<prefix>-u-<hash>`), for callers that know only the collection. */
export function revisionLogNameOf(prefix: string, recordsCollection: string): string {
  return `${prefix}-r-${recordsCollection.slice(`${prefix}-u-`.length)}`;
}

export interface RevisionLogOptions {
  client: () => Promise<ChromaClient>;
  prefix: string;
  /** Wraps a driver failure (the store's own error mapping). */
  call: <T>(operation: string, run: () => Promise<T>) => Promise<T>;
  /**
   * A log this long is dropped (and begins again under a new id), which costs every instance one
   * reload of that user's index. Checked every `compactAt / 10` appends of this process.
   * @default 10_000
   */
  compactAt?: number;
  /**
   * Told when a log this process held a handle to is gone (an erase, a compaction, or
   * `engram reembed` replacing the user's collections), before it is looked up again.
   * @default none
   */
  stale?: () => void;
  /**
   * Most collection handles kept (least recently used leave first; one that left costs a lookup
   * round trip when its user comes back). @default 10_000 (DEFAULT_MAX_HANDLES)
   */
  maxHandles?: number;
}

/**
 * A per-user revision every instance sharing the Chroma server sees: an append-only log, one
 * Chroma collection per user, that gains one entry (a random id and a 1-dimension vector) after
 * each acknowledged write of the user's records. Its `count()` is the revision.
 *
 * Why a log and not a token: Chroma has no compare-and-set, so a value that writers overwrite can
 * hide a write (A reads t0, B writes and sets tB, A sets tA: a reader that knows only its own tA
 * cannot see B). An append never hides another, so the count only grows while the collection
 * lives. `erase` (deleteAll) drops the collection; a log made afterwards has another id, which is
 * why the revision carries the collection id too. A reader holding a handle to an erased log gets
 * Chroma's "not found", looks the log up again by name, and sees a different revision.
 *
 * The argument that a cache keyed by revision is coherent is in memory/gated_store.ts, which
 * decides when revisions are read relative to this process's own writes.
 */
export class RevisionLog {
  /**
   * Handles of logs known to exist, the most recently used kept; an erased one is dropped when
   * Chroma says "not found".
   */
  private readonly logs: BoundedMap<string, Promise<Collection>>;

  /**
   * Appends made by this process per user since its length was last checked, for as many users as
   * handles (a count that leaves only delays that user's next length check).
   */
  private readonly sinceCheck: BoundedMap<string, number>;

  private readonly compactAt: number;

  constructor(private readonly options: RevisionLogOptions) {
    this.compactAt = options.compactAt ?? 10_000;
    this.logs = new BoundedMap(options.maxHandles ?? DEFAULT_MAX_HANDLES);
    this.sinceCheck = new BoundedMap(options.maxHandles ?? DEFAULT_MAX_HANDLES);
  }

  /**
   * Records one more write of the user. Called only after the write itself succeeded. A failure is
   * reported as `STORE_UNAVAILABLE`: the write is not acknowledged and stays queued (its replay is
   * idempotent), since nothing is wrong with the records themselves.
   */
  async append(userId: string): Promise<void> {
    const entry = { ids: [randomUUID()], embeddings: [[1]] };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const log = await this.open(userId, true);
        await this.options.call("append revision", () => log.add(entry));
        await this.compactIfLong(userId, log);
        return;
      } catch (error) {
        // The log was erased (deleteAll elsewhere) around the time we wrote: append to the new one.
        if (isNotFound(error) && attempt < APPEND_ATTEMPTS) {
          this.dropHandle(userId);
          continue;
        }
        if (error instanceof EngramError && error.code === "STORE_UNAVAILABLE") throw error;
        throw new EngramError("STORE_UNAVAILABLE", `Could not record the write in the user's revision log: ${(error as Error)?.message ?? error}`, { cause: error });
      }
    }
  }

  /**
   * Keeps the log short. Dropping it is safe at any time: the next log has another id, so no
   * reader can take it for the one its index was built against (it reloads), and a writer whose
   * append meets the dropped log appends to the new one. Best effort: a failure leaves it long.
   */
  private async compactIfLong(userId: string, log: Collection): Promise<void> {
    const appended = (this.sinceCheck.get(userId) ?? 0) + 1;
    this.sinceCheck.set(userId, appended);
    if (appended < Math.max(1, Math.floor(this.compactAt / 10))) return;
    this.sinceCheck.delete(userId);
    try {
      if ((await log.count()) >= this.compactAt) await this.erase(userId);
    } catch {
      // The write itself succeeded; a long log only costs space.
    }
  }

  /**
   * The user's current revision: one round trip when the log's handle is known. A user with
   * records but no log (stored before revision logs existed) is given one here, so that their
   * revision can be trusted from then on.
   */
  async read(userId: string, hasRecords: () => Promise<boolean>): Promise<StoreRevision> {
    for (let attempt = 0; ; attempt += 1) {
      const log = (await this.open(userId, false)) ?? ((await hasRecords()) ? await this.open(userId, true) : undefined);
      if (!log) return { log: null, count: 0 };
      try {
        return { log: log.id, count: await this.options.call("read revision", () => log.count()) };
      } catch (error) {
        if (!isNotFound(error) || attempt > 0) throw error;
        this.dropHandle(userId);
      }
    }
  }

  /** Forgets a handle Chroma said is gone, and says so. */
  private dropHandle(userId: string): void {
    this.logs.delete(userId);
    this.options.stale?.();
  }

  /** Drops the user's log (after their records): a log made later starts under another id. */
  async erase(userId: string): Promise<void> {
    this.logs.delete(userId);
    const client = await this.options.client();
    try {
      await this.options.call("erase revisions", () => client.deleteCollection({ name: revisionLogNameFor(this.options.prefix, userId) }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  forgetHandles(): void {
    this.logs.clear();
  }

  private async open(userId: string, create: true): Promise<Collection>;
  private async open(userId: string, create: false): Promise<Collection | undefined>;
  private async open(userId: string, create: boolean): Promise<Collection | undefined> {
    const cached = this.logs.get(userId);
    if (cached) return cached;
    const client = await this.options.client();
    const name = revisionLogNameFor(this.options.prefix, userId);
    if (!create) {
      try {
        const found = await this.options.call("find revisions", () => client.getCollection({ name }));
        this.logs.set(userId, Promise.resolve(found));
        return found;
      } catch (error) {
        // Not cached: another process may create it at any time.
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }
    const pending = this.options
      .call("create revisions", () =>
        client.getOrCreateCollection({ name, embeddingFunction: null, metadata: { engramRevisions: 1 } }),
      )
      .catch((error: unknown) => {
        this.logs.delete(userId);
        throw error;
      });
    this.logs.set(userId, pending);
    return pending;
  }
}
