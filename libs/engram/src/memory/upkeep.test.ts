import { describe, expect, it } from "@jest/globals";
import { UpkeepQueue } from "./upkeep.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets the event loop run `n` times (a run starts on a later turn than its request). */
async function eventLoopTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await new Promise((r) => setImmediate(r));
}

describe("UpkeepQueue", () => {
  it("never overlaps runs of one key, folds requests made during a run into one more run, and lets other keys run alongside", async () => {
    const queue = new UpkeepQueue();
    const gate = deferred();
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const task = (name: string) => async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      log.push(`start ${name}`);
      await gate.promise;
      log.push(`end ${name}`);
      active -= 1;
    };
    expect(queue.request("alice", task("a1"), () => undefined)).toBe(true);
    // Runs start on a later turn of the event loop, after the caller's synchronous work.
    expect(log).toEqual([]);
    // Not started yet: a second request is the same run.
    expect(queue.request("alice", task("a1 again"), () => undefined)).toBe(false);
    await eventLoopTurns(3);
    // a1 is running: one more run is queued behind it, and a third request folds into that one.
    expect(queue.request("alice", task("a2"), () => undefined)).toBe(true);
    expect(queue.request("alice", task("a3"), () => undefined)).toBe(false);
    expect(queue.request("bob", task("b1"), () => undefined)).toBe(true);
    await eventLoopTurns(3);
    expect(log).toEqual(["start a1", "start b1"]);
    gate.resolve();
    await queue.idle();
    expect(log.filter((line) => line.startsWith("start"))).toEqual(["start a1", "start b1", "start a2"]);
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    // a1 and b1 at once (two keys), never two of alice.
    expect(maxActive).toBe(2);
  });

  it("folds only requests of the same variant; another variant runs in the same queued run, after it", async () => {
    const queue = new UpkeepQueue();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(name);
    };
    const errors: unknown[] = [];
    expect(queue.request("alice", task("thread t1"), () => undefined, "t1")).toBe(true);
    expect(queue.request("alice", task("thread t2"), () => undefined, "t2")).toBe(true);
    expect(queue.request("alice", task("thread t1 again"), () => undefined, "t1")).toBe(false);
    expect(queue.request("alice", async () => Promise.reject(new Error("t3 failed")), (error) => errors.push(error), "t3")).toBe(true);
    expect(queue.request("alice", task("thread t4"), () => undefined, "t4")).toBe(true);
    await queue.idle();
    // Before, every request after the first folded into it, whatever its variant: t2 and t4 never ran.
    expect(log).toEqual(["thread t1", "thread t2", "thread t4"]);
    expect(errors).toHaveLength(1);
  });

  it("hands a failure to onError and keeps serving the key", async () => {
    const queue = new UpkeepQueue();
    const errors: unknown[] = [];
    let ran = 0;
    queue.request("alice", async () => {
      throw new Error("store down");
    }, (error) => errors.push(error));
    await queue.idle();
    queue.request("alice", async () => {
      ran += 1;
    }, (error) => errors.push(error));
    await queue.idle();
    expect((errors as Error[]).map((error) => error.message)).toEqual(["store down"]);
    expect(ran).toBe(1);
  });

  it("contains an onError that throws: no unhandled rejection, idle() resolves, and the key keeps serving", async () => {
    const queue = new UpkeepQueue();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      queue.request("alice", async () => Promise.reject(new Error("store down")), () => {
        throw new Error("logger closed");
      });
      await queue.idle();
      let ran = false;
      queue.request("alice", async () => {
        ran = true;
      }, () => undefined);
      await queue.idle();
      await eventLoopTurns(3);
      expect(ran).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("idle() also waits for a run requested while it waits", async () => {
    const queue = new UpkeepQueue();
    const done: string[] = [];
    queue.request("alice", async () => {
      await new Promise((r) => setTimeout(r, 5));
      queue.request("bob", async () => {
        await new Promise((r) => setTimeout(r, 5));
        done.push("bob");
      }, () => undefined);
      done.push("alice");
    }, () => undefined);
    await queue.idle();
    expect(done).toEqual(["alice", "bob"]);
  });
});
