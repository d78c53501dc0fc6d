import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { rm } from "node:fs/promises";
import { EngramError } from "../core/errors.js";
import { SqliteState } from "../state/sqlite/index.js";
import type { Job } from "../state/types.js";
import { tempDir } from "../tests/chroma.js";
import { BackgroundQueue, type JobHandler } from "./background.js";

interface Payload {
  text: string;
}

let dir: string;
let state: SqliteState;
const queues: Array<BackgroundQueue<Payload>> = [];

beforeEach(async () => {
  dir = await tempDir("engram-bg-");
  state = new SqliteState({ path: dir });
});

afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.close();
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

function queue(handler: JobHandler<Payload>, options = {}): BackgroundQueue<Payload> {
  const q = new BackgroundQueue<Payload>({ table: state.jobs<Payload>("test"), handler, options: { debounceMs: 60_000, ...options } });
  queues.push(q);
  return q;
}

function job(userId: string, group: string, text: string) {
  return { userId, group, key: `${group}:${text}`, payload: { text } };
}

/** A promise with its resolve function, to hold a run open while the test looks at the queue. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe("BackgroundQueue", () => {
  it("takes a group's jobs in batches of the size asked, oldest first; a batch refused for good does not drop the next", async () => {
    const runs: string[][] = [];
    const q = new BackgroundQueue<Payload>({
      table: state.jobs<Payload>("test"),
      options: { debounceMs: 60_000 },
      batch: () => 2,
      handler: async (jobs) => {
        runs.push(jobs.map((j) => j.payload.text));
        if (jobs[0]!.payload.text === "a") throw new EngramError("MODEL_OUTPUT_INVALID", "unusable");
      },
    });
    queues.push(q);
    for (const text of ["a", "b", "c", "d", "e"]) await q.submit(job("alice", "t1", text));
    const failures = await q.flush();
    expect(runs).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(failures.map((failure) => failure.dropped)).toEqual([true]);
    expect(await q.pending()).toBe(0);
  });

  it("returns from submit before the run, batches a group's jobs into one run, and flush waits for it", async () => {
    const runs: string[][] = [];
    const q = queue(async (jobs) => {
      runs.push(jobs.map((j) => j.payload.text));
    });
    expect(await q.submit(job("alice", "t1", "a"))).toBe(true);
    expect(await q.submit(job("alice", "t1", "b"))).toBe(true);
    // The same job again (same key) is not queued twice.
    expect(await q.submit(job("alice", "t1", "b"))).toBe(false);
    expect(runs).toEqual([]);
    expect(await q.pending("alice")).toBe(2);
    expect(await q.flush()).toEqual([]);
    expect(runs).toEqual([["a", "b"]]);
    expect(await q.pending()).toBe(0);
  });

  it("runs at most `concurrency` groups at once and one run per user at a time", async () => {
    const active = new Set<string>();
    let most = 0;
    const seen: string[] = [];
    const hold = gate();
    const q = queue(
      async (jobs) => {
        const { userId, group } = jobs[0]!;
        expect([...active].some((key) => key.startsWith(`${userId}/`))).toBe(false);
        active.add(`${userId}/${group}`);
        most = Math.max(most, active.size);
        await hold.wait;
        seen.push(`${userId}/${group}`);
        active.delete(`${userId}/${group}`);
      },
      { concurrency: 2 },
    );
    for (const [user, group] of [["alice", "t1"], ["alice", "t2"], ["bob", "t1"], ["carol", "t1"]] as const) await q.submit(job(user, group, "x"));
    const flushed = q.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(active.size).toBe(2);
    hold.open();
    await flushed;
    expect(most).toBe(2);
    expect(seen.sort()).toEqual(["alice/t1", "alice/t2", "bob/t1", "carol/t1"]);
  });

  it("keeps a failed job queued with its error and drops a refused one, reporting both", async () => {
    const q = queue(async (jobs) => {
      if (jobs[0]!.payload.text === "down") throw new EngramError("MODEL_ERROR", "model unreachable");
      throw new EngramError("MODEL_OUTPUT_INVALID", "unusable output");
    }, { maxAttempts: 1 });
    await q.submit(job("alice", "t1", "down"));
    await q.submit(job("bob", "t1", "bad"));
    const failures = await q.flush();
    expect(failures.map((f) => [f.userId, f.error.code, f.dropped]).sort()).toEqual([
      ["alice", "MODEL_ERROR", false],
      ["bob", "MODEL_OUTPUT_INVALID", true],
    ]);
    const table = state.jobs<Payload>("test");
    const [left] = (await table.pending()) as Array<Job<Payload>>;
    expect(await table.pending()).toHaveLength(1);
    expect(left).toMatchObject({ userId: "alice", attempts: 1, lastError: "model unreachable" });
  });

  it("a job the model cannot take does not hold back its group: a failed job is retried alone, after the fresh ones", async () => {
    const runs: string[][] = [];
    // A model that refuses one prompt whatever is batched with it (a content filter, a prompt too long for it).
    const q = queue(async (jobs) => {
      runs.push(jobs.map((j) => j.payload.text));
      if (jobs.some((j) => j.payload.text === "poison")) throw new EngramError("MODEL_ERROR", "content filter");
    }, { maxAttempts: 2, retryDelayMs: 60_000 });
    await q.submit(job("alice", "t1", "poison"));
    expect((await q.flush()).map((f) => f.error.code)).toEqual(["MODEL_ERROR"]);
    await q.submit(job("alice", "t1", "cat"));
    await q.submit(job("alice", "t1", "dog"));
    // The later jobs run together; the failed one is tried once more, alone, and is then parked.
    expect((await q.flush()).map((f) => f.error.code)).toEqual(["MODEL_ERROR"]);
    expect(runs).toEqual([["poison"], ["cat", "dog"], ["poison"]]);
    const left = (await state.jobs<Payload>("test").pending()) as Array<Job<Payload>>;
    expect(left.map((j) => [j.payload.text, j.attempts])).toEqual([["poison", 2]]);
    // A parked job waits for a flush (or the next open): a new job of its group runs without it.
    await q.submit(job("alice", "t1", "eel"));
    await q.flush();
    expect(runs.slice(3)).toEqual([["eel"], ["poison"]]);
  });

  it("retries failed jobs on their own, each alone and the least tried first, without waiting for a flush", async () => {
    const runs: string[][] = [];
    // The model is down for the first two calls.
    const q = queue(async (jobs) => {
      runs.push(jobs.map((j) => j.payload.text));
      if (runs.length <= 2) throw new EngramError("MODEL_ERROR", "model unreachable");
    }, { maxAttempts: 3, retryDelayMs: 5 });
    await q.submit(job("bob", "t1", "a"));
    await q.submit(job("bob", "t1", "b"));
    expect((await q.flush()).map((f) => f.error.code)).toEqual(["MODEL_ERROR"]);
    // The batch failed once; the timers retry its jobs, one per run, the least tried first.
    while ((await q.pending()) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(runs).toEqual([["a", "b"], ["a"], ["b"], ["a"]]);
  });

  it("forgetUser drops the user's jobs and a run in flight sees it must not write", async () => {
    const hold = gate();
    const writes: string[] = [];
    const started = gate();
    const q = queue(async (jobs, context) => {
      started.open();
      await hold.wait;
      if (await context.stillQueued()) writes.push(jobs[0]!.userId);
    });
    await q.submit(job("alice", "t1", "a"));
    await q.submit(job("bob", "t1", "b"));
    const flushed = q.flush();
    await started.wait;
    await q.submit(job("alice", "t2", "later"));
    const forgotten = q.forgetUser("alice");
    hold.open();
    expect(await forgotten).toBe(2);
    await flushed;
    expect(writes).toEqual(["bob"]);
    expect(await q.pending()).toBe(0);
  });

  it("close aborts a run in flight and leaves its jobs for the next queue, which resumes them", async () => {
    const started = gate();
    const first = queue(async (_jobs, context) => {
      started.open();
      await new Promise((_resolve, reject) => context.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    }, { debounceMs: 0 });
    await first.submit(job("alice", "t1", "a"));
    await started.wait;
    await first.close();
    await expect(first.submit(job("alice", "t1", "b"))).rejects.toThrow(/closed/);

    const done: string[] = [];
    const second = queue(async (jobs) => {
      done.push(...jobs.map((j) => j.payload.text));
    });
    expect(await second.pending()).toBe(1);
    await second.resume();
    await second.flush();
    expect(done).toEqual(["a"]);
  });
});
