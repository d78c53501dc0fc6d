import { describe, expect, it } from "@jest/globals";
import { EngramError } from "../core/errors.js";
import type { Memory } from "../memory/memory.js";
import { testMemories } from "../tests/memories.js";
import { EngramMemory } from "../adapters/base_memory/engram_memory.js";

/*
 * Every forgetEvery turns a door schedules a forgetting pass off the turn (Memory.scheduleForget);
 * a failed pass is reported to the door's onWarning. An app's handler that throws (a logger whose
 * stream is closed) must not turn that report into a rejected upkeep run: an unhandled rejection
 * (which ends a Node process by default) and a Memory whose flush() and close() reject with it.
 */
const memories = testMemories();

describe("a forgetting pass that fails off the turn, with a warning handler that throws", () => {
  it("is reported, and neither rejects unhandled nor breaks Memory.flush()", async () => {
    const real = memories.open("forget-warn");
    // The store fails forgetting passes (an outage), for this memory only.
    const memory = Object.create(real) as Memory;
    memory.forget = async () => {
      throw new EngramError("STORE_UNAVAILABLE", "Chroma is down");
    };
    const warnings: string[] = [];
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
      const door = new EngramMemory({
        memory,
        userId: "alice",
        threadId: "t1",
        forgetEvery: 1,
        onWarning: (message) => {
          warnings.push(message);
          throw new Error("the log stream is closed");
        },
      });
      await door.saveContext({ input: "My sister Marta lives in Berlin." }, { output: "Noted." });
      await real.flush();
      expect(warnings.filter((message) => message.includes("Forgetting failed"))).toHaveLength(1);
      // The next turn schedules (and reports) the next pass.
      await door.saveContext({ input: "I play the cello." }, { output: "Lovely." });
      await real.flush();
      expect(warnings.filter((message) => message.includes("Forgetting failed"))).toHaveLength(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });
});
