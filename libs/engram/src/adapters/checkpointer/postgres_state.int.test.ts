import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint } from "@langchain/langgraph-checkpoint";
import { EngramError, isEngramError } from "../../core/errors.js";
import type { Memory } from "../../memory/memory.js";
import { PostgresState } from "../../state/postgres/index.js";
import type { StateBackend } from "../../state/types.js";
import { testMemories } from "../../tests/memories.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { CHECKPOINTS_FILE_NAME, EngramCheckpointer } from "./checkpointer.js";
import { createPostgresSaver, type PostgresCheckpointSaver } from "./postgres_saver.js";
import type { CheckpointRetention } from "./retention.js";

// A deployment of several replicas: checkpoints in PostgresSaver and Memory's shared state in
// PostgreSQL (a real cluster started for the suite), records on one Chroma server. Each "replica"
// is a Memory, a PostgresSaver (its own pool) and an EngramCheckpointer of its own.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const closing: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const step of closing.reverse()) await step().catch(() => undefined);
});

const memories = testMemories();
let postgres: TestPostgres | undefined;
let url = "";
beforeAll(async () => {
  postgres = await startPostgres();
  url = await freshDatabase(postgres.url, "engram_ckpt_state");
});
afterAll(async () => {
  await postgres?.stop();
});

let replicas = 0;

/**
 * One replica. By default its checkpointer keeps the filing log in its Memory's state; a replica
 * that is to "die" (its Memory closed under it) is given the same database as a state of its own,
 * which closing the Memory leaves open.
 */
async function replica(
  prefix: string,
  ownState = false,
  retention?: CheckpointRetention,
): Promise<{ memory: Memory; engram: EngramCheckpointer; saver: PostgresCheckpointSaver }> {
  const name = `replica${replicas++}`;
  const memory = memories.open(name, { prefix, state: { postgres: url } });
  const saver = await createPostgresSaver(url, { schema: `${prefix}_checkpoints` });
  const state = ownState ? new PostgresState({ postgres: url }) : undefined;
  const engram = new EngramCheckpointer({ memory, saver, ...(state ? { state } : {}), ...(retention ? { retention } : {}) });
  closing.push(async () => {
    await engram.close();
    await saver.end();
    await state?.close();
  });
  return { memory, engram, saver };
}

function cfg(threadId: string, userId?: string): RunnableConfig {
  return { configurable: userId === undefined ? { thread_id: threadId } : { thread_id: threadId, user_id: userId } };
}

function checkpointOf(n: number, text: string): Checkpoint {
  return {
    v: 4,
    id: `1f0b0000-0000-6000-8000-${String(n).padStart(12, "0")}`,
    ts: new Date().toISOString(),
    channel_values: { messages: [new HumanMessage({ id: `m${n}`, content: text })] },
    channel_versions: { messages: n },
    versions_seen: {},
  };
}

async function errorCode(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return isEngramError(error) ? error.code : error;
}

describe("EngramCheckpointer with PostgresSaver and Memory's PostgreSQL state", () => {
  it("keeps the filing log in the shared state: a filing one replica recorded is filed by another, and deleteThread from any replica erases the thread", async () => {
    const a = await replica("deploy1", true);
    const b = await replica("deploy1");
    // Replica a records a filing and dies before it can file it (its Memory is gone).
    await a.memory.close();
    await a.engram.put(cfg("t1", "alice"), checkpointOf(1, "I keep bees on my roof."), { source: "input", step: -1, parents: {} }, { messages: 1 });
    expect(await errorCode(a.engram.flush())).toBe("CLOSED");

    // Replica b sees a's checkpoint (PostgresSaver) and files a's waiting filing (the shared log).
    expect((await b.engram.getTuple(cfg("t1")))?.checkpoint.id).toBe(checkpointOf(1, "").id);
    expect(await b.engram.flush()).toEqual({ filed: 1, skipped: [], pending: 0 });
    const hits = await b.memory.search("What do I keep on my roof?", { userId: "alice", limit: 1 });
    expect(hits[0]?.content).toBe("I keep bees on my roof.");
    // Nothing of the checkpointer went to a local file.
    expect(existsSync(join(a.memory.dataFolder, CHECKPOINTS_FILE_NAME))).toBe(false);
    expect(existsSync(join(b.memory.dataFolder, CHECKPOINTS_FILE_NAME))).toBe(false);

    // Filed through b, erased from a third replica: the users of the thread are in the shared log.
    const c = await replica("deploy1");
    await c.engram.deleteThread("t1");
    expect(await c.engram.getTuple(cfg("t1"))).toBeUndefined();
    expect(await b.memory.getAll({ userId: "alice", threadId: "t1" })).toEqual([]);
    // The same message in a new thread with the same id is filed again (the thread was forgotten).
    await c.engram.put(cfg("t1", "alice"), checkpointOf(2, "I keep bees on my roof."), { source: "input", step: -1, parents: {} }, { messages: 2 });
    expect((await c.engram.flush()).filed).toBe(1);
  });

  it("Memory.deleteAll on any replica drops the user's filings still waiting in the shared log", async () => {
    const a = await replica("deploy2", true);
    const b = await replica("deploy2");
    await a.memory.close();
    await a.engram.put(cfg("t9", "bob"), checkpointOf(3, "My PIN is 2468."), { source: "input", step: -1, parents: {} }, { messages: 3 });
    await a.engram.put(cfg("t10", "carol"), checkpointOf(4, "I play the oboe."), { source: "input", step: -1, parents: {} }, { messages: 4 });

    await b.memory.deleteAll({ userId: "bob" });
    // Bob's checkpoints stay in the saver: his thread is nobody's until deleteThread frees it.
    expect(await errorCode(b.engram.getTuple(cfg("t9", "dave")))).toBe("INVALID_SCOPE");
    expect(await b.engram.flush()).toEqual({ filed: 1, skipped: [], pending: 0 });
    expect(await b.memory.getAll({ userId: "bob" })).toEqual([]);
    expect((await b.memory.getAll({ userId: "carol" })).map((r) => r.content)).toEqual(["I play the oboe."]);
  });
});

describe("a thread's owner across replicas", () => {
  it("a thread filed by alice through one replica refuses bob on another; deleteThread from a third frees the id", async () => {
    const a = await replica("deploy4");
    const b = await replica("deploy4");
    await a.engram.put(cfg("shared-1", "alice"), checkpointOf(8, "My bank PIN is 4711."), { source: "input", step: -1, parents: {} }, { messages: 8 });
    // Bob's run on replica b reads the thread first (LangGraph's getTuple), then would put.
    expect(await errorCode(b.engram.getTuple(cfg("shared-1", "bob")))).toBe("INVALID_SCOPE");
    expect(await errorCode(b.engram.put(cfg("shared-1", "bob"), checkpointOf(9, "Hi."), { source: "input", step: -1, parents: {} }, { messages: 9 }))).toBe("INVALID_SCOPE");
    // Alice, and a call that names no user (the app's own), still read it.
    expect((await b.engram.getTuple(cfg("shared-1", "alice")))?.checkpoint.id).toBe(checkpointOf(8, "").id);
    expect((await b.engram.getTuple(cfg("shared-1")))?.checkpoint.id).toBe(checkpointOf(8, "").id);
    await b.engram.flush();
    expect(await b.memory.getAll({ userId: "bob" })).toEqual([]);

    const c = await replica("deploy4");
    await c.engram.deleteThread("shared-1");
    await b.engram.put(cfg("shared-1", "bob"), checkpointOf(10, "Hello, I am Bob."), { source: "input", step: -1, parents: {} }, { messages: 10 });
    expect((await b.engram.getTuple(cfg("shared-1", "bob")))?.checkpoint.id).toBe(checkpointOf(10, "").id);
    expect(await errorCode(a.engram.getTuple(cfg("shared-1", "alice")))).toBe("INVALID_SCOPE");
  });
});

describe("a shared state that is down", () => {
  it("fails the filing of a put while it cannot be reached, and is tried again on the next put: nothing is lost", async () => {
    const memory = memories.open("flaky", { prefix: "flaky" });
    const saver = await createPostgresSaver(url, { schema: "flaky_checkpoints" });
    const real = new PostgresState({ postgres: url });
    let down = true;
    // The real state, whose setup fails while "down" (as when PostgreSQL cannot be reached).
    const flaky = new Proxy(real, {
      get(target, property) {
        if (property === "setup") {
          return async () => {
            if (down) throw new EngramError("STATE_UNAVAILABLE", "PostgreSQL is down");
            return target.setup();
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as StateBackend;
    const engram = new EngramCheckpointer({ memory, saver, state: flaky });
    closing.push(async () => {
      await engram.close();
      await saver.end();
      await real.close();
    });
    const first = checkpointOf(6, "I was born in Lisbon.");
    expect(await errorCode(engram.put(cfg("f1", "dana"), first, { source: "input", step: -1, parents: {} }, { messages: 6 }))).toBe("STATE_UNAVAILABLE");
    down = false;
    const second = { ...checkpointOf(7, ""), channel_values: { messages: [...(first.channel_values.messages as BaseMessage[]), new HumanMessage({ id: "m7", content: "I moved to Oslo." })] } };
    await engram.put(cfg("f1", "dana"), second, { source: "loop", step: 0, parents: {} }, { messages: 7 });
    expect(await engram.flush()).toEqual({ filed: 2, skipped: [], pending: 0 });
    expect((await memory.getAll({ userId: "dana" })).map((r) => r.content).sort()).toEqual(["I moved to Oslo.", "I was born in Lisbon."]);
  });
});

describe("retention across replicas", () => {
  it("two replicas running turns on shared threads and pruning at the same time keep every thread whole", async () => {
    const replicasOf = [await replica("deploy3", false, { keepLast: 1 }), await replica("deploy3", false, { keepLast: 1 })];
    const graphs = replicasOf.map(({ engram }) =>
      new StateGraph(MessagesAnnotation)
        .addNode("assistant", (state) => ({ messages: [new AIMessage(`Reply ${state.messages.length}`)] }))
        .addEdge(START, "assistant")
        .addEdge("assistant", END)
        .compile({ checkpointer: engram }),
    );
    const threads = ["r1", "r2", "r3"];
    let pruned = 0;
    for (let turn = 1; turn <= 4; turn += 1) {
      // Each thread's turn goes to one replica (alternating), while both prune.
      const prunes = replicasOf.map(({ engram }) => engram.prune());
      await Promise.all(threads.map((thread, i) => graphs[(i + turn) % 2]!.invoke({ messages: [new HumanMessage(`${thread} turn ${turn}`)] }, cfg(thread))));
      for (const result of await Promise.all(prunes)) pruned += result.pruned;
    }
    for (const result of await Promise.all(replicasOf.map(({ engram }) => engram.prune()))) pruned += result.pruned;
    expect(pruned).toBeGreaterThan(0);
    for (const thread of threads) {
      const state = await graphs[0]!.getState(cfg(thread));
      const texts = (state.values.messages as BaseMessage[]).map((m) => m.text);
      expect(texts.filter((text) => !text.startsWith("Reply"))).toEqual([1, 2, 3, 4].map((turn) => `${thread} turn ${turn}`));
      expect(texts).toHaveLength(8);
      let count = 0;
      for await (const _ of replicasOf[1]!.engram.list(cfg(thread))) count += 1;
      expect(count).toBe(1);
    }
  });
});

describe("createPostgresSaver", () => {
  it("refuses bad input before connecting, reports an unreachable database as STORE_UNAVAILABLE, and sets up once when replicas start together", async () => {
    expect(await errorCode(createPostgresSaver(""))).toBe("INVALID_OPTIONS");
    expect(await errorCode(createPostgresSaver(url, { schema: 'x"; DROP TABLE y; --' }))).toBe("INVALID_OPTIONS");
    expect(await errorCode(createPostgresSaver(url, { maxConnections: 1 }))).toBe("INVALID_OPTIONS");
    const closed = new URL(url);
    closed.port = "1"; // nothing listens there
    expect(await errorCode(createPostgresSaver(closed.toString()))).toBe("STORE_UNAVAILABLE");

    // PostgresSaver's own setup() is not safe when several processes race on a fresh schema
    // (CREATE TABLE / the migrations table); the factory serializes it with an advisory lock.
    const savers = await Promise.all([1, 2, 3, 4].map(() => createPostgresSaver(url, { schema: "raced" })));
    try {
      const config = { configurable: { thread_id: "r1", checkpoint_ns: "" } };
      await savers[0]!.put(config, checkpointOf(5, "hello"), { source: "input", step: -1, parents: {} }, { messages: 5 });
      expect((await savers[3]!.getTuple(config))?.checkpoint.id).toBe(checkpointOf(5, "").id);
    } finally {
      for (const saver of savers) await saver.end();
    }
  });
});
