import { beforeAll, describe, expect, it } from "@jest/globals";
import { createRetrieverTool } from "@langchain/classic/tools/retriever";
import type { DocumentInterface } from "@langchain/core/documents";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";
import { fakeModel } from "@langchain/core/testing";
// Importing LangGraph sets up the async context that carries a run's config into nested calls.
import "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { isEngramError } from "../../core/errors.js";
import type { Memory } from "../../memory/memory.js";
import { testMemories } from "../../tests/memories.js";
import { countTokens } from "../../working/tokens.js";
import { EngramRetriever } from "./retriever.js";

const memories = testMemories();
let memory: Memory;

const PEANUTS = "Alice is allergic to peanuts and always carries an EpiPen.";
const PEANUTS_AGAIN = "The user Alice is allergic to peanuts and always carries an EpiPen!";
const BOB_PEANUTS = "Bob is allergic to shellfish and peanuts.";

const alice = { configurable: { user_id: "alice" } };
const bob = { configurable: { user_id: "bob" } };

beforeAll(async () => {
  memory = memories.open("data");
  await memory.add(PEANUTS, { userId: "alice", kind: "fact", importance: 0.9 });
  await memory.add(PEANUTS_AGAIN, { userId: "alice", kind: "fact" });
  for (const text of [
    "Alice is training for the Berlin marathon in September.",
    "Alice's cat is called Miso and sleeps on the piano.",
    "Alice works as a data engineer at a logistics company and mostly writes Python.",
    "Alice prefers aisle seats on long flights.",
    "Alice's favourite band is Radiohead; she saw them live in 2017.",
  ]) {
    await memory.add(text, { userId: "alice", kind: "fact" });
  }
  await memory.add(
    [
      new HumanMessage({ id: "m1", content: "I'm flying to Tokyo next Tuesday for a robotics conference." }),
      new AIMessage({ id: "m2", content: "Have a great trip to Tokyo!" }),
    ],
    { userId: "alice", threadId: "travel" },
  );
  await memory.add(BOB_PEANUTS, { userId: "bob", kind: "fact" });
});

const texts = (docs: DocumentInterface[]): string[] => docs.map((d) => d.pageContent);

describe("EngramRetriever against a real Chroma server", () => {
  it("returns the paraphrased memory first, at most k, with score parts and source ids", async () => {
    const retriever = new EngramRetriever({ memory, k: 3 });
    const docs = await retriever.invoke("Which foods could give her a dangerous reaction?", alice);
    expect(docs).toHaveLength(3);
    expect(docs[0]!.pageContent).toBe(PEANUTS);
    expect(docs[0]!.metadata).toMatchObject({ kind: "fact", importance: 0.9 });
    expect(docs[0]!.id).toBe(docs[0]!.metadata.id);
    expect(Object.keys(docs[0]!.metadata.scoreParts).sort()).toEqual(["importance", "lexical", "neighbour", "recency", "relevance"]);
    expect(docs.map((d) => d.metadata.score)).toEqual([...docs.map((d) => d.metadata.score)].sort((a, b) => b - a));

    // The user's own turn answers; the assistant's "Have a great trip to Tokyo!" only echoes it,
    // and keeps half its score (ranker.assistant).
    const trip = await retriever.invoke("When is she travelling to Japan?", alice);
    expect(trip[0]!.metadata).toMatchObject({ kind: "episode", threadId: "travel", messageIds: ["m1"], role: "user" });
    expect(typeof trip[0]!.metadata.createdAt).toBe("number");
    // Ranked as an equal, the echo comes up with it, with its own source ids.
    const equal = await new EngramRetriever({ memory, k: 3, ranker: { assistant: 1 } }).invoke("When is she travelling to Japan?", alice);
    expect(equal.slice(0, 2).map((d) => d.metadata).sort((a, b) => String(a.role).localeCompare(String(b.role)))).toMatchObject([
      { kind: "episode", threadId: "travel", messageIds: ["m2"], role: "assistant" },
      { kind: "episode", threadId: "travel", messageIds: ["m1"], role: "user" },
    ]);
  });

  it("suppresses near duplicates unless told to keep them", async () => {
    const deduped = await new EngramRetriever({ memory, k: 4 }).invoke("peanut allergy EpiPen", alice);
    expect(texts(deduped)).toContain(PEANUTS);
    expect(texts(deduped)).not.toContain(PEANUTS_AGAIN);

    const all = await new EngramRetriever({ memory, k: 4, dedupeThreshold: 1 }).invoke("peanut allergy EpiPen", alice);
    expect(texts(all).slice(0, 2).sort()).toEqual([PEANUTS, PEANUTS_AGAIN].sort());
  });

  it("honours a token budget: the kept texts fit it, a long one is skipped for shorter ones", async () => {
    const free = await new EngramRetriever({ memory, k: 4 }).invoke("What does Alice do for work and fun?", alice);
    const budget = 30;
    const docs = await new EngramRetriever({ memory, k: 4, maxTokens: budget }).invoke("What does Alice do for work and fun?", alice);
    const used = docs.reduce((sum, d) => sum + countTokens(d.pageContent), 0);
    expect(used).toBeLessThanOrEqual(budget);
    expect(docs.length).toBeGreaterThan(0);
    // Something the unbudgeted call returned did not fit.
    expect(free.reduce((sum, d) => sum + countTokens(d.pageContent), 0)).toBeGreaterThan(budget);
    expect(texts(docs)).not.toEqual(texts(free));
  });

  it("passes its ranker weights to the core ranker", async () => {
    const lexicalOnly = new EngramRetriever({ memory, k: 3, ranker: { relevance: 0, lexical: 1, recency: 0, importance: 0, neighbour: 0, session: 0 } });
    const docs = await lexicalOnly.invoke("Radiohead", alice);
    expect(docs[0]!.pageContent).toContain("Radiohead");
    for (const doc of docs) expect(doc.metadata.score).toBeCloseTo(doc.metadata.scoreParts.lexical, 6);
  });

  it("never returns another user's memory, and needs a user", async () => {
    const retriever = new EngramRetriever({ memory, k: 10 });
    const forBob = await retriever.invoke("Which foods could give her a dangerous reaction?", bob);
    expect(texts(forBob)).toEqual([BOB_PEANUTS]);
    const forAlice = await retriever.invoke("shellfish allergy", alice);
    expect(texts(forAlice)).not.toContain(BOB_PEANUTS);
    // Concurrent calls for two users each get their own.
    const [a, b] = await Promise.all([retriever.invoke("allergy", alice), retriever.invoke("allergy", bob)]);
    expect(texts(a)).not.toContain(BOB_PEANUTS);
    expect(texts(b)).toEqual([BOB_PEANUTS]);

    const missing = await retriever.invoke("allergy").then(() => undefined, (e: unknown) => e);
    expect(isEngramError(missing, "INVALID_USER_ID")).toBe(true);
    const bound = new EngramRetriever({ memory, userId: "alice" });
    expect(texts(await bound.invoke("allergy"))).toContain(PEANUTS);
    const crossed = await bound.invoke("allergy", bob).then(() => undefined, (e: unknown) => e);
    expect(isEngramError(crossed, "INVALID_USER_ID")).toBe(true);
  });

  it("refuses bad options when built", () => {
    expect(() => new EngramRetriever({ memory, k: 0 })).toThrow("k must be a positive integer");
    expect(() => new EngramRetriever({ memory, maxTokens: -5 })).toThrow("maxTokens must be a positive integer");
    expect(() => new EngramRetriever({ memory, dedupeThreshold: 0 })).toThrow("dedupeThreshold");
    expect(() => new EngramRetriever({ memory, ranker: { lexical: -1 } })).toThrow("ranker.lexical");
    expect(() => new EngramRetriever({ memory, userId: "" })).toThrow("userId must not be empty");
    // Checked when built too, not on every retrieval (where a chain would fail at its first call).
    expect(() => new EngramRetriever({ memory, threshold: 5 })).toThrow("threshold must be a number from 0 to 1");
    expect(() => new EngramRetriever({ memory, filters: { kinds: "fact" } as never })).toThrow('"kinds"');
    expect(() => new EngramRetriever({ memory, filters: { kind: "facts" as never } })).toThrow("kind must be one of");
  });

  it("feeds an LCEL chain: the model's prompt holds the user's memory", async () => {
    const model = fakeModel().respond(new AIMessage("Avoid peanuts."));
    const prompt = ChatPromptTemplate.fromMessages([
      ["system", "Answer with the help of what you remember about the user:\n{context}"],
      ["human", "{question}"],
    ]);
    const retriever = new EngramRetriever({ memory, k: 2 });
    const chain = RunnableSequence.from([
      { context: retriever.pipe((docs: DocumentInterface[]) => docs.map((d) => `- ${d.pageContent}`).join("\n")), question: new RunnablePassthrough() },
      prompt,
      model,
      new StringOutputParser(),
    ]);
    expect(await chain.invoke("What should I leave out when I cook for her?", alice)).toBe("Avoid peanuts.");
    const system = model.calls[0]!.messages[0]!.text;
    expect(system).toContain(`- ${PEANUTS}`);
    expect(system).not.toContain("Bob");
  });

  it("works as an agent tool (createRetrieverTool): the user comes from the run's config", async () => {
    const recall = createRetrieverTool(new EngramRetriever({ memory, k: 2 }), {
      name: "recall_memories",
      description: "Search what you remember about the user.",
    });
    const model = fakeModel()
      .respondWithTools([{ name: "recall_memories", args: { query: "Which foods could give her a dangerous reaction?" } }])
      .respond(new AIMessage("Peanuts."))
      .respondWithTools([{ name: "recall_memories", args: { query: "Which foods could give her a dangerous reaction?" } }])
      .respond(new AIMessage("Shellfish and peanuts."));
    const agent = createReactAgent({ llm: model, tools: [recall] });
    await agent.invoke({ messages: [new HumanMessage("What must I never cook for her?")] }, alice);
    await agent.invoke({ messages: [new HumanMessage("What must I never cook for him?")] }, bob);
    const seen = (call: number) => model.calls[call]!.messages.filter((m) => ToolMessage.isInstance(m)).map((m) => m.text).join("\n");
    expect(seen(1)).toContain(PEANUTS);
    expect(seen(1)).not.toContain(BOB_PEANUTS);
    expect(seen(3)).toBe(BOB_PEANUTS);
  });
});
