import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { SUMMARY_HEADING } from "../../turn/engram_context.js";
import { summarySection } from "../../tests/prompt_sections.js";
import { PostgresChatMessageHistory } from "@langchain/community/stores/message/postgres";
import type { DocumentInterface } from "@langchain/core/documents";
import type { BaseChatMessageHistory } from "@langchain/core/chat_history";
import type { BaseMessage } from "@langchain/core/messages";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { RunnablePassthrough, type RunnableConfig } from "@langchain/core/runnables";
import { RunnableWithMessageHistory } from "@langchain/core/runnables";
import pg from "pg";
import { EngramError, isEngramError } from "../../core/errors.js";
import type { Memory } from "../../memory/memory.js";
import { RecordingChatModel } from "../../tests/fake_chat.js";
import { testMemories } from "../../tests/memories.js";
import { startTestPostgres, type TestPostgres } from "../../tests/postgres.js";
import { EngramRetriever } from "../retriever/retriever.js";
import { EngramChatMessageHistory } from "./history.js";

const suite = testMemories();

const SISTER = "My sister Marta lives in Berlin and she is a violinist.";

/**
 * The recipe of docs/chat-history.md: an LCEL chain with a history placeholder, given long-term
 * memory by its getMessageHistory and one prompt variable filled by a retriever that leaves the
 * current conversation out.
 */
function chatFor(memory: Memory, model: RecordingChatModel, userId: string, history?: (sessionId: string) => BaseChatMessageHistory) {
  const retriever = new EngramRetriever({ memory, userId, k: 4, excludeThread: true });
  const format = (docs: DocumentInterface[]) => docs.map((doc) => `- ${doc.pageContent}`).join("\n") || "(nothing yet)";
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You are a helpful assistant.\nFrom earlier conversations with this user:\n{memories}"],
    new MessagesPlaceholder("history"),
    ["human", "{input}"],
  ]);
  const chain = RunnablePassthrough.assign({
    memories: async (input: Record<string, unknown>, config?: RunnableConfig) => format(await retriever.invoke(String(input.input), config)),
  })
    .pipe(prompt)
    .pipe(model);
  return new RunnableWithMessageHistory({
    runnable: chain,
    getMessageHistory: (sessionId: string) =>
      new EngramChatMessageHistory({ memory, userId, threadId: sessionId, window: { maxTurns: 2 }, ...(history ? { history: history(sessionId) } : {}) }),
    inputMessagesKey: "input",
    historyMessagesKey: "history",
  });
}

/** One turn, then the filing it started (the next turn would wait for it anyway). */
async function turn(chat: ReturnType<typeof chatFor>, memory: Memory, userId: string, sessionId: string, input: string) {
  await chat.invoke({ input }, { configurable: { sessionId } });
  await new EngramChatMessageHistory({ memory, userId, threadId: sessionId }).flush();
}

const conversation = [SISTER, "ok thanks", "I started learning the cello last month.", "What should I practise first?"];

/** The prompt's parts: the system message, the history's messages and the input, by type. */
function parts(prompt: BaseMessage[]) {
  return {
    system: prompt[0]!.text,
    summary: prompt.filter((m, i) => i > 0 && m.getType() === "system").map((m) => m.text),
    humans: prompt.filter((m) => m.getType() === "human").map((m) => m.text),
  };
}

describe("EngramChatMessageHistory in RunnableWithMessageHistory (in-memory history)", () => {
  let memory: Memory;
  const model = new RecordingChatModel({ replies: (["Noted.", "You're welcome.", "Lovely instrument.", "Scales, slowly.", "In Berlin."] as string[]) });

  beforeAll(async () => {
    memory = suite.open("in-memory");
    const chat = chatFor(memory, model, "alice");
    for (const input of conversation) await turn(chat, memory, "alice", "s1", input);
    await turn(chat, memory, "alice", "s2", "Where does my sister live?");
  });

  it("gives the model the window verbatim and the turns before it as a summary", () => {
    const fourth = parts(model.calls[3]!);
    // Window of 2 turns: turns 2 and 3 verbatim, then the input; turn 1 only in the summary.
    expect(fourth.humans).toEqual(["ok thanks", "I started learning the cello last month.", "What should I practise first?"]);
    expect(fourth.summary).toHaveLength(1);
    expect(fourth.summary[0]).toContain(SUMMARY_HEADING);
    expect(fourth.summary[0]).toContain("Marta");
    // The first turns had no summary: nothing had left the window.
    expect(parts(model.calls[1]!).summary).toEqual([]);
  });

  it("does not recall the current conversation's turns: they are in the history already", () => {
    for (const call of model.calls.slice(0, 4)) {
      expect(parts(call).system).toContain("(nothing yet)");
      expect(parts(call).system).not.toContain("Marta");
    }
  });

  it("recalls the user's other conversation in a new one", () => {
    const newThread = parts(model.calls[4]!);
    expect(newThread.system).toContain(SISTER);
    expect(newThread.humans).toEqual(["Where does my sister live?"]);
    expect(newThread.summary).toEqual([]);
  });

  it("files important exchanges as episodes and the evicted turns as a summary naming their messages", async () => {
    const records = await memory.getAll({ userId: "alice", threadId: "s1", limit: 100 });
    const episodes = records.filter((r) => r.kind === "episode").map((r) => r.content);
    expect(episodes).toEqual(expect.arrayContaining([SISTER, "Noted.", "I started learning the cello last month."]));
    // Small talk scores under the threshold: it stays in the history only.
    expect(episodes).not.toContain("ok thanks");
    const summaries = records.filter((r) => r.kind === "summary");
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries[0]!.source.threadId).toBe("s1");
    expect(summaries[0]!.source.messageIds!.length).toBeGreaterThanOrEqual(2);
  });

  it("keeps the verbatim messages in the chat history it was given", async () => {
    // The default history is kept in process per user and thread: a history rebuilt for each
    // run (as RunnableWithMessageHistory does) finds the thread's messages.
    const history = new EngramChatMessageHistory({ memory, userId: "alice", threadId: "s1", window: { maxTurns: 2 } });
    expect((await history.history.getMessages()).map((m) => m.text)).toEqual([
      SISTER, "Noted.", "ok thanks", "You're welcome.", "I started learning the cello last month.", "Lovely instrument.", "What should I practise first?", "Scales, slowly.",
    ]);
  });

  it("never shows one user another's conversation or memories", async () => {
    const bobModel = new RecordingChatModel({ replies: ["I don't know."] });
    await turn(chatFor(memory, bobModel, "bob"), memory, "bob", "s1", "Where does my sister live?");
    const bob = parts(bobModel.calls[0]!);
    expect(bob.system).not.toContain("Marta");
    expect(bob.humans).toEqual(["Where does my sister live?"]);
    expect(bob.summary).toEqual([]);
  });

  it("refuses bad input before anything is written", () => {
    const bad = (run: () => unknown, code: string) => {
      let caught: unknown;
      try {
        run();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EngramError);
      expect((caught as EngramError).code).toBe(code);
    };
    bad(() => new EngramChatMessageHistory({ memory, userId: "" }), "INVALID_USER_ID");
    bad(() => new EngramChatMessageHistory({ memory, userId: "alice", window: { maxTurns: 0 } }), "INVALID_OPTIONS");
    bad(() => new EngramChatMessageHistory({ memory, userId: "alice", importanceThreshold: 2 }), "INVALID_OPTIONS");
    bad(() => new EngramChatMessageHistory({ memory: {} as Memory, userId: "alice" }), "INVALID_OPTIONS");
    bad(() => new EngramRetriever({ memory, excludeThread: 3 as unknown as boolean }), "INVALID_OPTIONS");
  });

  it("a retriever that leaves the run's thread out needs the run to name one", async () => {
    const retriever = new EngramRetriever({ memory, userId: "alice", excludeThread: true });
    const error = await retriever.invoke("sister", {}).catch((caught: unknown) => caught);
    expect(isEngramError(error, "INVALID_SCOPE")).toBe(true);
    const fromS2 = await retriever.invoke("Where does my sister live?", { configurable: { thread_id: "s2" } });
    // s1's turn and s1's summary of it (the evicted turn, verbatim) score within a hair of each
    // other, and near-duplicate suppression keeps whichever ranks first: either carries the fact.
    expect(fromS2.some((d) => d.pageContent.includes(SISTER))).toBe(true);
    expect(fromS2.every((d) => d.metadata.threadId !== "s2")).toBe(true);
    const fixed = new EngramRetriever({ memory, userId: "alice", excludeThread: "s1" });
    expect((await fixed.invoke("Where does my sister live?")).some((d) => d.pageContent.includes("Marta"))).toBe(false);
  });
});

describe("no memory of memory", () => {
  it("clear() starts the thread afresh: the cleared conversation's summary is not in the next one's prompt, and long-term memory keeps it", async () => {
    const memory = suite.open("clear");
    const model = new RecordingChatModel({ replies: ["Noted."] });
    const chat = chatFor(memory, model, "fay");
    for (const input of [...conversation, "Any tips for bowing?", "Thanks!"]) await turn(chat, memory, "fay", "c1", input);
    expect(summarySection(model.prompts[model.prompts.length - 1]!)).toContain("cello");
    await new EngramChatMessageHistory({ memory, userId: "fay", threadId: "c1" }).clear();
    // The same first words again: at the position and with the text of a cleared message.
    for (const input of [SISTER, "Let's plan a trip.", "Somewhere warm."]) await turn(chat, memory, "fay", "c1", input);
    const last = model.prompts[model.prompts.length - 1]!;
    expect(last).not.toContain("cello");
    const history = await new EngramChatMessageHistory({ memory, userId: "fay", threadId: "c1", window: { maxTurns: 2 } }).getMessages();
    expect(history.map((message) => message.text).join("\n")).not.toContain("cello");
    // Long-term memory keeps what the cleared conversation filed.
    expect((await memory.search("What instrument am I learning?", { userId: "fay", limit: 5 })).map((r) => r.content).join("\n")).toContain("cello");
  });

  it("a model that echoes its prompt does not get the summary Engram showed it stored again", async () => {
    const memory = suite.open("echo");
    // Echoes every message of its prompt after the first (the summary, the history, the input).
    const model = new RecordingChatModel({ replies: [(messages) => messages.slice(1).map((m) => m.text).join("\n")] });
    const chat = chatFor(memory, model, "eve");
    for (const input of [SISTER, "I started learning the cello last month.", "My daughter Ines plays the flute.", "What should I practise first?"]) {
      await turn(chat, memory, "eve", "echo-1", input);
    }
    // The model was shown a summary (it left the window)...
    expect(model.prompts.some((prompt) => prompt.includes(SUMMARY_HEADING))).toBe(true);
    // ...and no record repeats it: episodes hold what was said, summaries summarize turns.
    const records = await memory.getAll({ userId: "eve", limit: 100 });
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(record.content).not.toContain(SUMMARY_HEADING);
  });
});

describe("EngramChatMessageHistory over PostgresChatMessageHistory (a real PostgreSQL)", () => {
  let postgres: TestPostgres;
  let pool: pg.Pool;
  const table = "chat_histories";

  beforeAll(async () => {
    postgres = await startTestPostgres();
    pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
  });

  afterAll(async () => {
    await pool?.end();
    await postgres?.stop();
  });

  it("keeps every message verbatim in PostgreSQL and returns summary + window, also after a restart", async () => {
    const memory = suite.open("postgres");
    const model = new RecordingChatModel({ replies: ["Noted.", "You're welcome.", "Lovely instrument.", "Scales, slowly.", "Good luck!"] });
    const inPostgres = (sessionId: string) => new PostgresChatMessageHistory({ pool, tableName: table, sessionId: `alice/${sessionId}` });
    const chat = chatFor(memory, model, "alice", inPostgres);
    for (const input of [...conversation, "Thanks, I will."]) await turn(chat, memory, "alice", "pg-1", input);

    const { rows } = await pool.query(`SELECT message FROM ${table} WHERE session_id = $1 ORDER BY id`, ["alice/pg-1"]);
    expect(rows.map((row: { message: { content: string } }) => row.message.content)).toEqual([
      SISTER, "Noted.", "ok thanks", "You're welcome.", "I started learning the cello last month.", "Lovely instrument.", "What should I practise first?", "Scales, slowly.",
      "Thanks, I will.", "Good luck!",
    ]);

    const view = async (m: Memory) => {
      const history = new EngramChatMessageHistory({ memory: m, userId: "alice", threadId: "pg-1", window: { maxTurns: 2 }, history: inPostgres("pg-1") });
      return (await history.getMessages()).map((message) => `${message.getType()}: ${message.text}`);
    };
    const before = await view(memory);
    // Turns 1-3 left the 2-turn window: one summary message, then turns 4 and 5 verbatim. (Turn 2,
    // small talk, summarizes to nothing: it came back verbatim until turn 3 left and the two were
    // summarized together.)
    expect(before).toHaveLength(5);
    expect(before[0]!.startsWith(`system: ${SUMMARY_HEADING}\n`)).toBe(true);
    expect(before[0]).toContain("Marta");
    expect(before[0]).toContain("cello");
    expect(before.slice(1)).toEqual(["human: What should I practise first?", "ai: Scales, slowly.", "human: Thanks, I will.", "ai: Good luck!"]);

    // Another process: a new Memory on the same data, nothing of this one's in-process state.
    await memory.flush();
    const reopened = suite.open("postgres");
    expect(await view(reopened)).toEqual(before);
  });
});
