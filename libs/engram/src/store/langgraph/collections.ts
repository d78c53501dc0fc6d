import type { Collection } from "chromadb";
import { shortHash } from "../../core/ids.js";
import type { ChromaCollections } from "../chroma_collections.js";

/** Collections are listed this many at a time when a read spans every first label. */
const LIST_PAGE = 100;

/**
 * One Chroma collection per first namespace label, named `<prefix>-ns-<hash of the label>`.
 * Everything under `["alice", ...]` lives in alice's collection, so reads, queries and writes
 * there cost the same however many other first labels hold data, and one label's data can be
 * dropped as a whole. The label is hashed: labels may hold characters Chroma refuses in names,
 * and a name should not reveal a user id.
 */
export function collectionNameForLabel(prefix: string, label: string): string {
  return `${prefix}-ns-${shortHash(label)}`;
}

/**
 * The LangGraph store's collections by first label, over the collection handling every Chroma
 * store shares (store/chroma_collections.ts). Its collections carry `engramStore: 1`, so a
 * listing never mistakes another collection for one of them.
 */
export class StoreCollections {
  constructor(
    private readonly prefix: string,
    private readonly collections: ChromaCollections,
  ) {}

  /** The collection of a first label; undefined when nothing was ever written under it. */
  find(label: string): Promise<Collection | undefined> {
    return this.collections.find(collectionNameForLabel(this.prefix, label));
  }

  findOrCreate(label: string): Promise<Collection> {
    return this.collections.findOrCreate(collectionNameForLabel(this.prefix, label), { engramStore: 1 });
  }

  /** Every collection of this store (for searches and listings across all first labels). */
  async all(): Promise<Collection[]> {
    const listed = await this.collections.startingWith(`${this.prefix}-ns-`, LIST_PAGE);
    return listed.filter((collection) => collection.metadata?.engramStore === 1);
  }

  /** Runs a driver call; a collection deleted elsewhere is forgotten so the next call looks again. */
  call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return this.collections.call(operation, run);
  }

  forget(): void {
    this.collections.forget();
  }
}
