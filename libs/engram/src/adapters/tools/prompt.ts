import type { BaseMessage } from "@langchain/core/messages";
import { SystemMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { buildSystemPrompt } from "../../turn/prompt.js";
import type { CoreBlocks } from "../../memory/blocks.js";
import type { MemoryRecord } from "../../core/types.js";
import type { Memory } from "../../memory/memory.js";
import { scopeFromRun } from "../../turn/scope.js";
import { checkMemory } from "../../turn/options.js";
import { EngramError } from "../../core/errors.js";
import { describeValue } from "../../core/describe.js";
import { checkBlocks } from "./check.js";

/** Options of `coreMemoryPrompt`. */
export interface CoreMemoryPromptOptions {
  /** Where the user's learned instructions (procedure records without a block) are read. */
  memory: Memory;
  /** The blocks the memory tools edit: pass the same instance to `createMemoryTools`. */
  blocks: CoreBlocks;
  /** Your own instructions, first in the system prompt. @default DEFAULT_SYSTEM_PROMPT of turn/prompt.ts */
  base?: string;
  /** Most learned instructions shown (the newest). @default 50 */
  maxInstructions?: number;
}

/**
 * A `prompt` for `createReactAgent` (or any step taking `(state, config)`): on every model call it
 * reads the user's core blocks and learned instructions and puts them in the system message, so an
 * edit made by `core_memory_append` is in the very next call's prompt. The user is the run's
 * `config.configurable.user_id`. Rendered by the graph's `buildSystemPrompt`, like every Engram
 * prompt (`<human>\n...\n</human>` sections).
 */
export function coreMemoryPrompt(options: CoreMemoryPromptOptions) {
  // Checked now, not on the first model call (where a bad option would fail every turn).
  if (options === null || typeof options !== "object") {
    throw new EngramError("INVALID_OPTIONS", "coreMemoryPrompt needs options: coreMemoryPrompt({ memory, blocks }).");
  }
  const memory = checkMemory(options.memory, "coreMemoryPrompt", ["getAll"]) as Memory;
  const blocks = checkBlocks(options.blocks, "coreMemoryPrompt");
  const { base } = options;
  if (base !== undefined && typeof base !== "string") {
    throw new EngramError("INVALID_OPTIONS", `coreMemoryPrompt: base must be a string, got ${describeValue(base)}.`);
  }
  const maxInstructions = options.maxInstructions ?? 50;
  if (!Number.isInteger(maxInstructions) || maxInstructions < 0) {
    throw new EngramError("INVALID_OPTIONS", `coreMemoryPrompt: maxInstructions must be a whole number of 0 or more, got ${describeValue(options.maxInstructions)}.`);
  }
  return async (state: { messages: BaseMessage[] }, config: RunnableConfig): Promise<BaseMessage[]> => {
    const { userId } = scopeFromRun(config, "coreMemoryPrompt");
    const [blockRecords, instructions] = await Promise.all([blocks.records({ userId }), newestInstructions(memory, userId, maxInstructions, blocks.specs.length)]);
    // The blocks in their configured order ("in prompt order", CoreBlocksOptions.blocks).
    const blockOrder = blocks.specs.map((spec) => spec.name);
    const system = buildSystemPrompt({ base, procedures: [...blockRecords, ...instructions], summary: "", recalled: [], blockOrder });
    return [new SystemMessage(system), ...state.messages];
  };
}

/**
 * The user's newest learned instructions (procedure records without a block), at most `max`. Block
 * records are procedures too, and not only this CoreBlocks' (another agent's blocks of the same
 * user): read page by page until `max` instructions are in hand, where one read of `max` plus
 * this CoreBlocks' block count let other blocks take the places of instructions.
 */
async function newestInstructions(memory: Memory, userId: string, max: number, blockCount: number): Promise<MemoryRecord[]> {
  const found: MemoryRecord[] = [];
  // At most 1000 a read (getAll refuses more than 10,000; a large maxInstructions failed every call).
  const page = Math.min(max + blockCount, 1000);
  if (max === 0) return found;
  for (let offset = 0; ; offset += page) {
    const records = await memory.getAll({ userId, kind: "procedure", limit: page, offset });
    found.push(...records.filter((record) => record.metadata.block === undefined));
    if (found.length >= max || records.length < page) return found.slice(0, max);
  }
}
