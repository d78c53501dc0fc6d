import fc from "fast-check";
import { EngramError } from "../../core/errors.js";
import type { HistoryEntry, MemoryRecord, ScoredMemory } from "../../core/types.js";
import type { Memory } from "../../memory/memory.js";
import type { AddResult } from "../../memory/options.js";
import { command, USERS, type Command } from "./commands.js";
import { describeValue } from "../../core/describe.js";

/** Errors a caller can cause: anything else from a valid-looking call is a bug of Engram. */
const CALLER_ERRORS = new Set([
  "INVALID_USER_ID",
  "INVALID_SCOPE",
  "INVALID_CONTENT",
  "CONTENT_TOO_LARGE",
  "INVALID_METADATA",
  "INVALID_ID",
  "INVALID_OPTIONS",
  "NOT_FOUND",
]);

/** What the model knows of one record: what was acknowledged last. */
interface Known {
  content: string;
  expiresAt?: number;
}

export interface FuzzOptions {
  seed: number;
  operations: number;
  /** One Memory, or several on the same data folder (each call goes to one of them). */
  memories: Memory[];
  /** The clock the memories were given; the run moves it forward one second per call. */
  clock: { now: number };
  /** Every this many calls, `flush` and a full comparison of store and model. @default 500 */
  checkEvery?: number;
}

export interface FuzzStats {
  calls: number;
  succeeded: number;
  refused: Record<string, number>;
  fullChecks: number;
  /** Milliseconds spent in each kind of call (full checks apart). */
  msByOp: Record<string, number>;
}

/** A failed invariant, with what is needed to reproduce it. */
export class FuzzFailure extends Error {
  constructor(seed: number, at: number, recent: Command[], reason: string) {
    super(
      `fuzz failed: seed ${seed}, call #${at}: ${reason}\n` +
        `reproduce with ENGRAM_FUZZ_SEED=${seed}; last calls (newest last):\n` +
        recent.map((c) => "  " + show(c)).join("\n"),
    );
    this.name = "FuzzFailure";
  }
}

/**
 * Runs a seeded random sequence of calls of the whole public API against the memories and checks,
 * after each call and at every full check, that Engram agrees with a model of what it acknowledged.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const { seed, memories, clock } = options;
  const checkEvery = options.checkEvery ?? 500;
  const commands = fc.sample(command, { seed, numRuns: options.operations });
  const model = new Map<string, Map<string, Known>>(USERS.map((user) => [user, new Map()]));
  const seenIds: string[] = [];
  const seen = new Set<string>();
  const stats: FuzzStats = { calls: 0, succeeded: 0, refused: {}, fullChecks: 0, msByOp: {} };
  const recent: Command[] = [];

  /** The model of a user; a user id that is not a string never gets this far (checked below). */
  const records = (user: unknown): Map<string, Known> | undefined => {
    if (typeof user !== "string") return undefined;
    let mine = model.get(user);
    if (!mine) model.set(user, (mine = new Map()));
    return mine;
  };
  const live = (known: Known | undefined): boolean => known !== undefined && (known.expiresAt === undefined || known.expiresAt > clock.now);
  const idFor = (pickIndex: number): unknown => {
    const strangers: unknown[] = ["no-such-id", "", 5, { $ne: "" }, "\uD800"];
    const all = [...seenIds, ...strangers];
    return all[pickIndex % all.length];
  };
  const learn = (id: string): void => {
    if (!seen.has(id)) {
      seen.add(id);
      seenIds.push(id);
    }
  };

  for (let at = 0; at < commands.length; at += 1) {
    const c = commands[at]!;
    recent.push(c);
    if (recent.length > 12) recent.shift();
    const fail = (reason: string): never => {
      throw new FuzzFailure(seed, at, recent, reason);
    };
    const check = (condition: boolean, reason: () => string): void => {
      if (!condition) fail(reason());
    };
    /** A record returned to `user` must be theirs, acknowledged, current and unexpired. */
    const checkReturned = (user: unknown, record: MemoryRecord, what: string): void => {
      check(record.scope?.userId === user, () => `${what} returned a record of ${JSON.stringify(record.scope?.userId)} to ${JSON.stringify(user)}`);
      const known = records(user)?.get(record.id);
      check(known !== undefined, () => `${what} returned ${record.id}, which was never acknowledged or was deleted: ${show(record.content)}`);
      check(known!.content === record.content, () => `${what} returned old content for ${record.id}: ${show(record.content)} instead of ${show(known!.content)}`);
      check(live(known), () => `${what} returned ${record.id}, which expired`);
    };

    clock.now += 1_000;
    const memory = memories[memories.length > 1 && at % 5 === 4 ? 1 : 0]!;
    stats.calls += 1;
    const user = "user" in c ? c.user : undefined;
    const started = performance.now();
    const scope = (extras?: unknown): Record<string, unknown> => ({ userId: user, ...(extras as object | undefined) });
    /** Only reached after a call succeeded: a user id that is not a string must have been refused. */
    const ownModel = (): Map<string, Known> => records(user) ?? fail(`${c.op} accepted the user id ${show(user)}`);
    try {
      switch (c.op) {
        case "add": {
          const { expiresIn, extras, ...rest } = c.options as { expiresIn?: unknown; extras?: unknown };
          const expiresAt = typeof expiresIn === "number" ? clock.now + expiresIn : expiresIn;
          const result: AddResult = await memory.add(c.input as string, {
            ...(rest as object),
            ...(expiresAt === undefined ? {} : { expiresAt }),
            ...scope(extras),
          } as never);
          for (const record of result.results) {
            check(record.scope.userId === user, () => `add returned a record of another user`);
            learn(record.id);
            const mine = ownModel();
            // Already live (a replay of an earlier add): the stored record stays as it was. An
            // expired one is gone: said again, it is stored anew (replay.ts).
            if (!live(mine.get(record.id))) mine.set(record.id, { content: record.content, ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }) });
          }
          break;
        }
        case "update": {
          const id = idFor(c.pick);
          let change = c.change;
          if (change !== null && typeof change === "object" && "expiresIn" in change) {
            const { expiresIn, ...rest } = change as { expiresIn?: unknown };
            change = { ...rest, expiresAt: typeof expiresIn === "number" ? clock.now + expiresIn : expiresIn };
          }
          const after = await memory.update(id as string, change as string, scope() as never);
          const mine = ownModel();
          check(mine.has(id as string), () => `update succeeded on ${String(id)}, which the user does not have`);
          check(after.id === id && after.scope.userId === user, () => `update returned another record`);
          mine.set(after.id, { content: after.content, ...(after.expiresAt === undefined ? {} : { expiresAt: after.expiresAt }) });
          break;
        }
        case "delete": {
          const id = idFor(c.pick);
          await memory.delete(id as string, scope() as never);
          check(records(user)?.has(id as string) === true, () => `delete succeeded on ${String(id)}, which the user does not have`);
          ownModel().delete(id as string);
          break;
        }
        case "deleteAll":
          await memory.deleteAll(scope() as never);
          ownModel().clear();
          break;
        case "forget": {
          const report = await memory.forget({ ...c.options, ...scope() } as never);
          for (const id of report.removedIds) {
            check(ownModel().has(id), () => `forget removed ${id}, which the user does not have`);
            ownModel().delete(id);
          }
          break;
        }
        case "search": {
          const { extras, ...rest } = c.options as { extras?: unknown };
          const hits: ScoredMemory[] = await memory.search(c.query, { ...(rest as object), ...scope(extras) } as never);
          for (const hit of hits) checkReturned(user, hit, "search");
          break;
        }
        case "get": {
          const id = idFor(c.pick);
          const record = await memory.get(id as string, scope() as never);
          if (record) checkReturned(user, record, "get");
          else check(!live(records(user)?.get(id as string)), () => `get found nothing for ${String(id)}, acknowledged as ${show(records(user)?.get(id as string)?.content)}`);
          break;
        }
        case "getAll": {
          const all = await memory.getAll({ ...c.options, ...scope() } as never);
          for (const record of all) checkReturned(user, record, "getAll");
          break;
        }
        case "history": {
          const id = idFor(c.pick);
          const entries: HistoryEntry[] = await memory.history(id as string, scope() as never);
          for (const entry of entries) check(entry.userId === user && entry.memoryId === id, () => `history returned an entry of another user or memory`);
          const known = records(user)?.get(id as string);
          const last = entries[entries.length - 1];
          if (known && last) check(last.newContent === known.content, () => `history's last entry for ${String(id)} says ${show(last.newContent)}, acknowledged ${show(known.content)}`);
          break;
        }
        case "flush":
          await memory.flush();
          break;
      }
      stats.succeeded += 1;
      if (c.op !== "flush") check(typeof user === "string", () => `${c.op} accepted the user id ${show(user)}`);
    } catch (error) {
      if (error instanceof FuzzFailure) throw error;
      if (!(error instanceof EngramError) || typeof error.code !== "string" || (error.code as string) === "") {
        fail(`threw something else than an EngramError with a code: ${(error as Error)?.stack ?? String(error)}`);
      }
      const code = (error as EngramError).code;
      if (!CALLER_ERRORS.has(code)) fail(`failed with ${code}, not a caller's mistake: ${(error as Error).message}`);
      // NOT_FOUND must mean what it says.
      if (code === "NOT_FOUND" && (c.op === "update" || c.op === "delete")) {
        const id = idFor(c.pick);
        check(!records(user)?.has(id as string), () => `${c.op} said NOT_FOUND for ${String(id)}, acknowledged as ${show(records(user)?.get(id as string)?.content)}`);
      }
      stats.refused[code] = (stats.refused[code] ?? 0) + 1;
    }
    stats.msByOp[c.op] = Math.round((stats.msByOp[c.op] ?? 0) + performance.now() - started);

    if ((at + 1) % checkEvery === 0 || at === commands.length - 1) {
      await compareAll(memories, model, live, (reason) => fail(reason));
      stats.fullChecks += 1;
    }
  }
  return stats;
}

/** `flush`, then every user's records in every memory equal what the model acknowledged. */
async function compareAll(
  memories: Memory[],
  model: Map<string, Map<string, Known>>,
  live: (known: Known | undefined) => boolean,
  fail: (reason: string) => never,
): Promise<void> {
  for (const memory of memories) await memory.flush();
  for (const memory of memories) {
    for (const [user, known] of model) {
      const stored = await memory.getAll({ userId: user, limit: 10_000, includeInvalid: true });
      const expected = [...known].filter(([, k]) => live(k));
      const byId = new Map(stored.map((record) => [record.id, record]));
      if (byId.size !== stored.length) fail(`getAll of ${user} returned a record twice`);
      for (const [id, k] of expected) {
        const record = byId.get(id);
        if (!record) fail(`after flush, ${user}'s ${id} is lost: ${show(k.content)}`);
        if (record!.content !== k.content) fail(`after flush, ${user}'s ${id} holds ${show(record!.content)}, acknowledged ${show(k.content)}`);
      }
      for (const record of stored) {
        if (!live(known.get(record.id))) fail(`after flush, ${user} has ${record.id}, which was deleted or never acknowledged: ${show(record.content)}`);
      }
      // Recall agrees too (its in-process index): a broad search returns only acknowledged records.
      for (const hit of await memory.search("tea coffee Paris cat", { userId: user, limit: 50 })) {
        if (hit.scope.userId !== user || known.get(hit.id)?.content !== hit.content) fail(`after flush, search of ${user} returned ${hit.id}: ${show(hit.content)}`);
      }
    }
  }
}

/** A short printable form of any value (bigints, symbols, functions, cycles and long strings included). */
export function show(value: unknown): string {
  return describeValue(value, 400);
}
