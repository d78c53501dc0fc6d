import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { EngramError, isEngramError } from "../../core/errors.js";
import { validateScope } from "../../core/scope.js";
import { MEMORY_KINDS, type MemoryKind, type MemoryRecord, type ScoredMemory } from "../../core/types.js";
import type { Memory } from "../../memory/memory.js";

/** What the MCP server needs of a `Memory`. */
export type McpMemory = Pick<Memory, "add" | "search" | "getAll" | "get" | "update" | "delete" | "deleteAll">;

/** Options of `createEngramMcpServer(options)`. Only `memory` and `userId` are required. */
export interface EngramMcpServerOptions {
  memory: McpMemory;
  /**
   * The one user this server serves, fixed by whoever starts it (`engram mcp --user`). No tool
   * takes a user: a client cannot reach another user's memory.
   */
  userId: string;
  /** Offer `erase_memories` (every memory of the user, for good). @default false */
  allowErase?: boolean;
  /**
   * Let clients add, change and delete instructions (`procedure` memories and core blocks), which
   * every door puts in the system prompt of every later conversation. Off by default: a client is
   * a model, which a prompt injection (a web page, a document, a tool result it read) can steer,
   * and one tool call would then plant an instruction in every future prompt. Reading them stays
   * open. @default false
   */
  allowInstructions?: boolean;
  /** The server's name in the MCP handshake. @default "engram" */
  name?: string;
  /** The server's version in the MCP handshake. @default "0.0.0" */
  version?: string;
}

const kind = z.enum(MEMORY_KINDS as [MemoryKind, ...MemoryKind[]]);
/** The kinds a client may write without `allowInstructions`. */
const PLAIN_KINDS = MEMORY_KINDS.filter((one) => one !== "procedure") as [MemoryKind, ...MemoryKind[]];

/** A memory as a tool returns it: what a model needs, without vectors or internals. */
function view(record: MemoryRecord | ScoredMemory) {
  return {
    id: record.id,
    kind: record.kind,
    content: record.content,
    importance: record.importance,
    createdAt: new Date(record.createdAt).toISOString(),
    ...("score" in record ? { score: Number(record.score.toFixed(4)) } : {}),
    ...(record.source.threadId !== undefined ? { threadId: record.source.threadId } : {}),
    ...(Object.keys(record.metadata ?? {}).length > 0 ? { metadata: record.metadata } : {}),
  };
}

function ok(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }] };
}

/** A refusal the model can read and act on (`isError`), never a crashed server. */
async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (error) {
    const text = isEngramError(error) ? `error [${error.code}]: ${error.message}` : `error: ${(error as Error)?.message ?? String(error)}`;
    return { isError: true, content: [{ type: "text", text }] };
  }
}

/**
 * An MCP server offering one user's memory as tools: `search_memory`, `add_memory`,
 * `list_memories`, `get_memory`, `update_memory`, `delete_memory`, and `erase_memories` only with
 * `allowErase`. Connect it to a transport (`engram mcp` uses stdio).
 */
export function createEngramMcpServer(options: EngramMcpServerOptions): McpServer {
  if (options === null || typeof options !== "object" || options.memory === null || typeof options.memory !== "object") {
    throw new EngramError("INVALID_OPTIONS", "createEngramMcpServer needs options: { memory, userId }.");
  }
  if (options.userId === undefined || options.userId === null || options.userId === "") {
    throw new EngramError("INVALID_USER_ID", "The MCP server serves one user, fixed when it starts: pass userId (engram mcp --user <id>).");
  }
  const { userId } = validateScope({ userId: options.userId });
  const memory = options.memory;
  const instructions = options.allowInstructions === true;
  const writable = instructions ? kind : z.enum(PLAIN_KINDS);
  /** The record `id` of the user, refused when it is an instruction this server may not touch. */
  const mayChange = async (id: string): Promise<void> => {
    if (instructions) return;
    const record = await memory.get(id, { userId });
    if (record?.kind === "procedure") {
      throw new EngramError(
        "INVALID_SCOPE",
        `Memory ${id} is an instruction (kept in every system prompt); this server does not let clients change or delete instructions (start it with --allow-instructions).`,
      );
    }
  };
  const server = new McpServer({ name: options.name ?? "engram", version: options.version ?? "0.0.0" });

  server.registerTool(
    "search_memory",
    {
      description: "Search the user's long-term memory by meaning. Returns the best matches first, with a score from 0 to 1.",
      inputSchema: {
        query: z.string().min(1).describe("What to look for, in natural language."),
        limit: z.number().int().min(1).max(50).optional().describe("Most results (default 5)."),
        kind: kind.optional().describe("Only memories of this kind."),
      },
      annotations: { readOnlyHint: true },
    },
    ({ query, limit, kind: only }) =>
      guarded(async () => {
        const found = await memory.search(query, { userId, limit: limit ?? 5, ...(only ? { filters: { kind: only } } : {}) });
        return ok(found.map(view));
      }),
  );

  server.registerTool(
    "add_memory",
    {
      description: "Remember something about the user for later conversations. Returns the stored memory's id.",
      inputSchema: {
        content: z.string().min(1).describe("The memory, as a self-contained sentence."),
        kind: writable
          .optional()
          .describe(instructions ? "episode (something that happened or was said, default), fact, summary or procedure (an instruction for every later conversation)." : "episode (something that happened or was said, default), fact or summary."),
        importance: z.number().min(0).max(1).optional().describe("0..1, how much it matters (default 0.5)."),
      },
    },
    ({ content, kind: as, importance }) =>
      guarded(async () => {
        const { results, warnings } = await memory.add(content, { userId, ...(as ? { kind: as } : {}), ...(importance !== undefined ? { importance } : {}) });
        return ok({ added: results.map(view), ...(warnings.length > 0 ? { warnings } : {}) });
      }),
  );

  server.registerTool(
    "list_memories",
    {
      description: "List the user's memories, newest first.",
      inputSchema: {
        kind: kind.optional().describe("Only memories of this kind."),
        limit: z.number().int().min(1).max(100).optional().describe("Most results (default 20)."),
        offset: z.number().int().min(0).optional().describe("Skip this many (default 0)."),
      },
      annotations: { readOnlyHint: true },
    },
    ({ kind: only, limit, offset }) =>
      guarded(async () => {
        const records = await memory.getAll({ userId, limit: limit ?? 20, offset: offset ?? 0, ...(only ? { kind: only } : {}) });
        return ok(records.map(view));
      }),
  );

  const idArg = { id: z.string().min(1).describe("The memory's id (from search_memory or list_memories).") };

  server.registerTool(
    "get_memory",
    { description: "Read one of the user's memories by id.", inputSchema: idArg, annotations: { readOnlyHint: true } },
    ({ id }) =>
      guarded(async () => {
        const record = await memory.get(id, { userId });
        if (record === null) throw new EngramError("NOT_FOUND", `No memory ${id} for this user.`);
        return ok(view(record));
      }),
  );

  server.registerTool(
    "update_memory",
    {
      description: "Change one of the user's memories: its text and/or its importance.",
      inputSchema: {
        ...idArg,
        content: z.string().min(1).optional().describe("The new text."),
        importance: z.number().min(0).max(1).optional().describe("The new importance, 0..1."),
      },
    },
    ({ id, content, importance }) =>
      guarded(async () => {
        if (content === undefined && importance === undefined) {
          throw new EngramError("INVALID_CONTENT", "update_memory needs content or importance.");
        }
        await mayChange(id);
        const record = await memory.update(id, { ...(content !== undefined ? { content } : {}), ...(importance !== undefined ? { importance } : {}) }, { userId });
        return ok(view(record));
      }),
  );

  server.registerTool(
    "delete_memory",
    { description: "Delete one of the user's memories by id.", inputSchema: idArg, annotations: { destructiveHint: true } },
    ({ id }) =>
      guarded(async () => {
        await mayChange(id);
        await memory.delete(id, { userId });
        return ok({ deleted: id });
      }),
  );

  if (options.allowErase === true) {
    server.registerTool(
      "erase_memories",
      {
        description: "Erase every memory of the user, for good. Only when the user asks for it explicitly.",
        inputSchema: { confirm: z.literal("erase all my memories").describe('Must be exactly "erase all my memories".') },
        annotations: { destructiveHint: true },
      },
      () =>
        guarded(async () => {
          const report = await memory.deleteAll({ userId });
          return ok(report);
        }),
    );
  }
  return server;
}
