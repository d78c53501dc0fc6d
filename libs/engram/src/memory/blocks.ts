/**
 * Core blocks: named, size-limited texts per user (persona, user profile) kept as records and
 * always shown to the model.
 */
import { EngramError } from "../core/errors.js";
import { deterministicId } from "../core/ids.js";
import { KeyedQueue } from "../core/keyed_queue.js";
import { validateScope } from "../core/scope.js";
import { isBlank, repairText } from "../core/text.js";
import type { MemoryRecord, Scope } from "../core/types.js";
import type { Memory } from "./memory.js";
import { describeValue } from "../core/describe.js";

/** One core block to keep for every user: a named, size-limited text always shown to the model. */
export interface CoreBlockSpec {
  /**
   * The block's name; also its tag in the system prompt (`<human>...</human>`), so letters, digits
   * and "_", starting with a letter, at most 64 characters.
   */
  name: string;
  /** Most characters the block may hold; a write that would exceed it is refused. @default 2000 */
  limit?: number;
  /** What the block holds until something is written to it. @default "" */
  initial?: string;
  /** What the block is for, shown to the model in the memory tools' descriptions. @default "" */
  description?: string;
}

/** Options of `new CoreBlocks(memory, options)`. */
export interface CoreBlocksOptions {
  /**
   * The blocks every user has, in prompt order. Names must be unique.
   * @default DEFAULT_CORE_BLOCKS: "persona" (who the agent is) and "human" (who the user is), 2000 characters each
   */
  blocks?: CoreBlockSpec[];
}

/** A spec with its defaults applied. */
export type ResolvedCoreBlockSpec = Required<CoreBlockSpec>;

/** A block as one user has it now. */
export interface CoreBlock {
  name: string;
  limit: number;
  description: string;
  /** The text the block holds (its `initial` text while nothing was written). */
  value: string;
  /** The stored record, or null while the block holds its initial text or was emptied. */
  record: MemoryRecord | null;
}

/** Most characters a block holds unless its spec says otherwise (Letta's default too). */
export const DEFAULT_BLOCK_LIMIT = 2_000;

/** The two blocks MemGPT and Letta start every agent with. */
export const DEFAULT_CORE_BLOCKS: readonly CoreBlockSpec[] = [
  {
    name: "persona",
    description: "Who you are and how you behave: your persona, tone and standing instructions.",
    initial: "I am a helpful assistant with a long-term memory. I keep what matters about the user in my core memory.",
  },
  {
    name: "human",
    description: "What you know about the user you are talking with: name, preferences, circumstances.",
  },
];

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The id of a user's block: one record per (user, block name), as INTERFACES.md agrees. */
export function blockId(userId: string, name: string): string {
  return deterministicId("block", userId, name);
}

/**
 * Core memory blocks (MemGPT's "core memory"): a few named texts per user, each with a character
 * limit, that the agent edits with tools and that are always in the system prompt.
 *
 * Stored as ordinary records of kind "procedure" with `metadata: { block, limit }`, id
 * `blockId(userId, name)`, scoped to the user alone (not a thread: a block follows the user
 * everywhere). Every change goes through `Memory`, so each version is in `memory.history(id)`.
 * A block emptied by a replace is deleted (history keeps it) because a record cannot be empty.
 *
 * ```ts
 * const blocks = new CoreBlocks(memory);
 * await blocks.append({ userId: "alice" }, "human", "Name: Alice. Vegetarian.");
 * await blocks.replace({ userId: "alice" }, "human", "Vegetarian", "Vegan");
 * ```
 */
export class CoreBlocks {
  /** The configured blocks, in prompt order, defaults applied. */
  readonly specs: readonly ResolvedCoreBlockSpec[];

  /** Writes to one user's block through this object run one after another (see `serialize`). */
  private readonly queues = new KeyedQueue();

  constructor(
    private readonly memory: Memory,
    options: CoreBlocksOptions = {},
  ) {
    this.specs = resolveSpecs(options.blocks ?? DEFAULT_CORE_BLOCKS);
  }

  /** Every configured block as the user has it now, in prompt order. */
  async list(scope: Scope): Promise<CoreBlock[]> {
    const { userId } = validateScope(scope);
    return Promise.all(this.specs.map((spec) => this.read(userId, spec)));
  }

  /** One block as the user has it now. Throws `UNKNOWN_BLOCK` for a name not configured. */
  async get(scope: Scope, name: string): Promise<CoreBlock> {
    const { userId } = validateScope(scope);
    return this.read(userId, this.spec(name));
  }

  /**
   * Adds `text` on a new line at the end of the block. Throws `BLOCK_LIMIT` (nothing written) when
   * the block would exceed its limit.
   */
  async append(scope: Scope, name: string, text: string): Promise<CoreBlock> {
    const { userId } = validateScope(scope);
    const spec = this.spec(name);
    const addition = requireText(text, "text");
    return this.serialize(userId, spec.name, async () => {
      const before = await this.read(userId, spec);
      const value = before.value.trim() === "" ? addition : `${before.value}\n${addition}`;
      return this.write(userId, spec, before, value);
    });
  }

  /**
   * Replaces every occurrence of `oldText` in the block by `newText` (an empty `newText` deletes
   * it). Throws `BLOCK_TEXT_NOT_FOUND` when the block does not contain `oldText`, and `BLOCK_LIMIT`
   * when the result would exceed the limit; nothing is written then.
   */
  async replace(scope: Scope, name: string, oldText: string, newText: string): Promise<CoreBlock> {
    const { userId } = validateScope(scope);
    const spec = this.spec(name);
    requireText(oldText, "oldText");
    // Matched exactly as given: trimming could make it match somewhere else.
    const search = oldText;
    if (typeof newText !== "string") {
      throw new EngramError("INVALID_CONTENT", `newText must be a string (empty to delete), got ${typeof newText}.`);
    }
    return this.serialize(userId, spec.name, async () => {
      const before = await this.read(userId, spec);
      if (!before.value.includes(search)) {
        throw new EngramError(
          "BLOCK_TEXT_NOT_FOUND",
          `Core block "${spec.name}" does not contain ${describeValue(search)}; replace needs the exact text it holds.`,
          { details: { block: spec.name } },
        );
      }
      return this.write(userId, spec, before, before.value.split(search).join(newText));
    });
  }

  /**
   * The blocks as procedure records, in prompt order, for `buildSystemPrompt`: stored records as
   * they are, and blocks never written as unsaved records holding their initial text (so the
   * model sees every block it can edit, empty ones included).
   */
  async records(scope: Scope): Promise<MemoryRecord[]> {
    const { userId } = validateScope(scope);
    const blocks = await this.list({ userId });
    return blocks.map((block) => block.record ?? unsavedRecord(userId, block));
  }

  private spec(name: string): ResolvedCoreBlockSpec {
    const spec = this.specs.find((candidate) => candidate.name === name);
    if (!spec) {
      throw new EngramError(
        "UNKNOWN_BLOCK",
        `There is no core block ${describeValue(name)}; the blocks are ${this.specs.map((s) => `"${s.name}"`).join(", ")}.`,
        { details: { block: name } },
      );
    }
    return spec;
  }

  private async read(userId: string, spec: ResolvedCoreBlockSpec): Promise<CoreBlock> {
    const record = await this.memory.get(blockId(userId, spec.name), { userId });
    const { name, limit, description } = spec;
    return { name, limit, description, value: record ? record.content : spec.initial, record };
  }

  private async write(userId: string, spec: ResolvedCoreBlockSpec, before: CoreBlock, next: string): Promise<CoreBlock> {
    // Records hold trimmed, safe content (core/text.ts); the limit applies to what is kept. A block
    // of invisible characters only is an empty block.
    const safe = repairText(next).trim();
    const value = isBlank(safe) ? "" : safe;
    if (value.length > spec.limit) {
      throw new EngramError(
        "BLOCK_LIMIT",
        `Core block "${spec.name}" is limited to ${spec.limit} characters; this edit would make it ${value.length}. ` +
          "Shorten or replace what it holds first.",
        { details: { block: spec.name, limit: spec.limit, length: value.length } },
      );
    }
    const id = blockId(userId, spec.name);
    const metadata = { block: spec.name, limit: spec.limit };
    const { name, limit, description } = spec;
    if (value === "") {
      if (before.record) await this.memory.delete(id, { userId });
      return { name, limit, description, value: "", record: null };
    }
    if (before.record) {
      const record = await this.memory.update(id, { content: value, metadata }, { userId });
      return { name, limit, description, value, record };
    }
    // Core blocks are always shown, so importance plays no part in ranking them: 1 marks them kept.
    const added = await this.memory.add(value, { userId, id, kind: "procedure", metadata, importance: 1 });
    return { name, limit, description, value, record: added.results[0] ?? null };
  }

  /**
   * Runs an edit (a read, then a write of the whole block) alone among the edits of the user's
   * block: of this object, of every other CoreBlocks (createMemoryTools makes its own, and an app
   * that builds its tools per request has one per request) and of other processes on the state,
   * under the state's per-user lock. Two edits at once used to read the same text, and the later
   * write dropped the earlier's.
   */
  private serialize<T>(userId: string, name: string, task: () => Promise<T>): Promise<T> {
    return this.queues.run(blockId(userId, name), async () => {
      // A read first: it opens the Memory's parts (the state's lock needs them) or throws CLOSED.
      await this.memory.get(blockId(userId, name), { userId });
      return this.memory.state.leases.exclusive(userId, `block:${name}`, task);
    });
  }
}

function resolveSpecs(specs: readonly CoreBlockSpec[]): ResolvedCoreBlockSpec[] {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new EngramError("INVALID_OPTIONS", "blocks must be a non-empty array of { name, limit?, initial?, description? }.");
  }
  const seen = new Set<string>();
  return specs.map((spec) => {
    const name = spec?.name;
    if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
      throw new EngramError(
        "INVALID_OPTIONS",
        `A core block name must be 1-64 letters, digits or "_", starting with a letter (it becomes a prompt tag); got ${describeValue(name)}.`,
      );
    }
    if (seen.has(name)) throw new EngramError("INVALID_OPTIONS", `Core block "${name}" is configured twice.`);
    seen.add(name);
    const limit = spec.limit ?? DEFAULT_BLOCK_LIMIT;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
      throw new EngramError("INVALID_OPTIONS", `Core block "${name}": limit must be a positive integer, got ${describeValue(spec.limit)}.`);
    }
    const initial = (spec.initial ?? "").trim();
    if (initial.length > limit) {
      throw new EngramError("INVALID_OPTIONS", `Core block "${name}": its initial text (${initial.length} characters) exceeds its limit of ${limit}.`);
    }
    return { name, limit, initial, description: spec.description ?? "" };
  });
}

function requireText(value: unknown, name: string): string {
  // Judged as it would be stored (core/text.ts): text of control or invisible characters only
  // ("\0\0") is no text, and was "appended" as nothing while the call reported success.
  if (typeof value !== "string" || isBlank(repairText(value).trim())) {
    throw new EngramError("INVALID_CONTENT", `${name} must be a non-empty string (some visible text).`);
  }
  return value.trim();
}

function unsavedRecord(userId: string, block: CoreBlock): MemoryRecord {
  return {
    id: blockId(userId, block.name),
    scope: { userId },
    kind: "procedure",
    content: block.value,
    importance: 1,
    createdAt: 0,
    updatedAt: 0,
    lastAccessedAt: 0,
    source: {},
    metadata: { block: block.name, limit: block.limit },
  };
}
