import { fileURLToPath } from "node:url";
import { startScriptPeer, type KillablePeer } from "./peers.js";
import type { StatePeerOptions } from "./state_peer.js";

/** A peer of tests/state_peer.ts; its calls reject with `PeerError` (tests/peers.ts) when its Memory threw. */
export type StatePeer = KillablePeer;

const SCRIPT = fileURLToPath(new URL("./state_peer.ts", import.meta.url));

/** Starts tests/state_peer.ts: a real Node process with its own Memory, talking JSON lines. */
export function startStatePeer(options: StatePeerOptions): StatePeer {
  return startScriptPeer(SCRIPT, options);
}
