import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Memory } from "../memory/memory.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { tempDir } from "../tests/chroma.js";
import { waitFor } from "../tests/wait.js";
import { chromasServing, serverChild } from "./tests/server_children.js";

/*
 * The process that started a data folder's Chroma server exits normally (closes, stops its server)
 * while another process's Memory, which reused that server, is writing and reading. The Memory
 * takes over: it starts a server of its own on the folder, and every write it acknowledged, before,
 * during and after the hand-over, is stored once, with one ADD.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const embeddings = new HashEmbeddings();
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const WRITES = 20;

describe("the owner of a data folder's Chroma server exits while another process uses it", () => {
  for (const writes of ["background", "sync"] as const) {
    it(`the other process's Memory (${writes} writes) takes over: nothing acknowledged is lost or doubled, one server on the folder`, async () => {
      const dir = await tempDir("engram-handover-");
      dirs.push(dir);
      const path = join(dir, "chroma");
      const owner = serverChild(path);
      expect(await owner.next()).toEqual({ ready: true });
      expect((await owner.next()).reused).toBe(false);

      const m = new Memory({ dataDir: dir, embeddings, writes });
      try {
        const texts = Array.from({ length: WRITES }, (_, i) => `Note ${i}: Ravi keeps hive number ${i} behind the orchard`);
        await m.add(texts[0]!, { userId: "ravi" });
        await m.flush();
        let stopped: Promise<void> | undefined;
        for (const [i, text] of texts.slice(1).entries()) {
          // The owner closes in the middle: its handle stops the server it started, and exits.
          if (i === 4) stopped = owner.close();
          await m.add(text, { userId: "ravi" });
          if (i % 5 === 0) expect((await m.search("hive orchard", { userId: "ravi" })).length).toBeGreaterThan(0);
        }
        await stopped;
        expect((await m.flush()).pending).toBe(0);
        const all = await m.getAll({ userId: "ravi" });
        expect(all.map((record) => record.content).sort()).toEqual([...texts].sort());
        for (const record of all) expect((await m.history(record.id, { userId: "ravi" })).map((entry) => entry.event)).toEqual(["ADD"]);
        expect(chromasServing(path).length).toBe(1);
      } finally {
        await m.close();
        await owner.close();
      }
      expect(await waitFor(() => chromasServing(path).length === 0)).toBe(true);
    });
  }
});
