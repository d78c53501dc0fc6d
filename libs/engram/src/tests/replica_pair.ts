import { afterAll, beforeAll } from "@jest/globals";
import { join } from "node:path";
import { startTestChroma, type TestChroma } from "./chroma.js";
import { startChromaProxy, type ChromaProxy } from "./chroma_proxy.js";
import { freshDatabase, startPostgres, type TestPostgres } from "./postgres.js";
import type { StatePeerOptions } from "./state_peer.js";
import { startStatePeer, type StatePeer } from "./state_peers.js";

/** The world of two replicas, for one suite (see {@link replicaPairSuite}). */
export interface ReplicaPair {
  readonly chroma: TestChroma;
  readonly postgres: TestPostgres;
  /** One proxy per replica in front of the same Chroma server, so a test can hold one replica's calls. */
  readonly proxies: readonly [ChromaProxy, ChromaProxy];
  /** A fresh database of the cluster, for one test's shared state. */
  database(name: string): Promise<string>;
  /**
   * Starts a replica process (tests/state_peer.ts) named `name`, its data folder under the
   * suite's, talking to Chroma through proxy `proxy`; killed after the suite.
   */
  start(name: string, proxy: 0 | 1, options: Omit<StatePeerOptions, "dataDir" | "chromaUrl">): StatePeer;
}

/**
 * One Chroma server, one PostgreSQL cluster and two Chroma proxies, started before the suite's
 * tests and stopped after them with every replica started through it. Read `world` in a test.
 */
export function replicaPairSuite(): { readonly world: ReplicaPair } {
  let world: ReplicaPair | undefined;
  let chroma: TestChroma | undefined;
  let postgres: TestPostgres | undefined;
  const proxies: ChromaProxy[] = [];
  const peers: StatePeer[] = [];
  beforeAll(async () => {
    [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
    proxies.push(await startChromaProxy(chroma.server.url), await startChromaProxy(chroma.server.url));
    const [c, p] = [chroma, postgres];
    world = {
      chroma: c,
      postgres: p,
      proxies: [proxies[0]!, proxies[1]!],
      database: (name) => freshDatabase(p.url, name),
      start: (name, proxy, options) => {
        const peer = startStatePeer({ ...options, dataDir: join(c.dir, name), chromaUrl: proxies[proxy]!.url });
        peers.push(peer);
        return peer;
      },
    };
  });
  afterAll(async () => {
    for (const peer of peers.splice(0).reverse()) await peer.kill();
    for (const proxy of proxies) await proxy.close();
    await chroma?.stop();
    await postgres?.stop();
  });
  return {
    get world() {
      if (world === undefined) throw new Error("replicaPairSuite(): the world starts in beforeAll; read it from a test.");
      return world;
    },
  };
}
