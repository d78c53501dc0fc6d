import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startScriptPeer, type KillablePeer } from "../tests/peers.js";
import { testMemories } from "../tests/memories.js";

// A core block edit reads the block and writes it whole. Processes on one data folder (an app's
// workers, its CLI) edit one user's profile at once: every edit must be kept.
const memories = testMemories();
const PEER = fileURLToPath(new URL("../tests/blocks_peer.ts", import.meta.url));

describe("core blocks edited from two processes at once", () => {
  it("keeps every append of both", async () => {
    const options = { dataDir: join(memories.chroma.dir, "profile"), chromaUrl: memories.chroma.server.url, prefix: "profile" };
    const peers: KillablePeer[] = [startScriptPeer(PEER, options), startScriptPeer(PEER, options)];
    try {
      const lines = Array.from({ length: 12 }, (_, i) => `Line ${i} of what we know about Ivy.`);
      await Promise.all(lines.map((line, i) => peers[i % 2]!.call("append", "ivy", "human", line)));
      for (const peer of peers) {
        const value = await peer.call<string>("get", "ivy", "human");
        for (const line of lines) expect(value).toContain(line);
      }
    } finally {
      for (const peer of peers) await peer.close();
    }
  });
});
