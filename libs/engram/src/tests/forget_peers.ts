import { fileURLToPath } from "node:url";
import type { ForgetPeerOptions } from "./forget_peer.js";
import { startScriptPeer, type KillablePeer } from "./peers.js";

const SCRIPT = fileURLToPath(new URL("./forget_peer.ts", import.meta.url));

/** Starts tests/forget_peer.ts: a real Node process with its own Memory (forget served too), talking JSON lines. */
export function startForgetPeer(options: ForgetPeerOptions): KillablePeer {
  return startScriptPeer(SCRIPT, options);
}
