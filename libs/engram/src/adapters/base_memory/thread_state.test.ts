import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { dropThreadState, MAX_THREADS_IN_PROCESS, threadState } from "./thread_state.js";

describe("threadState: EngramMemory's short-term memory per (Memory, user, thread)", () => {
  it("is shared for the same Memory, user and thread, and separate otherwise", () => {
    const memory = {};
    const state = threadState(memory, "alice", "t1");
    state.messages.push(new HumanMessage("hi"));
    state.summary = "alice said hi";
    expect(threadState(memory, "alice", "t1")).toBe(state);
    expect(threadState(memory, "bob", "t1").summary).toBe("");
    expect(threadState(memory, "alice", "t2").messages).toEqual([]);
    expect(threadState({}, "alice", "t1").messages).toEqual([]);
    // A user id cannot be crafted to land on another user's thread.
    expect(threadState(memory, 'alice","t1', "x").summary).toBe("");
  });

  it("drops a thread on request and the least recently used one past the cap", () => {
    const memory = {};
    threadState(memory, "alice", "t1").summary = "kept";
    dropThreadState(memory, "alice", "t1");
    expect(threadState(memory, "alice", "t1").summary).toBe("");

    threadState(memory, "u", "oldest").summary = "old";
    threadState(memory, "u", "recent").summary = "recent";
    for (let i = 0; i < MAX_THREADS_IN_PROCESS - 3; i++) threadState(memory, "u", `filler-${i}`);
    threadState(memory, "u", "oldest"); // used again: now the most recent
    threadState(memory, "u", "one-more");
    threadState(memory, "u", "and-another");
    expect(threadState(memory, "u", "oldest").summary).toBe("old");
    expect(threadState(memory, "u", "recent").summary).toBe("");
  });
});
