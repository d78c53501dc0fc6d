import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, Command, END, interrupt, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";
import { EngramCheckpointer } from "./checkpointer.js";
import { createPostgresSaver } from "./postgres_saver.js";

// keepLast on a graph that calls a subgraph every turn, over both savers Engram prunes, each on a
// real database. Each subgraph call writes its checkpoints under a namespace of its own
// ("node:<task id>"): kept per namespace, every call's newest checkpoints stayed for ever, and a
// thread grew by a namespace a turn whatever keepLast said. A subgraph compiled with
// `checkpointer: true` keeps its state across calls under a namespace without task ids: never a
// call's history, whatever its age. Nothing is filed here (no user_id):
// the Memory is only the checkpointer's state (test embeddings, never called).

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
  pgUrl = await freshDatabase(postgres.url, "engram_retention_subgraph");
});
afterAll(async () => {
  await postgres?.stop();
});

const cfg = (threadId: string): RunnableConfig => ({ configurable: { thread_id: threadId } });

/** The subgraph namespaces of a thread that still hold checkpoints. */
async function subgraphNamespaces(engram: EngramCheckpointer, threadId: string): Promise<string[]> {
  const found = new Set<string>();
  for await (const tuple of engram.list(cfg(threadId))) {
    const ns = tuple.config.configurable?.checkpoint_ns;
    if (typeof ns === "string" && ns !== "") found.add(ns);
  }
  return [...found];
}

describe.each(["sqlite", "postgres"] as const)("keepLast with a subgraph over %s", (kind) => {
  it("deletes the namespaces of subgraph calls older than every root checkpoint kept; keeps an interrupted call that a resume needs and a checkpointer: true subgraph's state", async () => {
    const name = `sub_${kind}`;
    const memory = memories.open(name, { prefix: name, embeddings: new HashEmbeddings() });
    const saver = kind === "postgres" ? await createPostgresSaver(pgUrl, { schema: name }) : undefined;
    const engram = new EngramCheckpointer({
      memory,
      ...(saver ? { saver } : {}),
      databasePath: join(memories.chroma.dir, `${name}.sqlite`),
      retention: { keepLast: 2 },
    });
    cleanup.push(async () => {
      await engram.close();
      await saver?.end();
    });

    // The subgraph answers each turn; on "ask" it first waits for the user (interrupt).
    const subgraph = new StateGraph(MessagesAnnotation)
      .addNode("answer", (state) => {
        const last = state.messages[state.messages.length - 1]!.text;
        const extra = last === "ask" ? ` (approved: ${String(interrupt("approve?"))})` : "";
        return { messages: [new AIMessage(`sub reply to ${last}${extra}`)] };
      })
      .addEdge(START, "answer")
      .addEdge("answer", END)
      .compile();
    // A subgraph with a history of its own across calls (checkpointer: true): it counts its calls.
    const Notes = Annotation.Root({ ...MessagesAnnotation.spec, calls: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });
    const notes = new StateGraph(Notes)
      .addNode("count", (state) => ({ calls: 1, messages: [new AIMessage(`note call ${state.calls + 1}`)] }))
      .addEdge(START, "count")
      .addEdge("count", END)
      .compile({ checkpointer: true });
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("sub", subgraph)
      .addNode("notes", notes)
      .addConditionalEdges(START, (state) => (state.messages[state.messages.length - 1]!.text === "note" ? "notes" : "sub"), ["sub", "notes"])
      .addEdge("sub", END)
      .addEdge("notes", END)
      .compile({ checkpointer: engram });

    await graph.invoke({ messages: [new HumanMessage("note")] }, cfg("t"));
    for (let turn = 1; turn <= 5; turn += 1) await graph.invoke({ messages: [new HumanMessage(`turn ${turn}`)] }, cfg("t"));
    expect((await subgraphNamespaces(engram, "t")).length).toBe(6); // one per call, and the notes' own
    expect(await subgraphNamespaces(engram, "t")).toContain("notes");
    await engram.prune();
    // The 2 root checkpoints kept are the last turn's: only its call is not history. The notes'
    // history is their state, however old.
    expect((await subgraphNamespaces(engram, "t")).sort()).toEqual(expect.arrayContaining(["notes"]));
    expect((await subgraphNamespaces(engram, "t")).filter((ns) => ns !== "notes").length).toBeLessThanOrEqual(1);

    // A call interrupted inside the subgraph: prune while it waits, then resume it.
    const before = await subgraphNamespaces(engram, "t");
    await graph.invoke({ messages: [new HumanMessage("ask")] }, cfg("t"));
    expect((await graph.getState(cfg("t"))).tasks[0]?.interrupts).toHaveLength(1);
    const pending = (await subgraphNamespaces(engram, "t")).filter((ns) => !before.includes(ns));
    expect(pending).toHaveLength(1);
    await engram.prune();
    expect(await subgraphNamespaces(engram, "t")).toContain(pending[0]);
    await graph.invoke(new Command({ resume: "yes" }), cfg("t"));

    // Turns go on: the thread holds at most the newest call's namespace after each prune.
    for (let turn = 6; turn <= 8; turn += 1) {
      await graph.invoke({ messages: [new HumanMessage(`turn ${turn}`)] }, cfg("t"));
      await engram.prune();
      expect((await subgraphNamespaces(engram, "t")).filter((ns) => ns !== "notes").length).toBeLessThanOrEqual(1);
    }
    const final = await graph.invoke({ messages: [new HumanMessage("note")] }, cfg("t"));
    expect(final.messages.map((m) => m.text)).toEqual([
      "note",
      "note call 1",
      ...[1, 2, 3, 4, 5].flatMap((turn) => [`turn ${turn}`, `sub reply to turn ${turn}`]),
      "ask",
      "sub reply to ask (approved: yes)",
      ...[6, 7, 8].flatMap((turn) => [`turn ${turn}`, `sub reply to turn ${turn}`]),
      "note",
      "note call 2",
    ]);
  });
});
