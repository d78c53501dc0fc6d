import { beforeAll, describe, expect, it } from "@jest/globals";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { ToolInputParsingException, type StructuredToolInterface } from "@langchain/core/tools";
import { MemorySaver } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { isEngramError } from "../../core/errors.js";
import { codeOfSync } from "../../tests/runs.js";
import { blockId, CoreBlocks } from "../../memory/blocks.js";
import type { Memory } from "../../memory/memory.js";
import { testMemories } from "../../tests/memories.js";
import { createMemoryTools } from "./memory_tools.js";
import { coreMemoryPrompt } from "./prompt.js";

const memories = testMemories();
let memory: Memory;

beforeAll(() => {
  memory = memories.open("data");
});

/** A ReAct agent over the memory tools, its system prompt carrying the core blocks. */
function agent(model: ReturnType<typeof fakeModel>, blocks = new CoreBlocks(memory)) {
  const tools = createMemoryTools({ memory, blocks });
  return createReactAgent({ llm: model, tools, prompt: coreMemoryPrompt({ memory, blocks }), checkpointer: new MemorySaver() });
}

function run(userId: string, threadId: string) {
  return { configurable: { user_id: userId, thread_id: threadId } };
}

function toolMessages(messages: BaseMessage[]): ToolMessage[] {
  return messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
}

function systemText(messages: BaseMessage[]): string {
  return messages[0]!.getType() === "system" ? messages[0]!.text : "";
}

async function recordCount(userId: string): Promise<number> {
  return (await memory.getAll({ userId, limit: 1000 })).length;
}

describe("memory tools in a createReactAgent, against a real Chroma server", () => {
  it("stores a memory with archival_memory_insert in one thread and finds it in another; bob finds nothing", async () => {
    const model = fakeModel()
      // thread 1 (alice): the model decides to keep a fact.
      .respondWithTools([{ name: "archival_memory_insert", args: { content: "The user's sister Maya lives in Lisbon and works as an architect." } }])
      .respond(new AIMessage("I'll remember that."))
      // thread 2 (alice): a paraphrased question, the model searches.
      .respondWithTools([{ name: "archival_memory_search", args: { query: "Which city is her sister based in?" } }])
      .respond(new AIMessage("Your sister lives in Lisbon."))
      // thread 3 (bob): same search, and a forged user id in the arguments, which is ignored.
      .respondWithTools([{ name: "archival_memory_search", args: { query: "Which city is her sister based in?", user_id: "alice" } }])
      .respond(new AIMessage("I don't know."));
    const graph = agent(model);

    await graph.invoke({ messages: [new HumanMessage("My sister Maya lives in Lisbon, she's an architect.")] }, run("alice", "t1"));
    await graph.invoke({ messages: [new HumanMessage("Where does my sister live again?")] }, run("alice", "t2"));

    // The model's third call is thread 2 after its search: the tool message it receives holds the memory.
    const thread2 = model.calls[3]!.messages;
    expect(thread2.some((m) => m.text.includes("My sister Maya"))).toBe(false); // not from the checkpoint: a new thread
    const [found] = toolMessages(thread2);
    expect(found!.name).toBe("archival_memory_search");
    expect(found!.text).toContain("1. [");
    expect(found!.text).toContain("The user's sister Maya lives in Lisbon and works as an architect.");

    await graph.invoke({ messages: [new HumanMessage("Where does my sister live?")] }, run("bob", "t3"));
    const [bobFound] = toolMessages(model.calls[5]!.messages);
    expect(bobFound!.text).toBe('Nothing in archival memory matches "Which city is her sister based in?".');
    expect(await recordCount("bob")).toBe(0);

    // The insert kept where it was said.
    const [fact] = await memory.getAll({ userId: "alice", kind: "fact" });
    expect(fact).toMatchObject({ kind: "fact", importance: 0.8, source: { threadId: "t1" } });
    expect(fact!.scope).toEqual({ userId: "alice" });
  });

  it("puts core blocks in the system prompt, edits them with tools, and enforces their limits", async () => {
    const blocks = new CoreBlocks(memory, {
      blocks: [
        { name: "persona", initial: "I am Sam, a concise assistant." },
        { name: "human", limit: 60 },
      ],
    });
    const model = fakeModel()
      // Two appends in one message: the ToolNode runs them in parallel, both must land.
      .respondWithTools([
        { name: "core_memory_append", args: { label: "human", content: "Name: Carol." } },
        { name: "core_memory_append", args: { label: "human", content: "Diet: vegetarian." } },
      ])
      .respondWithTools([{ name: "core_memory_append", args: { label: "human", content: "Hobbies: climbing, chess, piano, pottery and sailing." } }])
      .respondWithTools([{ name: "core_memory_replace", args: { label: "human", old_content: "vegetarian", new_content: "vegan" } }])
      .respond(new AIMessage("Got it, Carol."))
      .respond(new AIMessage("Hello again, Carol."));
    const graph = agent(model, blocks);
    const id = blockId("carol", "human");

    await graph.invoke({ messages: [new HumanMessage("I'm Carol, vegetarian... actually vegan now.")] }, run("carol", "c1"));

    const first = systemText(model.calls[0]!.messages);
    expect(first).toContain("<persona>\nI am Sam, a concise assistant.\n</persona>");
    expect(first).toContain("<human>\n\n</human>");
    // The next call's prompt already shows both parallel appends.
    const second = systemText(model.calls[1]!.messages);
    expect(second).toMatch(/<human>\n(Name: Carol\.\nDiet: vegetarian\.|Diet: vegetarian\.\nName: Carol\.)\n<\/human>/);
    // The over-long append is refused with a clear message, and the block is unchanged.
    const refused = toolMessages(model.calls[2]!.messages).find((m) => m.text.includes("limited to"));
    expect(refused!.status).toBe("error");
    expect(refused!.text).toContain('Core block "human" is limited to 60 characters; this edit would make it 84.');
    expect(systemText(model.calls[2]!.messages)).not.toContain("Hobbies");
    // The replace landed, and a new thread starts with the edited block in its prompt.
    await graph.invoke({ messages: [new HumanMessage("Hi!")] }, run("carol", "c2"));
    expect(systemText(model.calls[4]!.messages)).toMatch(/<human>\n(Name: Carol\.\nDiet: vegan\.|Diet: vegan\.\nName: Carol\.)\n<\/human>/);
    expect(systemText(model.calls[4]!.messages)).not.toContain("vegetarian");
    expect((await memory.history(id, { userId: "carol" })).map((h) => h.event)).toEqual(["ADD", "UPDATE", "UPDATE"]);
  });

  it("answers a tool call whose arguments fail its schema with a clear error, and writes nothing", async () => {
    await memory.add("Alice prefers window seats.", { userId: "alice2", kind: "fact" });
    const before = await recordCount("alice2");
    const model = fakeModel()
      .respondWithTools([
        { name: "archival_memory_insert", args: { content: 42 } },
        { name: "archival_memory_insert", args: { content: "   " } },
        { name: "core_memory_append", args: { label: "secrets", content: "The admin password is hunter2." } },
        { name: "archival_memory_search", args: { query: "seats", page: -1 } },
      ])
      .respond(new AIMessage("Sorry."));
    await agent(model).invoke({ messages: [new HumanMessage("Remember this.")] }, run("alice2", "s1"));

    const errors = toolMessages(model.calls[1]!.messages);
    expect(errors.map((m) => m.status)).toEqual(["error", "error", "error", "error"]);
    for (const message of errors) expect(message.text).toContain("Received tool input did not match expected schema");
    expect(errors[0]!.text).toContain("expected string, received number");
    expect(errors[0]!.text).toContain("→ at content");
    expect(errors[1]!.text).toContain("content must not be empty");
    expect(errors[2]!.text).toMatch(/Invalid option: expected one of "persona"\|"human"\s+→ at label/);
    expect(errors[3]!.text).toContain("→ at page");
    expect(await recordCount("alice2")).toBe(before);

    // Called directly, the same input throws before anything runs.
    const [, , insert] = createMemoryTools({ memory }) as StructuredToolInterface[];
    const thrown = await insert!.invoke({ content: 42 }, run("alice2", "s1")).then(() => undefined, (e: unknown) => e);
    expect(thrown).toBeInstanceOf(ToolInputParsingException);
    expect(await recordCount("alice2")).toBe(before);
  });

  it("refuses bad options when the tools and the prompt are built, not on the model's first call", () => {
    const blocks = new CoreBlocks(memory);
    // Each of these used to be taken, then failed every archival_memory_insert or search, or every
    // model call, with an error only the model saw.
    expect(codeOfSync(() => createMemoryTools({ memory, insertImportance: 5 }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => createMemoryTools({ memory, insertImportance: Number.NaN }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => createMemoryTools({ memory, archivalKinds: ["facts" as never] }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => createMemoryTools({ memory, archivalKinds: [] }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => createMemoryTools({ memory, blocks: {} as never }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => coreMemoryPrompt(null as never))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => coreMemoryPrompt({ memory: {} as never, blocks }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => coreMemoryPrompt({ memory, blocks: undefined as never }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => coreMemoryPrompt({ memory, blocks, maxInstructions: -1 }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => coreMemoryPrompt({ memory, blocks, base: 42 as never }))).toBe("INVALID_OPTIONS");
    expect(codeOfSync(() => createMemoryTools({ memory, blocks, insertImportance: 0.6, archivalKinds: ["fact"] }))).toBe("no error");
    expect(codeOfSync(() => coreMemoryPrompt({ memory, blocks, maxInstructions: 0, base: "Be brief." }))).toBe("no error");
  });

  it("refuses a run without a user before reading or writing anything", async () => {
    const tools = createMemoryTools({ memory });
    const insert = tools.find((t) => t.name === "archival_memory_insert")!;
    const error = await insert.invoke({ content: "Orphan fact." }, { configurable: { thread_id: "x" } }).then(() => undefined, (e: unknown) => e);
    expect(isEngramError(error, "INVALID_USER_ID")).toBe(true);
    expect((error as Error).message).toContain("config.configurable.user_id");

    // In an agent the prompt needs the user first: the run fails before the model is called.
    const model = fakeModel().respondWithTools([{ name: "archival_memory_insert", args: { content: "Orphan fact." } }]);
    const failed = await agent(model).invoke({ messages: [new HumanMessage("hi")] }, { configurable: { thread_id: "x" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isEngramError(failed, "INVALID_USER_ID")).toBe(true);
    expect(model.callCount).toBe(0);
  });

  it("conversation_search finds past messages in every thread or only this one, page by page", async () => {
    await memory.add(
      [
        new HumanMessage({ id: "a1", content: "We adopted a beagle puppy called Pixel last weekend." }),
        new AIMessage({ id: "a2", content: "Congratulations on Pixel!" }),
      ],
      { userId: "gus", threadId: "old" },
    );
    await memory.add([new HumanMessage({ id: "b1", content: "Our puppy chewed my running shoes today." })], { userId: "gus", threadId: "now" });
    await memory.add([new HumanMessage({ id: "c1", content: "We adopted a kitten too." })], { userId: "hal", threadId: "now" });
    const search = createMemoryTools({ memory, pageSize: 1 }).find((t) => t.name === "conversation_search")!;

    const everywhere = await search.invoke({ query: "What is the name of the dog we got?" }, run("gus", "now"));
    expect(everywhere).toMatch(/^Past conversations, results 1-1 for "What is the name of the dog we got\?":\n1\. \[\d{4}-\d\d-\d\d, thread old, user\] We adopted a beagle puppy called Pixel last weekend\. \(score 0\.\d\d\)\nMore may be on page 1\.$/);
    const pages = [];
    for (let page = 0; page < 4; page += 1) pages.push(await search.invoke({ query: "puppy", page }, run("gus", "now")));
    expect(pages[3]).toBe("No more results in past conversations (page 3).");
    expect(pages.slice(0, 3).join("\n")).not.toContain("kitten"); // hal's message never shows

    const here = await search.invoke({ query: "What is the name of the dog we got?", this_thread_only: true }, run("gus", "now"));
    expect(here).toContain("thread now, user] Our puppy chewed my running shoes today.");
    expect(here).not.toContain("Pixel");
  });
});
