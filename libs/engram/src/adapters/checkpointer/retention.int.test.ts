import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import pg from "pg";
import { Embeddings } from "@langchain/core/embeddings";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { MemorySaver, type BaseCheckpointSaver, type Checkpoint } from "@langchain/langgraph-checkpoint";
import { codeOfSync } from "../../tests/runs.js";
import type { Memory } from "../../memory/memory.js";
import type { MemoryOptions } from "../../memory/options.js";
import { testMemories } from "../../tests/memories.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { waitFor } from "../../tests/wait.js";
import { EngramCheckpointer } from "./checkpointer.js";
import type { EngramCheckpointerOptions } from "./options.js";
import { createPostgresSaver, type PostgresCheckpointSaver } from "./postgres_saver.js";

// Checkpoint retention over both savers Engram prunes, each on a real database: SqliteSaver (the
// default saver, a file in a temporary folder) and PostgresSaver (a private PostgreSQL cluster
// started for this suite), with a real Memory (Chroma server, local embedding model).

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const memories = testMemories();
let postgres: TestPostgres | undefined;
let pgUrl = "";
beforeAll(async () => {
  postgres = await startPostgres();
  pgUrl = await freshDatabase(postgres.url, "engram_retention");
});
afterAll(async () => {
  await postgres?.stop();
});

let made = 0;

type Kind = "sqlite" | "postgres";

/** A checkpointer over a fresh saver of the kind (its own SQLite file or PostgreSQL schema), on a fresh Memory. */
async function setUp(
  kind: Kind,
  options: Omit<EngramCheckpointerOptions, "memory" | "saver" | "databasePath"> = {},
  memoryOptions: Omit<MemoryOptions, "dataDir"> = {},
): Promise<{ engram: EngramCheckpointer; memory: Memory; schema: string; saver?: PostgresCheckpointSaver }> {
  const name = `ret${made++}`;
  const memory = memories.open(name, { prefix: name, ...memoryOptions });
  const saver = kind === "postgres" ? await createPostgresSaver(pgUrl, { schema: name }) : undefined;
  const engram = new EngramCheckpointer({
    memory,
    ...(saver ? { saver } : {}),
    databasePath: join(memories.chroma.dir, `${name}.sqlite`),
    ...options,
  });
  // Checkpointers close before the savers they use, and both before the suite's memories.
  cleanup.push(async () => {
    await engram.close();
    await saver?.end().catch(() => undefined); // a test may have ended it already
  });
  return { engram, memory, schema: name, ...(saver ? { saver } : {}) };
}

/** PostgresSaver's blob rows of a thread: how many, and how many no checkpoint names any more. */
async function blobRows(schema: string, threadId: string): Promise<{ total: number; unreferenced: number }> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ total: string; unreferenced: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE NOT EXISTS (
         SELECT 1 FROM "${schema}".checkpoints c WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
           AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)) AS unreferenced
       FROM "${schema}".checkpoint_blobs b WHERE b.thread_id = $1`,
      [threadId],
    );
    return { total: Number(rows[0]!.total), unreferenced: Number(rows[0]!.unreferenced) };
  } finally {
    await client.end();
  }
}

function cfg(threadId: string, userId?: string): RunnableConfig {
  return { configurable: userId === undefined ? { thread_id: threadId } : { thread_id: threadId, user_id: userId } };
}

async function checkpointIds(engram: EngramCheckpointer, threadId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const tuple of engram.list({ configurable: { thread_id: threadId, checkpoint_ns: "" } })) ids.push(tuple.checkpoint.id);
  return ids;
}

/** A chat graph without a model: each turn the assistant answers "Reply N to: <text>". */
function chatGraph(engram: EngramCheckpointer) {
  return new StateGraph(MessagesAnnotation)
    .addNode("assistant", (state) => {
      const last = state.messages[state.messages.length - 1]!;
      return { messages: [new AIMessage(`Reply ${state.messages.length} to: ${last.text}`)] };
    })
    .addEdge(START, "assistant")
    .addEdge("assistant", END)
    .compile({ checkpointer: engram });
}

const texts = (messages: BaseMessage[]) => messages.map((m) => m.text);

describe.each<Kind>(["sqlite", "postgres"])("retention over %s", (kind) => {
  it("keepLast keeps the newest N checkpoints of each thread; the thread stays whole and the next turn continues it", async () => {
    const { engram, schema } = await setUp(kind, { retention: { keepLast: 2 } });
    const graph = chatGraph(engram);
    for (let turn = 1; turn <= 4; turn += 1) await graph.invoke({ messages: [new HumanMessage(`long ${turn}`)] }, cfg("long"));
    await graph.invoke({ messages: [new HumanMessage("short 1")] }, cfg("short"));
    const before = await checkpointIds(engram, "long");
    expect(before.length).toBeGreaterThanOrEqual(8); // input + step per turn at least
    expect((await checkpointIds(engram, "short")).length).toBe(3);

    const blobsBefore = kind === "postgres" ? await blobRows(schema, "long") : undefined;
    const result = await engram.prune();
    expect(result.expired).toEqual([]);
    if (blobsBefore) {
      // The blobs only pruned checkpoints named are gone; every blob left is named by a checkpoint.
      const after = await blobRows(schema, "long");
      expect(blobsBefore.unreferenced).toBe(0);
      expect(after.unreferenced).toBe(0);
      expect(after.total).toBeLessThan(blobsBefore.total);
    }
    // 'short' had 3: one pruned there, and all but 2 of 'long'.
    expect(result.pruned).toBe(before.length - 2 + 1);
    expect(await checkpointIds(engram, "long")).toEqual(before.slice(0, 2));
    expect((await checkpointIds(engram, "short")).length).toBe(2);

    // The newest checkpoint still holds every message (in PostgreSQL, channel blobs that older
    // checkpoints stored and the newest carries over are kept).
    const latest = await engram.getTuple(cfg("long"));
    expect(texts(latest!.checkpoint.channel_values.messages as BaseMessage[])).toHaveLength(8);
    const next = await graph.invoke({ messages: [new HumanMessage("long 5")] }, cfg("long"));
    expect(texts(next.messages)).toEqual([
      "long 1", "Reply 1 to: long 1", "long 2", "Reply 3 to: long 2", "long 3", "Reply 5 to: long 3",
      "long 4", "Reply 7 to: long 4", "long 5", "Reply 9 to: long 5",
    ]);
    // A second prune finds only the new turn's extra checkpoints.
    expect(await checkpointIds(engram, "long")).toHaveLength(5);
    expect((await engram.prune()).pruned).toBe(3);
    expect((await checkpointIds(engram, "long")).length).toBe(2);
  });

  it("never prunes a checkpoint holding writes that no later checkpoint consumed (a failed step of another branch)", async () => {
    const { engram } = await setUp(kind, { retention: { keepLast: 2 } });
    const put = async (parent: string | undefined, n: number): Promise<string> => {
      const checkpoint: Checkpoint = {
        v: 4,
        id: `1f0a0000-0000-6000-8000-${String(n).padStart(12, "0")}`,
        ts: new Date().toISOString(),
        channel_values: { counter: n },
        channel_versions: { counter: n },
        versions_seen: {},
      };
      const config = { configurable: { thread_id: "forked", checkpoint_ns: "", ...(parent ? { checkpoint_id: parent } : {}) } };
      const stored = await engram.put(config, checkpoint, { source: "loop", step: n, parents: {} }, { counter: n });
      return stored.configurable!.checkpoint_id as string;
    };
    const c1 = await put(undefined, 1);
    const c2 = await put(c1, 2);
    const fork = await put(c2, 3); // a branch whose step wrote, then failed
    await engram.putWrites({ configurable: { thread_id: "forked", checkpoint_ns: "", checkpoint_id: fork } }, [["counter", 30]], "task-1");
    const c4 = await put(c2, 4);
    const c5 = await put(c4, 5);

    expect(await engram.prune()).toEqual({ pruned: 2, expired: [] });
    expect((await checkpointIds(engram, "forked")).sort()).toEqual([fork, c4, c5].sort());
    const resumed = await engram.getTuple({ configurable: { thread_id: "forked", checkpoint_ns: "", checkpoint_id: fork } });
    expect(resumed?.pendingWrites).toEqual([["task-1", "counter", 30]]);
    expect(resumed?.checkpoint.channel_values).toEqual({ counter: 3 });
    expect((await engram.getTuple(cfg("forked")))?.checkpoint.channel_values).toEqual({ counter: 5 });
  });

  it("a run in flight during prune resumes: its newest checkpoint and the writes of its finished task are kept", async () => {
    const { engram } = await setUp(kind, { retention: { keepLast: 1 } });
    let release!: () => void;
    let gate: Promise<void> | undefined;
    let failB = false;
    const calls = { a: 0, b: 0 };
    const State = Annotation.Root({ log: Annotation<string[]>({ reducer: (x, y) => x.concat(y), default: () => [] }) });
    const graph = new StateGraph(State)
      .addNode("a", () => {
        calls.a += 1;
        return { log: [`a${calls.a}`] };
      })
      .addNode("b", async () => {
        calls.b += 1;
        if (gate) await gate;
        if (failB) throw new Error("b failed");
        return { log: [`b${calls.b}`] };
      })
      .addEdge(START, "a")
      .addEdge(START, "b")
      .addEdge("a", END)
      .addEdge("b", END)
      .compile({ checkpointer: engram });
    // History to prune.
    for (let i = 0; i < 3; i += 1) await graph.invoke({ log: [`run${i}`] }, cfg("busy"));

    gate = new Promise<void>((resolve) => (release = resolve));
    failB = true;
    const run = graph.invoke({ log: ["run3"] }, cfg("busy")).then(
      () => "finished",
      (error: Error) => error.message,
    );
    // Wait until node a's result is stored as a pending write of the run's newest checkpoint.
    const aWrote = (writes: Array<[string, string, unknown]> | undefined) =>
      (writes ?? []).some(([, channel, value]) => channel === "log" && JSON.stringify(value) === JSON.stringify([`a${calls.a}`]));
    while (calls.a < 4 || !aWrote((await engram.getTuple(cfg("busy")))?.pendingWrites)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const newest = (await engram.getTuple(cfg("busy")))!.checkpoint.id;
    const pruned = await engram.prune();
    expect(pruned.pruned).toBeGreaterThan(0);
    expect(await checkpointIds(engram, "busy")).toEqual([newest]);

    release();
    expect(await run).toBe("b failed");
    failB = false;
    gate = undefined;
    const aBefore = calls.a;
    const resumed = await graph.invoke(null, cfg("busy"));
    expect(calls.a).toBe(aBefore); // a's write survived the prune: a is not run again
    expect(resumed.log.filter((entry: string) => entry.startsWith("run"))).toEqual(["run0", "run1", "run2", "run3"]);
    // The interrupted run's step ends with a's stored result and b's new one, once each.
    expect(resumed.log.slice(resumed.log.indexOf("run3") + 1).sort()).toEqual([`a${aBefore}`, `b${calls.b}`].sort());
  });

  it("runs on several threads while prune runs again and again: every turn is kept and every thread stays whole", async () => {
    const { engram } = await setUp(kind, { retention: { keepLast: 1 } });
    const graph = chatGraph(engram);
    const threads = ["p1", "p2", "p3", "p4"];
    let pruned = 0;
    // Each round: a turn on every thread and a prune, all at once (and a second prune midway).
    for (let turn = 1; turn <= 5; turn += 1) {
      const prunes = [engram.prune(), new Promise((resolve) => setImmediate(resolve)).then(() => engram.prune())];
      await Promise.all(threads.map((thread) => graph.invoke({ messages: [new HumanMessage(`${thread} turn ${turn}`)] }, cfg(thread))));
      for (const result of await Promise.all(prunes)) pruned += result.pruned;
    }
    expect(pruned).toBeGreaterThan(0);
    for (const thread of threads) {
      const state = await graph.getState(cfg(thread));
      expect(texts(state.values.messages as BaseMessage[]).filter((text) => !text.startsWith("Reply"))).toEqual(
        [1, 2, 3, 4, 5].map((turn) => `${thread} turn ${turn}`),
      );
      expect(state.values.messages).toHaveLength(10);
    }
  });

  it("expires a thread idle longer than idleTtlMs after filing its messages: Memory.search still finds them, deleteThread still erases them", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The real local model, held back so the filing is still waiting when prune() starts.
    const { embeddings } = memories;
    class GatedEmbeddings extends Embeddings {
      constructor() {
        super({});
      }
      async embedDocuments(texts: string[]): Promise<number[][]> {
        await gate;
        return embeddings.embedDocuments(texts);
      }
      async embedQuery(text: string): Promise<number[]> {
        await gate;
        return embeddings.embedQuery(text);
      }
    }
    let now = Date.now;
    const ttl = 60 * 60_000;
    const { engram, memory } = await setUp(kind, { retention: { idleTtlMs: ttl }, clock: () => now() }, { embeddings: new GatedEmbeddings() });
    const graph = chatGraph(engram);
    await graph.invoke({ messages: [new HumanMessage("My passport number ends in 4471.")] }, cfg("old", "alice"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const between = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await graph.invoke({ messages: [new HumanMessage("I am learning the cello.")] }, cfg("fresh", "alice"));

    now = () => between + ttl; // an hour later for 'old'; 'fresh' is younger than the cutoff
    const pruning = engram.prune();
    release();
    expect(await pruning).toEqual({ pruned: 0, expired: ["old"] });
    expect(await engram.getTuple(cfg("old"))).toBeUndefined();
    expect(await engram.getTuple(cfg("fresh"))).toBeDefined();
    // Filed by prune() itself before the thread went (no flush was called).
    const hits = await memory.search("What does my passport number end in?", { userId: "alice", limit: 3 });
    const fromOld = hits.filter((hit) => hit.scope.threadId === "old").map((hit) => hit.content);
    expect(fromOld).toContain("My passport number ends in 4471.");
    expect(await engram.prune()).toEqual({ pruned: 0, expired: [] });

    await engram.deleteThread("old");
    expect(await memory.getAll({ userId: "alice", threadId: "old" })).toEqual([]);
    expect((await memory.getAll({ userId: "alice", threadId: "fresh" })).length).toBe(2);
  });

  it("the background sweep prunes on its own and reports a failure as a warning, never an unhandled rejection", async () => {
    const warnings: string[] = [];
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    // The app's handler throws (a logger whose stream is closed): still no unhandled rejection.
    const onWarning = (message: string): void => {
      warnings.push(message);
      throw new Error("the log stream is closed");
    };
    try {
      const { engram, saver } = await setUp(kind, { retention: { keepLast: 1, sweepEveryMs: 20 }, onWarning });
      const graph = chatGraph(engram);
      for (let turn = 1; turn <= 3; turn += 1) await graph.invoke({ messages: [new HumanMessage(`turn ${turn}`)] }, cfg("swept"));
      // Until the sweep has run (not a fixed number of polls: a loaded machine runs it late).
      await waitFor(async () => (await checkpointIds(engram, "swept")).length <= 1);
      expect((await checkpointIds(engram, "swept")).length).toBe(1);
      expect(warnings).toEqual([]);

      // Break the saver's database under the sweep.
      if (saver) await saver.end();
      else (await engram.getSaver() as unknown as { db: { close(): void } }).db.close();
      await waitFor(() => warnings.length > 0);
      expect(warnings[0]).toMatch(/checkpoint retention sweep failed/);
      await engram.close();
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });

  it("over PostgresSaver and SqliteSaver alike, deleteThread removes the checkpoints and the thread's memories", async () => {
    const { engram, memory } = await setUp(kind);
    const graph = chatGraph(engram);
    await graph.invoke({ messages: [new HumanMessage("I am allergic to peanuts.")] }, cfg("t1", "alice"));
    await graph.invoke({ messages: [new HumanMessage("I live in Lisbon.")] }, cfg("t2", "alice"));
    await engram.flush();
    expect((await memory.getAll({ userId: "alice", threadId: "t1" })).length).toBe(2);
    await engram.deleteThread("t1");
    expect(await engram.getTuple(cfg("t1"))).toBeUndefined();
    expect(await memory.getAll({ userId: "alice", threadId: "t1" })).toEqual([]);
    expect((await memory.getAll({ userId: "alice", threadId: "t2" })).length).toBe(2);
    expect(await engram.getTuple(cfg("t2"))).toBeDefined();
  });
});

describe("retention options", () => {
  it("are refused with INVALID_OPTIONS before anything is stored", async () => {
    const memory = memories.open("options", { prefix: "options" });
    const bad: unknown[] = [{ keepLast: 0 }, { keepLast: 1.5 }, { idleTtlMs: -1 }, { sweepEveryMs: 10 }, { keepLast: 1, sweepEveryMs: 2 ** 31 }, { keepLast: 1, keep: 2 }, "7", null];
    for (const retention of bad) {
      expect(codeOfSync(() => new EngramCheckpointer({ memory, retention: retention as EngramCheckpointerOptions["retention"] }))).toBe("INVALID_OPTIONS");
    }
    // A saver whose tables Engram does not know cannot be pruned: said at construction.
    const inner: BaseCheckpointSaver = new MemorySaver();
    expect(codeOfSync(() => new EngramCheckpointer({ memory, saver: inner, retention: { keepLast: 3 } }))).toBe("INVALID_OPTIONS");
    // Off by default: prune() deletes nothing.
    const plain = new EngramCheckpointer({ memory, saver: inner });
    expect(await plain.prune()).toEqual({ pruned: 0, expired: [] });
    await plain.close();
  });
});
