import { join } from "node:path";
import type { StateAt } from "./outbox_rows.js";
import type { KillablePeer, RaceSuite } from "./peers.js";
import { startStatePeer } from "./state_peers.js";
import type { StatePeerOptions } from "./state_peer.js";

/** Processes of one test sharing one state, and the user they work on. */
export interface OneState {
  user: { userId: string };
  /** Where the shared state is (tests/outbox_rows.ts reads it). */
  state: StateAt;
  /** A new process on the state, its store at `chromaUrl` (a proxy, or the suite's server); kept by the suite. */
  start(name: string, chromaUrl: string, options?: Partial<StatePeerOptions>): KillablePeer;
}

/**
 * A new test's processes (`writes: "sync"`) on one shared state: one data folder's SQLite for all
 * of them, or a new PostgreSQL database (each process then on its own data folder, as replicas).
 */
export async function oneState(suite: RaceSuite, kind: "sqlite" | "postgres", test: string): Promise<OneState> {
  const postgres = kind === "postgres" ? await suite.database(`engram_${test.replace(/\W/g, "_")}`) : undefined;
  const folder = (name: string): string => join(suite.chroma.dir, `${test}-${kind}${postgres === undefined ? "" : `-${name}`}`);
  return {
    user: { userId: `user-${test}-${kind}` },
    state: postgres === undefined ? { folder: folder("") } : { postgres },
    start: (name, chromaUrl, options = {}) =>
      suite.keep(startStatePeer({ dataDir: folder(name), chromaUrl, writes: "sync", ...(postgres !== undefined ? { postgres } : {}), ...options })),
  };
}

/** The kept record's text, said in message `m-1`, and its near-duplicate's, said in `m-2` (one vector with the test embedding). */
export const KEPT_TEXT = "I take the 7:40 train to work every morning.";
export const DUPLICATE_TEXT = "I take the 7:40 train to work every morning";

/**
 * Adds, through `peer`, the two sayings a forgetting pass merges: the kept record (message m-1,
 * importance 0.7) and its duplicate (message m-2, importance 0.5). Returns their ids.
 */
export async function addTwoSayings(peer: KillablePeer, user: { userId: string }): Promise<{ kept: string; duplicate: string }> {
  const add = (id: string, content: string, importance: number): Promise<string> =>
    peer.call<{ results: Array<{ id: string }> }>("add", [{ role: "user", id, content }], { ...user, importance }).then((r) => r.results[0]!.id);
  return { kept: await add("m-1", KEPT_TEXT, 0.7), duplicate: await add("m-2", DUPLICATE_TEXT, 0.5) };
}
