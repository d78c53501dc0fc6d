/**
 * An `EngramStore` in its own process, for the cross-process tests of this folder: it serves the
 * store's calls, plus `storm` (many seeded puts and deletes of a few keys, several in flight at
 * once), over stdin/stdout one JSON line at a time, with the protocol of tests/peer_server.ts.
 * Run as `node --import tsx store_peer.ts '<json>'`, the JSON a {@link StorePeerOptions}.
 */
import { random } from "../../tests/interleave.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramStore } from "./engram_store.js";
import { serveMethods, type PeerMethod } from "../../tests/peer_server.js";

export interface StorePeerOptions {
  chromaUrl: string;
  prefix: string;
  fields: string[];
}

export interface StormOptions {
  seed: number;
  namespace: string[];
  keys: string[];
  /** Texts a put picks its indexed fields' values from. */
  texts: string[];
  /** Operations per worker, and workers running at once. */
  ops: number;
  workers: number;
}

const options = JSON.parse(process.argv[2] ?? "{}") as StorePeerOptions;
const store = new EngramStore({ chroma: { url: options.chromaUrl }, prefix: options.prefix, index: { fields: options.fields, embeddings: new HashEmbeddings(64) } });

async function storm(plan: StormOptions): Promise<number> {
  let done = 0;
  await Promise.all(
    Array.from({ length: plan.workers }, async (_, worker) => {
      const pick = random(plan.seed * 100 + worker);
      const any = <T>(list: readonly T[]): T => list[Math.floor(pick() * list.length)]!;
      for (let i = 0; i < plan.ops; i++) {
        const key = any(plan.keys);
        if (pick() < 0.25) {
          await store.delete(plan.namespace, key);
        } else {
          const count = 1 + Math.floor(pick() * options.fields.length);
          const value: Record<string, unknown> = Object.fromEntries(options.fields.slice(0, count).map((field) => [field, any(plan.texts)]));
          value[`only${Math.floor(pick() * 3)}`] = "x";
          await store.put(plan.namespace, key, value);
        }
        done += 1;
      }
    }),
  );
  return done;
}

const methods: Record<string, PeerMethod> = {
  storm: storm as PeerMethod,
  get: store.get.bind(store) as PeerMethod,
  search: store.search.bind(store) as PeerMethod,
  close: () => store.close(),
};

serveMethods(methods);
