import { join } from "node:path";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { summarize } from "../consolidation/summarize.js";
import type { Memory } from "../memory/memory.js";
import { startInspector, type Inspector } from "../ui/server.js";
import type { TestMemories } from "./memories.js";
import { UsageChatModel } from "./usage_model.js";

const DAY = 86_400_000;

/** What the inspector tests look for in the fixture data. */
export interface InspectorFixture {
  /** Ids by a short name. */
  ids: Record<"miso" | "coffee" | "lisbon" | "promotion" | "oldTea", string>;
}

/**
 * Two users' memories over several days, threads and kinds, with importance that differs from the
 * semantic order of the query "cat" (the most important memory is about a promotion), and some
 * token usage from a summary call, so every part of the inspector has something to show.
 */
export async function seedInspectorData(memory: Memory, now: number, travel: (at: number) => void): Promise<InspectorFixture> {
  const add = async (text: string, userId: string, extra: { threadId?: string; kind?: "episode" | "fact" | "summary" | "procedure"; importance: number; daysAgo: number }) => {
    travel(now - extra.daysAgo * DAY);
    const { results } = await memory.add(text, {
      userId,
      ...(extra.threadId ? { threadId: extra.threadId } : {}),
      kind: extra.kind ?? "episode",
      importance: extra.importance,
    });
    return results[0]!.id;
  };
  const miso = await add("My cat Miso knocked my coffee over again this morning", "alice", { threadId: "t-home", importance: 0.4, daysAgo: 0 });
  const coffee = await add("I switched to decaf coffee after the doctor's advice", "alice", { threadId: "t-home", importance: 0.5, daysAgo: 1 });
  const lisbon = await add("Alice moved to Lisbon in March 2024 with her partner Ines", "alice", { kind: "fact", importance: 0.7, daysAgo: 5 });
  const promotion = await add("Alice got promoted to head of nursing at Santa Maria hospital", "alice", { threadId: "t-work", importance: 0.95, daysAgo: 3 });
  const oldTea = await add("Alice used to drink green tea every afternoon", "alice", { kind: "fact", importance: 0.2, daysAgo: 20 });
  await add("Always answer Alice in short paragraphs", "alice", { kind: "procedure", importance: 0.6, daysAgo: 9 });
  for (let i = 0; i < 12; i += 1) {
    await add(`Small talk number ${i} about the weather in Lisbon`, "alice", { threadId: "t-chat", importance: (i % 10) / 10, daysAgo: (i * 7) % 15 });
  }
  await add("Bob plays the cello in a community orchestra", "bob", { threadId: "t-bob", importance: 0.6, daysAgo: 2 });
  // Token usage of a summary, as the graph's consolidate node would report it.
  const model = new UsageChatModel(() => "Alice has a cat named Miso and drinks decaf.");
  await summarize({
    previousSummary: "",
    evicted: [new HumanMessage({ content: "My cat Miso knocked my coffee over", id: "m1" }), new AIMessage({ content: "Oh no!", id: "m2" })],
    model,
    onUsage: memory.usageHook("summary", "alice"),
  });
  travel(now);
  await memory.flush();
  return { ids: { miso, coffee, lisbon, promotion, oldTea } };
}

/** The fixture and the two inspectors the inspector suites run against. */
export interface SeededInspectors {
  fixture: InspectorFixture;
  /** Without --allow-edit. */
  readOnly: Inspector;
  /** With --allow-edit, on the same data folder. */
  editable: Inspector;
}

/**
 * Seeds the fixture (dated back from `now`) into the data folder "app" of the suite's server, then
 * starts a read-only and an editable inspector on it. The caller closes the inspectors.
 */
export async function startSeededInspectors(memories: TestMemories, now: number): Promise<SeededInspectors> {
  let clock = now;
  // Entity tagging on (off by default): the record page shows a record's entities.
  const seeding = memories.open("app", { clock: () => clock, writes: "sync", entities: { extract: true } });
  const fixture = await seedInspectorData(seeding, now, (at) => (clock = at));
  await seeding.close();
  const options = { dataDir: join(memories.chroma.dir, "app"), chromaUrl: memories.chroma.server.url, embeddings: memories.embeddings };
  const readOnly = await startInspector(options);
  const editable = await startInspector({ ...options, allowEdit: true });
  return { fixture, readOnly, editable };
}
