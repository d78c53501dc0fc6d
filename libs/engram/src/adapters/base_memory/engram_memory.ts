import { randomUUID } from "node:crypto";
import { AIMessage, HumanMessage, SystemMessage, getBufferString, type BaseMessage } from "@langchain/core/messages";
import { BaseMemory, type InputValues, type MemoryVariables, type OutputValues } from "@langchain/core/memory";
import { EngramError } from "../../core/errors.js";
import { deterministicId } from "../../core/ids.js";
import { describeValue } from "../../core/describe.js";
import { validateScope } from "../../core/scope.js";
import type { Scope } from "../../core/types.js";
import { finishTurn, type TurnInput } from "../../turn/finish.js";
import { resolveTurnOptions, type ResolvedTurnOptions } from "../../turn/options.js";
import { buildSystemPrompt } from "../../turn/prompt.js";
import { recallFor } from "../../turn/recall.js";
import type { Recollection } from "../../turn/types.js";
import { turnOptionsOf, type EngramMemoryOptions } from "./options.js";
import { dropThreadState, threadState, type ThreadState } from "./thread_state.js";
import { forgetIfErased } from "./erasure.js";
import { underFilingLock } from "../thread_claims.js";

/**
 * Engram as the `memory` of a classic LangChain chain (`ConversationChain`, `LLMChain`...): the
 * last turns verbatim, a running summary of older ones, and the user's long-term memory recalled
 * for each input, from every earlier session of the same user.
 *
 * Memory variables (`memoryKeys`), names configurable:
 * - `history`: the window of recent turns (a string, or messages with `returnMessages`); with
 *   `contextInHistory` (default) it starts with the core blocks, summary and recalled memories;
 * - `summary`: the running summary of the turns that left the window ("" until then);
 * - `recalled`: core blocks, learned instructions and the memories recalled for this input,
 *   marked as data, not instructions ("" when there are none).
 *
 * `saveContext` scores the turn; an important turn is stored as two episodes (human and AI, with
 * deterministic ids), a mundane one stays in the window and reaches long-term memory only through
 * the summary when it leaves the window.
 */
export class EngramMemory extends BaseMemory {
  readonly userId: string;

  readonly threadId: string;

  readonly memoryKey: string;

  readonly summaryKey: string;

  readonly recalledKey: string;

  private readonly scope: Scope;

  private readonly turn: ResolvedTurnOptions;

  private readonly returnMessages: boolean;

  private readonly contextInHistory: boolean;

  private readonly humanPrefix: string;

  private readonly aiPrefix: string;

  constructor(private readonly options: EngramMemoryOptions) {
    super();
    if (options === null || typeof options !== "object") {
      throw new EngramError("INVALID_OPTIONS", "EngramMemory needs options: new EngramMemory({ memory, userId }).");
    }
    if (options.userId === undefined || options.userId === null || options.userId === "") {
      throw new EngramError("INVALID_USER_ID", 'EngramMemory needs the user: new EngramMemory({ memory, userId: "alice" }). Nothing was read or written.');
    }
    // The user comes from the application, once, here: a chain's inputs cannot switch it.
    this.scope = validateScope({ userId: options.userId, threadId: options.threadId ?? randomUUID() });
    this.userId = this.scope.userId;
    this.threadId = this.scope.threadId!;
    this.turn = resolveTurnOptions(turnOptionsOf(options), "EngramMemory");
    this.memoryKey = options.memoryKey ?? "history";
    this.summaryKey = options.summaryKey ?? "summary";
    this.recalledKey = options.recalledKey ?? "recalled";
    const keys = new Set([this.memoryKey, this.summaryKey, this.recalledKey]);
    if (keys.size !== 3 || [...keys].some((key) => typeof key !== "string" || key === "")) {
      throw new EngramError("INVALID_OPTIONS", "memoryKey, summaryKey and recalledKey must be three different non-empty names.");
    }
    this.returnMessages = options.returnMessages ?? false;
    this.contextInHistory = options.contextInHistory ?? true;
    this.humanPrefix = options.humanPrefix ?? "Human";
    this.aiPrefix = options.aiPrefix ?? "AI";
  }

  /** `[memoryKey, summaryKey, recalledKey]`: by default `["history", "summary", "recalled"]`. */
  get memoryKeys(): string[] {
    return [this.memoryKey, this.summaryKey, this.recalledKey];
  }

  /** The window, the running summary and what long-term memory recalls for the chain's input. */
  async loadMemoryVariables(values: InputValues): Promise<MemoryVariables> {
    const thread = this.thread();
    const input = this.text(chainValue(values, this.options.inputKey, "input"), "input");
    // The user may have been erased since the thread's last turn (in any process): see erasure.ts.
    await forgetIfErased(this.where(), thread);
    const window = [...thread.messages];
    let recollection: Recollection = { recalled: [], procedures: [], degraded: false };
    if (input.trim() !== "") recollection = await recallFor(this.turn, [...window, new HumanMessage(input)], this.scope);
    thread.lastRecalled = recollection.recalled;
    thread.lastProcedures = recollection.procedures;

    const recalled = renderSections({ ...recollection, summary: "" });
    const context = renderSections({ ...recollection, summary: thread.summary });
    const history = this.contextInHistory && context !== "" ? [new SystemMessage(context), ...window] : window;
    return {
      [this.memoryKey]: this.returnMessages ? history : getBufferString(history, this.humanPrefix, this.aiPrefix),
      [this.summaryKey]: thread.summary,
      [this.recalledKey]: recalled,
    };
  }

  /** Records the turn: scored, stored when important, kept in the window, older turns summarized. */
  async saveContext(inputValues: InputValues, outputValues: OutputValues): Promise<void> {
    const input = this.text(chainValue(inputValues, this.options.inputKey, "input"), "input");
    const output = this.text(chainValue(outputValues, this.options.outputKey, "output"), "output");
    const thread = this.thread();
    // Two runs of one thread at once (a user sending twice, a chain rebuilt per request): each
    // turn is added to the window the other left, not both to the same one, where the later
    // save replaced the window and the summary and the earlier turn was gone from both.
    // What the run's load recalled is read now, before an earlier save clears it.
    const shown = { recalled: thread.lastRecalled, procedures: thread.lastProcedures ?? [] };
    const saved = (thread.saving ?? Promise.resolve()).then(() =>
      underFilingLock(this.options.memory, this.userId, async () => {
        // Under the lock the erasure takes first: its turns are written before it or not at all.
        await forgetIfErased(this.where(), thread);
        await this.save(thread, input, output, shown);
      }),
    );
    thread.saving = saved.catch(() => undefined);
    return saved;
  }

  private async save(thread: ThreadState, input: string, output: string, shown: Pick<TurnInput, "recalled" | "procedures">): Promise<void> {
    const turn = thread.turns;
    // Ids from the thread, the turn and the text: saving the same turn again stores nothing new.
    const id = (role: string, text: string) => deterministicId("engram-memory", this.userId, this.threadId, String(turn), role, text);
    const messages = [
      ...thread.messages,
      new HumanMessage({ content: input, id: id("user", input) }),
      new AIMessage({ content: output, id: id("assistant", output) }),
    ];
    const outcome = await finishTurn(
      this.turn,
      {
        messages,
        summary: thread.summary,
        turnsSinceForget: thread.turnsSinceForget,
        recalled: shown.recalled,
        procedures: shown.procedures,
      },
      this.scope,
    );
    const evicted = new Set(outcome.evictedIds);
    thread.messages = messages.filter((message) => !evicted.has(message.id!));
    thread.summary = outcome.summary;
    thread.turns = turn + 1;
    thread.turnsSinceForget = outcome.turnsSinceForget;
    thread.lastRecalled = [];
    thread.lastProcedures = [];
  }

  /** Forgets this thread's window and summary; the user's long-term memory stays. */
  async clear(): Promise<void> {
    dropThreadState(this.options.memory, this.userId, this.threadId);
  }

  private where(): { memory: object; userId: string; threadId: string } {
    return { memory: this.options.memory, userId: this.userId, threadId: this.threadId };
  }

  private thread(): ThreadState {
    return threadState(this.options.memory, this.userId, this.threadId);
  }

  private text(value: unknown, what: "input" | "output"): string {
    if (typeof value === "string") return value;
    // A chat model's output arrives as a message in some chains.
    if (value instanceof AIMessage || value instanceof HumanMessage) return (value as BaseMessage).text;
    throw new EngramError(
      "INVALID_CONTENT",
      `EngramMemory expects the chain's ${what} to be a string, got ${value === null ? "null" : typeof value}. Set ${what}Key to name the right ${what}.`,
    );
  }
}

/**
 * The chain's input or output value: the one named by `inputKey` / `outputKey`, else the only one.
 * LangChain's getInputValue threw a plain Error for a chain with several inputs, for a missing
 * named key and for an empty input ("" read as missing), saying "input values have 1 keys".
 */
function chainValue(values: InputValues | OutputValues, key: string | undefined, what: "input" | "output"): unknown {
  if (values === null || typeof values !== "object") {
    throw new EngramError("INVALID_CONTENT", `EngramMemory expects the chain's ${what} values as an object, got ${describeValue(values)}.`);
  }
  const keys = Object.keys(values);
  if (key !== undefined) {
    if (!Object.hasOwn(values, key)) {
      throw new EngramError("INVALID_OPTIONS", `EngramMemory's ${what}Key is ${JSON.stringify(key)}, and the chain's ${what}s are ${keyList(keys)}.`);
    }
    return (values as Record<string, unknown>)[key];
  }
  if (keys.length !== 1) {
    throw new EngramError("INVALID_OPTIONS", `The chain's ${what}s are ${keyList(keys)}: name the ${what} EngramMemory reads with ${what}Key.`);
  }
  return (values as Record<string, unknown>)[keys[0]!];
}

function keyList(keys: readonly string[]): string {
  return keys.length === 0 ? "none" : keys.map((key) => JSON.stringify(key)).join(", ");
}

/** Core blocks, learned instructions, the summary and the recalled memories, as the graph renders them. */
function renderSections(parts: Pick<Recollection, "recalled" | "procedures"> & { summary: string }): string {
  // An empty base leaves only the memory sections (buildSystemPrompt starts with the base).
  return buildSystemPrompt({ base: "", procedures: parts.procedures, summary: parts.summary, recalled: parts.recalled }).trim();
}
