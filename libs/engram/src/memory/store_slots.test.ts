import { expect, it } from "@jest/globals";
import { StoreSlots } from "./store_slots.js";

/** A write that finishes when the test says so. */
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

it("keeps at most `limit` writes in flight, starts the waiting ones in arrival order, and frees a slot when a write fails", async () => {
  const slots = new StoreSlots(2);
  const started: number[] = [];
  const gates = Array.from({ length: 5 }, gate);
  const runs = gates.map((g, i) =>
    slots.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }),
  );
  await settle();
  expect(started).toEqual([0, 1]);
  gates[1]!.fail(new Error("store refused"));
  await expect(runs[1]).rejects.toThrow("store refused");
  await settle();
  expect(started).toEqual([0, 1, 2]);
  // A write arriving now queues behind those already waiting.
  const late = slots.run(async () => {
    started.push(9);
    return 9;
  });
  gates[0]!.open();
  await settle();
  expect(started).toEqual([0, 1, 2, 3]);
  gates[2]!.open();
  gates[3]!.open();
  await settle();
  expect(started).toEqual([0, 1, 2, 3, 4, 9]);
  gates[4]!.open();
  expect(await Promise.all([runs[0], runs[2], runs[3], runs[4], late])).toEqual([0, 2, 3, 4, 9]);
  // All slots free again: the next write starts at once.
  let ran = false;
  await slots.run(async () => {
    ran = true;
  });
  expect(ran).toBe(true);
});
