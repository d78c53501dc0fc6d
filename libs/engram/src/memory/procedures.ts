/**
 * Procedural memory: instructions the agent learns, stored as `procedure` records and recalled
 * into the system prompt.
 */
import { EngramError } from "../core/errors.js";
import { validateScopeOptions } from "../core/scope.js";
import type { MemoryRecord, Metadata, Scope } from "../core/types.js";
import { validateMetadata } from "../core/validate.js";
import type { Memory } from "./memory.js";

/** Options of {@link Procedures.learn}. */
export interface LearnOptions extends Scope {
  /** 0..1, how much the instruction matters. @default 0.5 */
  importance?: number;
  /** Flat metadata kept with the instruction (`block` is reserved for core blocks). */
  metadata?: Metadata;
}

/** The metadata key that marks a core block; learned instructions never have it. */
const BLOCK_KEY = "block";

/** Most instructions `list` returns: all of a user's, in practice. */
const MAX_LISTED = 10_000;

/**
 * Procedural memory: instructions the agent learned about how to work with a user ("when the
 * user asks for code, answer in TypeScript"), kept across threads and shown in every system
 * prompt. Stored as records of kind "procedure" without `metadata.block` (records with it are
 * core blocks, see `CoreBlocks`). An instruction belongs to the user (and agent); the thread it
 * was learned in is kept as its source. Retiring deletes it; the history log keeps every version.
 *
 * ```ts
 * const procedures = new Procedures(memory);
 * await procedures.learn("When the user asks for code, answer in TypeScript", { userId: "alice" });
 * const active = await procedures.list({ userId: "alice" });
 * await procedures.retire(active[0]!.id, { userId: "alice" });
 * ```
 */
export class Procedures {
  constructor(private readonly memory: Memory) {}

  /** Stores an instruction (learning the same words twice keeps one). */
  async learn(instruction: string, options: LearnOptions): Promise<MemoryRecord> {
    // A key it does not know is refused, not ignored (`{ expiresIn }` stored an instruction for ever).
    const scope = validateScopeOptions(options, "learn()", ["importance", "metadata"]);
    const metadata = validateMetadata(options.metadata);
    if (BLOCK_KEY in metadata) {
      throw new EngramError("INVALID_METADATA", `metadata "${BLOCK_KEY}" marks a core block; use CoreBlocks for blocks.`);
    }
    const owner: Scope = { userId: scope.userId };
    if (scope.agentId !== undefined) owner.agentId = scope.agentId;
    const { results } = await this.memory.add(instruction, {
      ...owner,
      kind: "procedure",
      metadata,
      ...(options.importance === undefined ? {} : { importance: options.importance }),
      ...(scope.threadId === undefined ? {} : { source: { threadId: scope.threadId } }),
    });
    return results[0]!;
  }

  /** The user's active learned instructions, oldest first (the order they were learned in). */
  async list(options: Scope): Promise<MemoryRecord[]> {
    const scope = validateScopeOptions(options, "list()");
    const owner: Scope = { userId: scope.userId };
    if (scope.agentId !== undefined) owner.agentId = scope.agentId;
    const records = await this.memory.getAll({ ...owner, kind: "procedure", limit: MAX_LISTED });
    return records.filter(isLearned).sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Deletes a learned instruction; `NOT_FOUND` for unknown ids, other users' ids, core blocks and,
   * with an `agentId`, another agent's instructions (as `list` narrows to the agent).
   */
  async retire(id: string, options: Scope): Promise<void> {
    const scope = validateScopeOptions(options, "retire()");
    const record = await this.memory.get(id, scope);
    // `get` reads at the user's level: the agent is checked here.
    const otherAgent = record !== null && scope.agentId !== undefined && record.scope.agentId !== scope.agentId;
    if (!record || !isLearned(record) || otherAgent) {
      throw new EngramError("NOT_FOUND", `No learned instruction ${id} for this user.`, { details: { id } });
    }
    await this.memory.delete(id, scope);
  }
}

/** A record of kind "procedure" that is not a core block. */
export function isLearned(record: MemoryRecord): boolean {
  return record.kind === "procedure" && record.metadata[BLOCK_KEY] === undefined;
}
