/**
 * EngramStores of one embedding model in their own process, one per prefix (made on first use),
 * for model_race.int.test.ts: `put` over stdin/stdout one JSON line at a time (the protocol of
 * tests/peer_server.ts), answering "stored" or the error's code.
 * Run as `node --import tsx model_peer.ts '<json>'`, the JSON a {@link ModelPeerOptions}.
 */
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramStore } from "./engram_store.js";
import { serveMethods, type PeerMethod } from "../../tests/peer_server.js";

export interface ModelPeerOptions {
  chromaUrl: string;
  /** The model the stores name (a test embedding that names itself, as model_check.int's). */
  modelId: string;
}

const options = JSON.parse(process.argv[2] ?? "{}") as ModelPeerOptions;
const stores = new Map<string, EngramStore>();

function storeOf(prefix: string): EngramStore {
  let store = stores.get(prefix);
  if (!store) {
    const embeddings = Object.assign(new HashEmbeddings(32), { modelId: options.modelId });
    store = new EngramStore({ chroma: { url: options.chromaUrl }, prefix, index: { fields: ["text"], embeddings } });
    stores.set(prefix, store);
  }
  return store;
}

async function put(prefix: string, namespace: string[], key: string, text: string): Promise<string> {
  await storeOf(prefix).put(namespace, key, { text });
  return "stored";
}

const methods: Record<string, PeerMethod> = {
  put: put as PeerMethod,
  close: async () => {
    for (const store of stores.values()) await store.close();
  },
};

serveMethods(methods);
