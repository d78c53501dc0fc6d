import { describe, expect, it } from "@jest/globals";
import { KeyedQueue } from "./keyed_queue.js";

/** A task that records when it starts and ends, and finishes when told. */
function gatedTask(log: string[], name: string, fail = false) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const task = async (): Promise<string> => {
    log.push(`start ${name}`);
    await gate;
    log.push(`end ${name}`);
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
  return { task, open };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("KeyedQueue", () => {
  it("runs one task at a time per key, in order, and other keys side by side", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const a1 = gatedTask(log, "a1");
    const a2 = gatedTask(log, "a2");
    const b1 = gatedTask(log, "b1");
    const results = [queue.run("a", a1.task), queue.run("a", a2.task), queue.run("b", b1.task)];
    await tick();
    expect(log).toEqual(["start a1", "start b1"]);
    a2.open(); // a2 may not start before a1 ends, even when ready first
    await tick();
    expect(log).toEqual(["start a1", "start b1"]);
    a1.open();
    b1.open();
    expect(await Promise.all(results)).toEqual(["a1", "a2", "b1"]);
    expect(log.indexOf("start a2")).toBeGreaterThan(log.indexOf("end a1"));
  });

  it("gives each caller its own task's failure, and runs the next task of the key after it", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const failing = gatedTask(log, "first", true);
    const next = gatedTask(log, "second");
    const first = queue.run("k", failing.task);
    const second = queue.run("k", next.task);
    failing.open();
    next.open();
    await expect(first).rejects.toThrow("first failed");
    await expect(second).resolves.toBe("second");
    expect(log).toEqual(["start first", "end first", "start second", "end second"]);
  });
});
