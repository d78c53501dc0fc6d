import { afterAll, describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph-checkpoint";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { testMemories } from "../../tests/memories.js";
import { RecordingChatModel } from "../../tests/recording_model.js";
import { codeOf, runConfig, say } from "../../tests/runs.js";
import { EngramCheckpointer } from "./checkpointer.js";

/*
 * A thread's checkpoints are kept by thread_id alone. A run of another user on a reused thread id
 * (LangGraph's examples use "1") would load the first user's conversation into the model's prompt,
 * and the checkpointer would file every message of it into the other user's long-term memory,
 * recalled from all of that user's threads. As in the graph and the middleware, a thread belongs
 * to the user of its first run.
 */
const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();

describe("EngramCheckpointer: a thread belongs to the user of its first run", () => {
  it("refuses another user's run on the thread before the model sees it; nothing of it is filed for that user", async () => {
    const m = memories.open("cp-owner");
    const engram = new EngramCheckpointer({ memory: m, saver: new MemorySaver() });
    checkpointers.push(engram);
    const model = new RecordingChatModel("Noted.");
    const agent = createReactAgent({ llm: model, tools: [], checkpointer: engram });

    await agent.invoke(say("My bank PIN is 4711."), runConfig("alice", "1"));
    await agent.invoke(say("My diagnosis is diabetes, keep it private."), runConfig("alice", "1"));
    const calls = model.calls.length;

    expect(await codeOf(agent.invoke(say("Hello, who am I?"), runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    expect(model.calls.length).toBe(calls);
    // Reading the thread's state as bob is refused too.
    expect(await codeOf(agent.getState(runConfig("bob", "1")))).toBe("INVALID_SCOPE");
    await engram.flush();
    expect(await m.getAll({ userId: "bob" })).toEqual([]);
    expect(await engram.recall("bank PIN", runConfig("bob", "b-1"))).toEqual([]);

    // Bob's own thread works, and shows nothing of alice's.
    await agent.invoke(say("Hello, who am I?"), runConfig("bob", "b-1"));
    expect(model.lastConversation.join("\n")).not.toMatch(/4711|diabetes/);
    // Alice goes on in her thread.
    await agent.invoke(say("What is my PIN?"), runConfig("alice", "1"));
    expect(model.lastConversation.join("\n")).toContain("4711");
    await engram.flush();
    expect((await m.getAll({ userId: "bob" })).map((r) => r.content).join("\n")).not.toMatch(/4711|diabetes/);

    // Once the thread is deleted, its id is free for anyone.
    await engram.deleteThread("1");
    await agent.invoke(say("Hello again."), runConfig("bob", "1"));
    expect(model.lastConversation.join("\n")).not.toMatch(/4711|diabetes/);
  });

  it("a thread is claimed by its first named user even when no message of it was filed; runs that name no user leave it unowned", async () => {
    const m = memories.open("cp-owner-unfiled");
    const engram = new EngramCheckpointer({ memory: m, saver: new MemorySaver() });
    checkpointers.push(engram);
    const meta = { source: "input" as const, step: -1, parents: {} };
    const checkpoint = (n: number, text?: string) => ({
      v: 4,
      id: `1f0a0000-0000-6000-8000-00000000000${n}`,
      ts: new Date().toISOString(),
      // A graph whose state has no messages channel (or only tool messages) files nothing.
      channel_values: text === undefined ? { notes: "alice's notes" } : { messages: [new HumanMessage({ id: `h${n}`, content: text })] },
      channel_versions: { [text === undefined ? "notes" : "messages"]: 1 },
      versions_seen: {},
    });

    // Alice's run files nothing, yet the thread is hers.
    await engram.put(runConfig("alice", "notes-1"), checkpoint(1), meta, {});
    expect(await codeOf(engram.getTuple(runConfig("bob", "notes-1")))).toBe("INVALID_SCOPE");
    expect(await codeOf(engram.put(runConfig("bob", "notes-1"), checkpoint(2), meta, {}))).toBe("INVALID_SCOPE");
    // Nor can bob add pending writes to it (the next run of alice would resume with them).
    const pendingOf = { configurable: { ...runConfig("bob", "notes-1").configurable, checkpoint_ns: "", checkpoint_id: checkpoint(1).id } };
    expect(await codeOf(engram.putWrites(pendingOf, [["notes", "bob was here"]], "task-1"))).toBe("INVALID_SCOPE");
    expect((await engram.getTuple(runConfig("alice", "notes-1")))?.pendingWrites ?? []).toEqual([]);
    expect((await engram.getTuple(runConfig("alice", "notes-1")))?.checkpoint.id).toBe(checkpoint(1).id);

    // A thread stored by runs that named no user is nobody's until a named user's run reaches it:
    // reading it claims it as writing does.
    await engram.put({ configurable: { thread_id: "anon-1" } }, checkpoint(3, "Hello from nobody."), meta, {});
    expect((await engram.getTuple(runConfig("bob", "anon-1")))?.checkpoint.id).toBe(checkpoint(3).id);
    expect(await codeOf(engram.getTuple(runConfig("alice", "anon-1")))).toBe("INVALID_SCOPE");
    expect(await codeOf(engram.put(runConfig("alice", "anon-1"), checkpoint(4, "Mine now?"), meta, {}))).toBe("INVALID_SCOPE");
    await engram.flush();
    expect(await m.getAll({ userId: "alice" })).toEqual([]);
  });

  it("a list across threads that names a user lists that user's threads only", async () => {
    const m = memories.open("cp-owner-list");
    const engram = new EngramCheckpointer({ memory: m, saver: new MemorySaver() });
    checkpointers.push(engram);
    const model = new RecordingChatModel("Noted.");
    const agent = createReactAgent({ llm: model, tools: [], checkpointer: engram });
    await agent.invoke(say("My bank PIN is 4711."), runConfig("alice", "a-1"));
    await agent.invoke(say("I like tea."), runConfig("bob", "b-1"));
    await agent.invoke(say("Nobody's words."), { configurable: { thread_id: "anon-2" } });

    const threadsOf = async (configurable: Record<string, unknown>, limit?: number) => {
      const threads: string[] = [];
      for await (const tuple of engram.list({ configurable }, limit === undefined ? {} : { limit })) threads.push(String(tuple.config.configurable?.thread_id));
      return threads;
    };
    expect(new Set(await threadsOf({ user_id: "bob" }))).toEqual(new Set(["b-1"]));
    expect(new Set(await threadsOf({ user_id: "alice" }))).toEqual(new Set(["a-1"]));
    // The limit counts the user's checkpoints, not the ones left out.
    expect(await threadsOf({ user_id: "bob" }, 1)).toEqual(["b-1"]);
    // A list that names no user is the app's own: every thread.
    expect(new Set(await threadsOf({}))).toEqual(new Set(["a-1", "b-1", "anon-2"]));
  });
});

