import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { alive, chromaPid, startTestChroma, tempDir } from "../tests/chroma.js";
import { codeOf } from "../tests/runs.js";
import type { ChromaClient } from "chromadb";
import { ChromaConnection } from "./connection.js";
import { ChromaStore } from "./chroma_store.js";

/*
 * A Chroma server that lives but does not answer. Seen after its disk filled up: the heartbeat
 * answered and every collection request hung, and so did every Engram call on it (`add`,
 * `flush()`, `getAll`, `close()`), for ever. A stopped process (SIGSTOP) hangs the same way, on
 * purpose and for as long as the test wants. Each request now has a deadline (`chroma.timeoutMs`):
 * a hung local server is restarted, and a hung server given by URL is an outage that loses nothing.
 */

jest.setTimeout(240_000); // a hang, not a slow machine: without the deadline these calls never return

const embeddings = new StaticEmbeddings();
const BODY_STALL_CHILD = fileURLToPath(new URL("../tests/body_stall_child.ts", import.meta.url));
const dirs: string[] = [];
const userId = "alice";

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const dir = await tempDir("engram-hang-");
  dirs.push(dir);
  return dir;
}

describe("a Chroma server that lives but does not answer", () => {
  it("local: the hung server is stopped and started again, and the write that met it is stored", async () => {
    const dataDir = await folder();
    const path = join(dataDir, "chroma");
    const memory = new Memory({ dataDir, embeddings, writes: "sync", chroma: { timeoutMs: 3_000 } });
    try {
      await memory.add("I live in Lisbon.", { userId });
      const hung = chromaPid(path)!;
      process.kill(hung, "SIGSTOP");
      try {
        const added = await memory.add("I have a cat named Miso.", { userId });
        expect(added.pending).toBe(false);
      } finally {
        if (alive(hung)) process.kill(hung, "SIGCONT");
      }
      expect(alive(hung)).toBe(false);
      const fresh = chromaPid(path);
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(hung);
      // Another instance on the folder reads both from the new server.
      const other = new Memory({ dataDir, embeddings });
      try {
        expect((await other.getAll({ userId })).map((record) => record.content).sort()).toEqual(["I have a cat named Miso.", "I live in Lisbon."]);
      } finally {
        await other.close();
      }
    } finally {
      await memory.close();
    }
  });

  it("local: a server that hangs when the write's revision is recorded is restarted, and the write that met it is stored", async () => {
    // The records' upsert and the revision log's entry are two requests: only the first waited for
    // a hung server's restart. A hang at the second failed the write (STORE_UNAVAILABLE, kept
    // queued), and the first flush after a full disk emptied failed once before the restart.
    const dataDir = await folder();
    const path = join(dataDir, "chroma");
    const connection = new ChromaConnection({ timeoutMs: 3_000 }, path);
    let hung: number | undefined;
    let armed = false;
    const hooked = new WeakSet<ChromaClient>();
    /** Stops Chroma (SIGSTOP) just before the next revision entry (an `add`: records are upserted) is sent. */
    const client = async (): Promise<ChromaClient> => {
      const chromaClient = await connection.client();
      if (!hooked.has(chromaClient)) {
        hooked.add(chromaClient);
        const hooks = (chromaClient as unknown as { apiClient: { interceptors: { request: { use(fn: (request: Request) => Request): unknown } } } }).apiClient.interceptors;
        hooks.request.use((request) => {
          if (armed && request.method === "POST" && new URL(request.url).pathname.endsWith("/add")) {
            armed = false;
            hung = chromaPid(path)!;
            process.kill(hung, "SIGSTOP");
          }
          return request;
        });
      }
      return chromaClient;
    };
    const store = new ChromaStore({ client, prefix: "hang", recover: (elapsedMs) => connection.recover(elapsedMs) });
    const memory = new Memory({ dataDir, embeddings, store, prefix: "hang", writes: "sync" });
    try {
      await memory.add("I live in Lisbon.", { userId });
      armed = true;
      try {
        expect((await memory.add("I have a cat named Miso.", { userId })).pending).toBe(false);
      } finally {
        if (hung !== undefined && alive(hung)) process.kill(hung, "SIGCONT");
      }
      expect(hung).toBeDefined();
      expect(alive(hung!)).toBe(false);
      expect(chromaPid(path)).not.toBe(hung);
      expect(await memory.flush()).toEqual({ applied: 0, pending: 0 });
      expect((await memory.getAll({ userId })).map((record) => record.content).sort()).toEqual(["I have a cat named Miso.", "I live in Lisbon."]);
    } finally {
      await memory.close();
      await connection.close();
    }
  });

  it("by URL: calls fail as an outage within the deadline, the writes stay queued, and land once the server answers", async () => {
    const chroma = await startTestChroma();
    const dataDir = await folder();
    const memory = new Memory({ dataDir, embeddings, writes: "sync", chroma: { url: chroma.server.url, timeoutMs: 1_500 } });
    const pid = chromaPid(join(chroma.dir, "chroma"))!;
    try {
      await memory.add("I live in Lisbon.", { userId });
      process.kill(pid, "SIGSTOP");
      let stopped = true;
      try {
        // The store does not answer: the write is kept in the outbox and the caller told it is pending.
        expect((await memory.add("I have a cat named Miso.", { userId })).pending).toBe(true);
        expect(await codeOf(memory.flush())).toBe("STORE_UNAVAILABLE");
        process.kill(pid, "SIGCONT");
        stopped = false;
      } finally {
        if (stopped) process.kill(pid, "SIGCONT");
      }
      expect(await memory.flush()).toEqual({ applied: 1, pending: 0 });
      expect((await memory.getAll({ userId })).map((record) => record.content).sort()).toEqual(["I have a cat named Miso.", "I live in Lisbon."]);
      // A server given by URL is never restarted by Engram.
      expect(chromaPid(join(chroma.dir, "chroma"))).toBe(pid);
    } finally {
      await memory.close();
      await chroma.stop();
    }
  });

  // In a process of its own, as a user's script: in full CI runs this case hung past 240 s twice in
  // a Jest worker that had run other files before it, and never alone (7 s); its child prints the
  // step it is at every second, so a hang says where it is.
  it("by URL: a server that stops in the middle of its answer's body fails the call as an outage within the deadline, and loses nothing", async () => {
    // The deadline used to end when the headers arrived: a body that never finished hung the call for ever.
    const chroma = await startTestChroma();
    const dataDir = await folder();
    try {
      const child = spawn(process.execPath, ["--import", "tsx", BODY_STALL_CHILD, chroma.server.url, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
      const killer = setTimeout(() => child.kill("SIGKILL"), 150_000);
      const code = await new Promise<number | null>((done) => child.once("exit", (exit) => done(exit)));
      clearTimeout(killer);
      expect({ code, err: code === 0 ? "" : err.split("\n").slice(-5).join("\n") }).toEqual({ code: 0, err: "" });
      expect(JSON.parse(out.trim())).toEqual({
        // Reads whose answers stop half-way fail as an outage within the deadline.
        readCode: "STORE_UNAVAILABLE",
        stalledReads: expect.any(Number),
        // The write's answer never finishes: it stays queued and the caller is told it is pending.
        pending: true,
        stalledWrites: expect.any(Number),
        flushed: { applied: 1, pending: 0 },
        contents: ["I have a cat named Miso.", "I live in Lisbon."],
      });
      const result = JSON.parse(out.trim()) as { stalledReads: number; stalledWrites: number };
      expect(result.stalledReads).toBeGreaterThan(0);
      expect(result.stalledWrites).toBeGreaterThan(0);
    } finally {
      await chroma.stop();
    }
  });

  it("refuses a timeoutMs that is not a number of milliseconds >= 0 when the Memory is made, before any connection", async () => {
    const dataDir = await folder();
    for (const timeoutMs of [-1, Number.NaN, "60s", Number.POSITIVE_INFINITY]) {
      expect(await codeOf(Promise.resolve().then(() => new Memory({ dataDir, embeddings, chroma: { timeoutMs: timeoutMs as number } })))).toBe("INVALID_OPTIONS");
    }
    expect(chromaPid(join(dataDir, "chroma"))).toBeUndefined();
  });
});
