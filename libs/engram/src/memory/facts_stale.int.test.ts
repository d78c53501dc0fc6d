import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { testMemories } from "../tests/memories.js";
import { factModel, promptKind } from "../tests/fake_chat.js";
import { gate } from "../tests/interleave.js";
import type { Memory } from "./memory.js";

// A reconciliation decides about the stored facts the model was shown; the model call takes
// seconds, and the user may change or delete one of those facts meanwhile. The decision was
// made about a text that is gone: it must not overwrite the user's change or bring back what the
// user deleted, and the new fact it was about is still kept.
const memories = testMemories();
let suite = 0;

const extracted = (...texts: string[]): string => JSON.stringify({ facts: texts.map((text) => ({ text, entities: [] })) });
const decide = (...decisions: object[]): string => JSON.stringify({ decisions });

const facts = async (m: Memory, userId: string): Promise<string[]> =>
  (await m.getAll({ userId, kind: "fact", includeInvalid: true })).map((record: MemoryRecord) => record.content).sort();

/** A Memory whose reconciliation call waits at `held` until the test opens it, then answers `decision`. */
function heldReconcile(decision: object, writes: "sync" | "background" = "sync") {
  const held = gate();
  const model = factModel({
    extract: [extracted("User loves pepperoni pizza")],
    reconcile: [
      async (messages) => {
        expect(promptKind(messages)).toBe("reconcile");
        await held.wait();
        return decide(decision);
      },
    ],
  });
  const name = `s${(suite += 1)}`;
  const m = memories.open(name, { prefix: name, model, writes, facts: { debounceMs: 60_000 } });
  return { m, model, held };
}

describe("facts: a reconciliation decision about a fact the user changed during the model call", () => {
  it("UPDATE does not overwrite the user's update made meanwhile; the new fact is kept on its own", async () => {
    const { m, model, held } = heldReconcile({ fact: 0, event: "UPDATE", id: "0", text: "User likes pizza, especially pepperoni" });
    const user = { userId: "ana" };
    const [pizza] = (await m.add("User likes pizza", { ...user, kind: "fact" })).results;
    await m.add("I really love pepperoni pizza", user);
    const flushing = m.flush();
    await held.reached;
    expect(model.prompts.at(-1)).toContain("User likes pizza");
    await m.update(pizza!.id, "User is allergic to cheese and no longer eats pizza", user);
    held.open();
    await flushing;
    expect((await m.get(pizza!.id, user))?.content).toBe("User is allergic to cheese and no longer eats pizza");
    expect(await facts(m, "ana")).toEqual(["User is allergic to cheese and no longer eats pizza", "User loves pepperoni pizza"]);
  });

  it("INVALIDATE does not end a fact the user rewrote meanwhile", async () => {
    const { m, held } = heldReconcile({ fact: 0, event: "INVALIDATE", id: "0" });
    const user = { userId: "bo" };
    const [pizza] = (await m.add("User hates pizza", { ...user, kind: "fact" })).results;
    await m.add("I really love pepperoni pizza", user);
    const flushing = m.flush();
    await held.reached;
    await m.update(pizza!.id, "User hates pineapple on pizza", user);
    held.open();
    await flushing;
    const after = await m.get(pizza!.id, user);
    expect(after?.content).toBe("User hates pineapple on pizza");
    expect(after?.metadata.validUntil).toBeUndefined();
    expect(await facts(m, "bo")).toEqual(["User hates pineapple on pizza", "User loves pepperoni pizza"]);
  });

  it.each([
    ["INVALIDATE", "sync"],
    ["INVALIDATE", "background"],
    ["UPDATE", "sync"],
    ["UPDATE", "background"],
  ] as const)("%s of a fact the user deleted meanwhile (writes: %s): it stays deleted, the new fact is kept", async (event, writes) => {
    const decision = event === "UPDATE" ? { fact: 0, event, id: "0", text: "User loves pizza, pepperoni most" } : { fact: 0, event, id: "0" };
    const { m, held } = heldReconcile(decision, writes);
    const user = { userId: `cy-${event}-${writes}` };
    const [pizza] = (await m.add("User hates pizza", { ...user, kind: "fact" })).results;
    await m.add("I really love pepperoni pizza", user);
    const flushing = m.flush();
    await held.reached;
    await m.delete(pizza!.id, user);
    held.open();
    await flushing;
    expect(await m.get(pizza!.id, user)).toBeNull();
    expect(await facts(m, user.userId)).toEqual(["User loves pepperoni pizza"]);
    expect((await m.history(pizza!.id, user)).map((entry) => entry.event)).toEqual(["ADD", "DELETE"]);
  });
});
