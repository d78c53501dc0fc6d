import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { EngramError, isEngramError, type EngramErrorCode } from "../core/errors.js";
import type { DrainResult, Writer, WriteOp } from "./writer.js";
import { MAX_BACKGROUND_DRAINS, WritePolicy, type WriteMode } from "./write_policy.js";

/**
 * The write policy (memory/write_policy.ts), hermetic: the writer is a stand-in whose drain returns
 * what each case needs, and which records what the policy discards. The policy decides, once for
 * both modes, whether a drain's failed writes stay queued or are dropped, and who is told.
 */
class FakeWriter {
  readonly discarded: number[][] = [];
  drains = 0;
  constructor(private readonly result: DrainResult) {}
  async enqueue(_userId: string, ops: WriteOp[]): Promise<number[]> {
    return ops.map((_, i) => 10 + i);
  }
  async drain(): Promise<DrainResult> {
    this.drains += 1;
    return this.result;
  }
  async discard(seqs: number[]): Promise<void> {
    this.discarded.push(seqs);
  }
  async pendingCount(): Promise<number> {
    return 1;
  }
}

const OP: WriteOp = { op: "delete", id: "m1", history: null };

function failed(code: EngramErrorCode): DrainResult {
  return { applied: 0, pending: 2, error: new EngramError(code, `drain stopped: ${code}`), failed: [10, 99] };
}

let warnings: Array<{ message: string; code: string | undefined }>;
let emit: ReturnType<typeof jest.spyOn>;

beforeEach(() => {
  warnings = [];
  emit = jest.spyOn(process, "emitWarning").mockImplementation(((message: string, options?: { code?: string }) => {
    warnings.push({ message, code: options?.code });
  }) as typeof process.emitWarning);
});

afterEach(() => {
  emit.mockRestore();
});

function policy(writer: FakeWriter, mode: WriteMode): WritePolicy {
  return new WritePolicy({ mode, writer: async () => writer as unknown as Writer, closed: () => false, history: async () => [] });
}

/** A background write, and the drain it schedules for the next turn of the event loop. */
async function background(writer: FakeWriter): Promise<boolean> {
  const pending = await policy(writer, "background").write("alice", [OP]);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return pending;
}

describe("WritePolicy, a caller waiting (sync)", () => {
  it("stored: not pending, nothing dropped, nobody warned", async () => {
    const writer = new FakeWriter({ applied: 1, pending: 0 });
    expect(await policy(writer, "sync").write("alice", [OP])).toBe(false);
    expect(writer.discarded).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it.each<EngramErrorCode>(["STORE_UNAVAILABLE", "CHROMA_EXITED", "EMBEDDING_FAILED", "STATE_UNAVAILABLE", "OUTBOX_ERROR", "CLOSED"])("%s keeps the writes queued and says pending", async (code) => {
    const writer = new FakeWriter(failed(code));
    expect(await policy(writer, "sync").write("alice", [OP])).toBe(true);
    expect(writer.discarded).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it.each<EngramErrorCode>(["STORE_ERROR", "EMBEDDINGS_MISMATCH"])("%s drops the caller's own writes only and throws", async (code) => {
    const writer = new FakeWriter(failed(code));
    const error = await policy(writer, "sync").write("alice", [OP]).catch((e: unknown) => e);
    expect(isEngramError(error, code)).toBe(true);
    expect(writer.discarded).toEqual([[10]]);
  });

  it("throws the refusal of the caller's own write, and warns of another one refused beside it", async () => {
    const own = new EngramError("STORE_ERROR", "own record refused");
    const writer = new FakeWriter({
      applied: 3,
      pending: 0,
      refused: [
        { seq: 10, userId: "alice", id: "m1", error: own },
        { seq: 7, userId: "alice", id: "m0", error: new EngramError("STORE_ERROR", "another refused") },
      ],
    });
    await expect(policy(writer, "sync").write("alice", [OP])).rejects.toBe(own);
    expect(warnings).toEqual([{ message: expect.stringContaining("record m0"), code: "ENGRAM_WRITE_REFUSED" }]);
  });
});

describe("WritePolicy, nobody waiting (background)", () => {
  it("returns pending at once and drains on the next turn of the event loop", async () => {
    const writer = new FakeWriter({ applied: 1, pending: 0 });
    const pending = policy(writer, "background").write("alice", [OP]);
    expect(await pending).toBe(true);
    expect(writer.drains).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.drains).toBe(1);
    expect(warnings).toEqual([]);
  });

  // The shared state failing under the drain (PostgreSQL restarting, a full disk) is an outage too:
  // dropping the writes then, with the state back, lost acknowledged writes.
  it.each<EngramErrorCode>(["STORE_UNAVAILABLE", "STATE_UNAVAILABLE", "OUTBOX_ERROR"])("an outage (%s) keeps the writes queued, quietly", async (code) => {
    const writer = new FakeWriter(failed(code));
    expect(await background(writer)).toBe(true);
    expect(writer.discarded).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it.each<EngramErrorCode>(["EMBEDDING_FAILED", "EMBEDDINGS_MISMATCH"])("%s keeps the writes queued and warns", async (code) => {
    const writer = new FakeWriter(failed(code));
    await background(writer);
    expect(writer.discarded).toEqual([]);
    expect(warnings).toEqual([{ message: expect.stringContaining("could not embed 2"), code: "ENGRAM_EMBEDDING_FAILED" }]);
  });

  it("runs at most MAX_BACKGROUND_DRAINS users' drains at once; the others wait their turn and all drain", async () => {
    let running = 0;
    let most = 0;
    const drained: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const writer = {
      enqueue: async (_userId: string, ops: WriteOp[]) => ops.map((_, i) => i),
      drain: async (userId: string): Promise<DrainResult> => {
        running += 1;
        most = Math.max(most, running);
        await gate;
        running -= 1;
        drained.push(userId);
        return { applied: 1, pending: 0 };
      },
    };
    const burst = new WritePolicy({ mode: "background", writer: async () => writer as unknown as Writer, closed: () => false, history: async () => [] });
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    for (const user of users) await burst.write(user, [OP]);
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(MAX_BACKGROUND_DRAINS);
    open();
    for (let i = 0; i < 20 && drained.length < users.length; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(drained.sort()).toEqual([...users].sort());
    expect(most).toBe(MAX_BACKGROUND_DRAINS);
  });

  it("a refusal drops the failed writes and warns", async () => {
    const writer = new FakeWriter(failed("STORE_ERROR"));
    await background(writer);
    expect(writer.discarded).toEqual([[10, 99]]);
    expect(warnings).toEqual([{ message: expect.stringContaining("dropped 2 background write(s)"), code: "ENGRAM_WRITE_REFUSED" }]);
  });
});
