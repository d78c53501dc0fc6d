import { tool, type StructuredToolInterface, type ToolRunnableConfig } from "@langchain/core/tools";
import { z } from "zod";
import { EngramError } from "../../core/errors.js";
import type { MemoryKind, Scope } from "../../core/types.js";
import { validateKind } from "../../core/scope.js";
import { DEFAULT_MAX_CONTENT_CHARS, validateImportance } from "../../core/validate.js";
import { CoreBlocks } from "../../memory/blocks.js";
import type { Memory } from "../../memory/memory.js";
import { checkBlocks } from "./check.js";
import { formatBlockEdit, formatResults, type ResultPage } from "./format.js";
import { checkMemory } from "../../turn/options.js";
import { scopeFromRun } from "../../turn/scope.js";
import { describeValue } from "../../core/describe.js";

/** Options of `createMemoryTools`. */
export interface MemoryToolsOptions {
  /** Where the memories live. */
  memory: Memory;
  /**
   * The core blocks the `core_memory_*` tools edit. Share the same instance with the prompt
   * (`coreMemoryPrompt`) so the model sees the blocks it edits.
   * @default new CoreBlocks(memory) (blocks "persona" and "human", 2000 characters each)
   */
  blocks?: CoreBlocks;
  /** Results per page of `archival_memory_search` and `conversation_search`. @default 5 */
  pageSize?: number;
  /**
   * Kinds `archival_memory_search` looks through. Episodes (past messages) are left to
   * `conversation_search`, and procedures are already in the prompt.
   * @default ["fact", "summary"]
   */
  archivalKinds?: MemoryKind[];
  /**
   * Importance of what `archival_memory_insert` stores: the agent chose to keep it, so it ranks
   * above an ordinary exchange.
   * @default 0.8
   */
  insertImportance?: number;
}

/** Most results one search call may page through (Memory.search returns at most 1000). */
const MAX_RESULTS = 1_000;

/**
 * MemGPT-style memory tools for an agent that manages its own memory:
 * - `core_memory_append`, `core_memory_replace`: edit the named, size-limited core blocks that
 *   are always in the system prompt;
 * - `archival_memory_insert`, `archival_memory_search`: long-term notes, found by meaning from
 *   any thread;
 * - `conversation_search`: past messages with this user, in every thread or only this one.
 *
 * The user is the run's `config.configurable.user_id` or `context.userId` (the thread
 * `config.configurable.thread_id`), resolved by the turn core's `scopeFromRun`, never a tool argument, so a model cannot reach another user's memory; a run without a user gets
 * an `INVALID_USER_ID` error and nothing is read or written. Arguments are checked by zod schemas
 * before any write.
 */
export function createMemoryTools(options: MemoryToolsOptions): StructuredToolInterface[] {
  if (options === null || typeof options !== "object") {
    throw new EngramError("INVALID_OPTIONS", "createMemoryTools needs options: createMemoryTools({ memory }).");
  }
  const memory = checkMemory(options.memory, "createMemoryTools") as Memory;
  const blocks = options.blocks === undefined ? new CoreBlocks(memory) : checkBlocks(options.blocks, "createMemoryTools");
  const pageSize = options.pageSize ?? 5;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50) {
    throw new EngramError("INVALID_OPTIONS", `pageSize must be an integer from 1 to 50, got ${describeValue(options.pageSize)}.`);
  }
  // Checked here: a bad value would otherwise fail every archival call, with an error only the model sees.
  const archivalKinds = checkKinds(options.archivalKinds ?? ["fact", "summary"]);
  const insertImportance = options.insertImportance === undefined ? 0.8 : validateImportance(options.insertImportance);
  const maxPage = Math.floor(MAX_RESULTS / pageSize) - 1;

  const names = blocks.specs.map((spec) => spec.name) as [string, ...string[]];
  const blockList = blocks.specs
    .map((spec) => `"${spec.name}" (${spec.limit} characters${spec.description ? `: ${spec.description}` : ""})`)
    .join("; ");
  const longestBlock = Math.max(...blocks.specs.map((spec) => spec.limit));
  const label = z.enum(names).describe(`Which core block: ${names.join(" or ")}.`);
  const query = z.string().trim().min(1, "query must not be empty").max(DEFAULT_MAX_CONTENT_CHARS);
  const page = z
    .number()
    .int()
    .min(0)
    .max(maxPage)
    .default(0)
    .describe("Page of results, 0 for the best ones, 1 for the next, and so on.");

  const coreAppend = tool(
    async ({ label: name, content }, config: ToolRunnableConfig) => {
      const scope = userOnly(scopeFromRun(config, "The memory tools"));
      return formatBlockEdit("Appended to", await blocks.append(scope, name, content));
    },
    {
      name: "core_memory_append",
      description:
        "Add a line to one of your core memory blocks. Core memory is always in your system prompt; keep " +
        `it to what you need in every conversation. Blocks: ${blockList}.`,
      schema: z.object({
        label,
        content: z.string().trim().min(1, "content must not be empty").max(longestBlock).describe("The text to add, on a new line."),
      }),
    },
  );

  const coreReplace = tool(
    async ({ label: name, old_content, new_content }, config: ToolRunnableConfig) => {
      const scope = userOnly(scopeFromRun(config, "The memory tools"));
      return formatBlockEdit("Replaced text in", await blocks.replace(scope, name, old_content, new_content));
    },
    {
      name: "core_memory_replace",
      description:
        "Replace text in one of your core memory blocks (every occurrence of old_content). Use an empty " +
        `new_content to delete it. Blocks: ${blockList}.`,
      schema: z.object({
        label,
        old_content: z.string().min(1, "old_content must not be empty").describe("The exact text to replace, as the block holds it."),
        new_content: z.string().max(longestBlock).describe("The new text, or an empty string to delete old_content."),
      }),
    },
  );

  const archivalInsert = tool(
    async ({ content }, config: ToolRunnableConfig) => {
      const run = scopeFromRun(config, "The memory tools");
      const added = await memory.add(content, {
        userId: run.userId,
        kind: "fact",
        importance: insertImportance,
        // A note longer than Memory's limit is kept as linked parts rather than refused mid-run.
        oversize: "split",
        // The note belongs to the user, not the thread; where it was said is kept as its source.
        ...(run.threadId === undefined ? {} : { source: { threadId: run.threadId } }),
      });
      const record = added.results[0];
      const parts = added.results.length > 1 ? ` in ${added.results.length} linked parts` : "";
      return `Saved to archival memory${parts}${record ? ` (id ${record.id})` : ""}. It can be found from any conversation with archival_memory_search.`;
    },
    {
      name: "archival_memory_insert",
      description:
        "Save a fact or note to your long-term archival memory of this user. It is not in your prompt, but " +
        "archival_memory_search finds it by meaning from any later conversation. One self-contained fact per call.",
      schema: z.object({
        content: z
          .string()
          .trim()
          .min(1, "content must not be empty")
          .describe("The fact or note, written so it makes sense on its own later."),
      }),
    },
  );

  const archivalSearch = tool(
    async ({ query: text, page: number }, config: ToolRunnableConfig) => {
      const run = scopeFromRun(config, "The memory tools");
      return formatResults(
        await searchPage(memory, text, { userId: run.userId }, archivalKinds, number, pageSize, "archival memory"),
      );
    },
    {
      name: "archival_memory_search",
      description:
        "Search your long-term archival memory of this user (saved facts and summaries of earlier " +
        `conversations) by meaning. Returns up to ${pageSize} results per page, best first.`,
      schema: z.object({ query: query.describe("What to look for, in your own words."), page }),
    },
  );

  const conversationSearch = tool(
    async ({ query: text, page: number, this_thread_only }, config: ToolRunnableConfig) => {
      const run = scopeFromRun(config, "The memory tools");
      if (this_thread_only && run.threadId === undefined) {
        throw new EngramError(
          "INVALID_SCOPE",
          "this_thread_only needs the run's config.configurable.thread_id, and this run has none.",
        );
      }
      const scope: Scope = this_thread_only ? { userId: run.userId, threadId: run.threadId! } : { userId: run.userId };
      return formatResults(await searchPage(memory, text, scope, ["episode"], number, pageSize, "past conversations"));
    },
    {
      name: "conversation_search",
      description:
        "Search the past messages between you and this user by meaning, in every conversation or only " +
        `this one. Returns up to ${pageSize} messages per page, best first, with their date and thread.`,
      schema: z.object({
        query: query.describe("What was said, in your own words."),
        page,
        this_thread_only: z.boolean().default(false).describe("Only this conversation's messages (default: every conversation)."),
      }),
    },
  );

  return [coreAppend, coreReplace, archivalInsert, archivalSearch, conversationSearch];
}

/** The kinds archival_memory_search looks through: a non-empty list of memory kinds. */
function checkKinds(kinds: unknown): MemoryKind[] {
  if (!Array.isArray(kinds) || kinds.length === 0) {
    throw new EngramError("INVALID_OPTIONS", `archivalKinds must be a non-empty array of memory kinds, got ${describeValue(kinds)}.`);
  }
  return kinds.map((kind) => validateKind(kind));
}

/** Blocks belong to the user across threads and agents. */
function userOnly(scope: Scope): Scope {
  return { userId: scope.userId };
}

async function searchPage(
  memory: Memory,
  query: string,
  scope: Scope,
  kinds: MemoryKind[],
  page: number,
  pageSize: number,
  what: string,
): Promise<ResultPage> {
  const end = (page + 1) * pageSize;
  // One more than the page needs tells whether a next page exists.
  const hits = await memory.search(query, { ...scope, limit: Math.min(end + 1, MAX_RESULTS), filters: { kind: kinds } });
  return { what, query, page, pageSize, memories: hits.slice(page * pageSize, end), more: hits.length > end };
}
