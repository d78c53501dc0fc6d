import { describe, expect, it } from "@jest/globals";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isEngramError } from "../core/errors.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { EngramMemory } from "./base_memory/engram_memory.js";
import { EngramChatMessageHistory } from "./chat_history/history.js";
import { EngramRetriever } from "./retriever/retriever.js";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { createMemoryGraph } from "../graph/agent.js";
import { EngramCheckpointer } from "./checkpointer/checkpointer.js";
import { engramMiddleware } from "./middleware/middleware.js";
import { EngramStore } from "./store/engram_store.js";

/** The code and message `make()` throws, or undefined when it makes the door. */
function refusal(make: () => unknown): { code: string; message: string } | undefined {
  try {
    make();
    return undefined;
  } catch (error) {
    if (!isEngramError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

// Made, never opened: constructors do no I/O, so no server starts.
const memory = new Memory({ dataDir: join(tmpdir(), "engram-unknown-options-never-opened"), embeddings: new StaticEmbeddings() });

/** Options whose names are not the door's: a typo of a real one, and a name of another door. */
type Loose = Record<string, unknown>;

describe("every door refuses option names it does not know", () => {
  it("EngramRetriever: a typo of k or of excludeThread is refused, naming it; BaseRetriever's own names are taken", () => {
    for (const [typo, real] of [["K", "k"], ["excludeThreads", "excludeThread"], ["top_k", "k"]] as const) {
      const error = refusal(() => new EngramRetriever({ memory, userId: "alice", [typo]: 2 } as Loose as never));
      expect(error?.code).toBe("INVALID_OPTIONS");
      expect(error?.message).toContain(`"${typo}"`);
      expect(error?.message).toContain(real);
    }
    expect(refusal(() => new EngramRetriever({ memory, k: 2, tags: ["t"], metadata: { a: 1 }, verbose: false, callbacks: [] }))).toBeUndefined();
  });

  it("EngramMemory: recallLimit misspelt, or the retriever's k, is refused; the renamed model keeps its own message", () => {
    for (const typo of ["recalLimit", "k", "memory_key"]) {
      const error = refusal(() => new EngramMemory({ memory, userId: "alice", [typo]: 3 } as Loose as never));
      expect(error?.code).toBe("INVALID_OPTIONS");
      expect(error?.message).toContain(`"${typo}"`);
    }
    expect(refusal(() => new EngramMemory({ memory, userId: "alice", model: {} } as Loose as never))?.message).toContain('"model" is now "summaryModel"');
    expect(refusal(() => new EngramMemory({ memory, userId: "alice", recallLimit: 3, memoryKey: "history", onWarning: undefined }))).toBeUndefined();
  });

  it("EngramChatMessageHistory: sessionId (the name RunnableWithMessageHistory uses) is refused, pointing at threadId", () => {
    const error = refusal(() => new EngramChatMessageHistory({ memory, userId: "alice", sessionId: "s1" } as Loose as never));
    expect(error?.code).toBe("INVALID_OPTIONS");
    expect(error?.message).toContain('"sessionId"');
    expect(error?.message).toContain("threadId");
    expect(refusal(() => new EngramChatMessageHistory({ memory, userId: "alice", threadId: "s1", window: { maxTurns: 4 } }))).toBeUndefined();
  });

  it("createMemoryGraph and engramMiddleware: a typo of recallLimit or forgetEvery is refused; their own names are taken", () => {
    const model = new FakeListChatModel({ responses: ["never called"] });
    for (const typo of ["recall_limit", "forgetEverey", "system_prompt"]) {
      expect(refusal(() => createMemoryGraph({ memory, model, [typo]: 3 } as Loose as never))?.message).toContain(`"${typo}"`);
      expect(refusal(() => engramMiddleware({ memory, [typo]: 3 } as Loose as never))?.code).toBe("INVALID_OPTIONS");
    }
    expect(refusal(() => createMemoryGraph({ memory, model, recallLimit: 3, forgetEvery: 0, systemPrompt: "Be brief." }))).toBeUndefined();
    expect(refusal(() => engramMiddleware({ memory, recallLimit: 3, forgetEvery: 0 }))).toBeUndefined();
    // The middleware's renamed option keeps its own message.
    expect(refusal(() => engramMiddleware({ memory, model } as Loose as never))?.message).toContain('"model" is now "summaryModel"');
  });

  it("EngramCheckpointer and EngramStore: retention misspelt, or a store's dataDIr, is refused before anything opens", () => {
    expect(refusal(() => new EngramCheckpointer({ memory, retentions: { keepLast: 2 } } as Loose as never))?.message).toContain('"retentions"');
    expect(refusal(() => new EngramCheckpointer({ memory, retention: { keepLast: 2 }, importance: 0.4 }))).toBeUndefined();
    expect(refusal(() => new EngramStore({ dataDIr: "./elsewhere" } as Loose as never))?.message).toContain('"dataDIr"');
    expect(refusal(() => new EngramStore({ dataDir: join(tmpdir(), "engram-unknown-options-store"), prefix: "p", ttl: { defaultTtl: 5 } }))).toBeUndefined();
  });

  it("EngramStore's index and ttl: a name they do not know is refused (LangGraph Python's `embed` ran on the default model)", () => {
    const dataDir = join(tmpdir(), "engram-unknown-options-store");
    const embeddings = new StaticEmbeddings();
    const index = refusal(() => new EngramStore({ dataDir, index: { embed: embeddings, fields: ["text"] } } as Loose as never));
    expect(index).toMatchObject({ code: "INVALID_OPTIONS" });
    expect(index?.message).toContain('"embed"');
    expect(refusal(() => new EngramStore({ dataDir, index: { feilds: ["text"] } } as Loose as never))?.message).toContain('"feilds"');
    expect(refusal(() => new EngramStore({ dataDir, ttl: { default_ttl: 5 } } as Loose as never))?.message).toContain('"default_ttl"');
    expect(refusal(() => new EngramStore({ dataDir, index: { embeddings, fields: ["text"], dims: 256 }, ttl: { defaultTtl: 5, refreshOnRead: true, sweepIntervalMinutes: 30 } }))).toBeUndefined();
  });
});
