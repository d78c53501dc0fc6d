import { expect, it } from "@jest/globals";
import { forgetting } from "./forgetting.js";
import { suiteTempDir } from "./tests/temp_dir.js";

const dir = suiteTempDir("engram-forgetting-");

it("the documented forgetting example merges, expires and caps, each removal in history with its reason", async () => {
  // The embedded default, in a temporary data folder: a real local Chroma server, local embeddings.
  const { report, left, removals } = await forgetting({ dataDir: dir.path });
  // Background writes (the default): the removals are durable in the outbox, and the reads below see them.
  expect(report).toMatchObject({ merged: 1, evicted: 1, expired: 1, pending: true });
  expect(removals.map((r) => [r.oldContent, r.reason])).toEqual([
    ["Platform 4 is closed today", "ttl"],
    ["I take the 7:40 train to work every morning", "dedupe"],
    ["We talked about the weather", "cap"],
  ]);
  expect(left.map((r) => r.content).sort()).toEqual(["I take the 7:40 train to work every morning.", "I'm allergic to penicillin"]);
  const train = left.find((r) => r.content.startsWith("I take"))!;
  expect(train.source.messageIds).toEqual(["msg-1", "msg-2"]);
});
