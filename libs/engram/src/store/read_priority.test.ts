import { expect, it } from "@jest/globals";
import { ReadPriority } from "./read_priority.js";

/** A read that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void; fail: (error: Error) => void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

it("holds writes while scans are in flight and lets them go when the last one ends, failed or not", async () => {
  const priority = new ReadPriority();
  // No read: a write goes at once.
  let early = false;
  await priority.beforeWrite().then(() => (early = true));
  expect(early).toBe(true);

  const a = gate();
  const b = gate();
  const readA = priority.read(() => a.promise.then(() => "a"));
  const readB = priority.read(() => b.promise);
  const log: string[] = [];
  const write = priority.beforeWrite().then(() => log.push("write"));
  await settle();
  expect(log).toEqual([]);
  a.open();
  expect(await readA).toBe("a");
  await settle();
  expect(log).toEqual([]); // b still scanning
  b.fail(new Error("store down"));
  await expect(readB).rejects.toThrow("store down");
  await write;
  expect(log).toEqual(["write"]);
  // Idle again: the next write does not wait, and a new read holds writes anew.
  await priority.beforeWrite();
  const c = gate();
  const readC = priority.read(() => c.promise);
  const held = priority.beforeWrite().then(() => log.push("held"));
  await settle();
  expect(log).toEqual(["write"]);
  c.open();
  await readC;
  await held;
  expect(log).toEqual(["write", "held"]);
});
