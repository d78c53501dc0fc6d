import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { MemoryRecord } from "../core/types.js";
import { testMemories } from "../tests/memories.js";

const USERS = ["alice", "bob", "carol"] as const;
const WORDS = ["tea", "coffee", "Paris", "Berlin", "cats", "dogs", "chess", "piano", "rust", "python"];

type Command =
  | { op: "add"; user: number; text: string }
  | { op: "search"; user: number; text: string }
  | { op: "update"; user: number; pick: number; text: string }
  | { op: "delete"; user: number; pick: number }
  | { op: "deleteAll"; user: number }
  | { op: "get"; user: number; pick: number };

const text = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }).map((w) => `likes ${w.join(" and ")}`);
const user = fc.nat({ max: USERS.length - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("add" as const), user, text }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("search" as const), user, text }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("update" as const), user, pick: fc.nat(), text }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), user, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("deleteAll" as const), user }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("get" as const), user, pick: fc.nat() }) },
);

const memories = testMemories();

describe("scope isolation (property)", () => {
  it("no call ever returns another user's record, and deleteAll leaves nothing of the user", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 3, maxLength: 14 }), async (commands) => {
        run += 1;
        // Every other run writes in the background, where a drain may still be in flight when
        // the next call (or deleteAll) comes.
        const writes = run % 2 === 0 ? "background" : "sync";
        const m = memories.open(`run-${run}`, { prefix: `p${run}`, writes });
        // The model: which ids each user owns right now.
        const owned = USERS.map(() => new Set<string>());
        const allIds = new Map<string, number>();
        const check = (who: number, records: Array<MemoryRecord | null>) => {
          for (const record of records) {
            if (!record) continue;
            expect(record.scope.userId).toBe(USERS[who]);
            expect(owned[who]!.has(record.id)).toBe(true);
          }
        };
        try {
          for (const c of commands) {
            const scope = { userId: USERS[c.user]! };
            const ids = [...allIds.keys()];
            const target = "pick" in c && ids.length > 0 ? ids[c.pick % ids.length]! : undefined;
            switch (c.op) {
              case "add": {
                const result = await m.add(c.text, scope);
                for (const r of result.results) {
                  owned[c.user]!.add(r.id);
                  allIds.set(r.id, c.user);
                }
                check(c.user, result.results);
                break;
              }
              case "search":
                check(c.user, await m.search(c.text, { ...scope, limit: 50 }));
                break;
              case "get":
                if (target) {
                  const got = await m.get(target, scope);
                  check(c.user, [got]);
                  expect(got !== null).toBe(owned[c.user]!.has(target));
                }
                break;
              case "update":
                if (target) {
                  const mine = owned[c.user]!.has(target);
                  const outcome = await m.update(target, c.text, scope).then(() => "ok", (e: { code?: string }) => e.code);
                  expect(outcome).toBe(mine ? "ok" : "NOT_FOUND");
                }
                break;
              case "delete":
                if (target) {
                  const mine = owned[c.user]!.has(target);
                  const outcome = await m.delete(target, scope).then(() => "ok", (e: { code?: string }) => e.code);
                  expect(outcome).toBe(mine ? "ok" : "NOT_FOUND");
                  if (mine) {
                    owned[c.user]!.delete(target);
                    allIds.delete(target);
                  }
                }
                break;
              case "deleteAll": {
                const result = await m.deleteAll(scope);
                // In the background, a write still queued is dropped from the outbox (counted in
                // `pending`), not deleted from the store: every owned record is one or the other.
                // (Reads no longer drain first, so a background write may well be queued here.)
                if (writes === "sync") expect(result.deleted).toBe(owned[c.user]!.size);
                else expect(result.deleted + result.pending).toBeGreaterThanOrEqual(owned[c.user]!.size);
                for (const id of owned[c.user]!) allIds.delete(id);
                owned[c.user]!.clear();
                expect(await m.getAll(scope)).toEqual([]);
                expect(await m.search("likes tea and coffee", scope)).toEqual([]);
                break;
              }
            }
            // After every step the listing matches the model exactly, for every user.
            for (const [who, name] of USERS.entries()) {
              const listed = await m.getAll({ userId: name });
              check(who, listed);
              expect(listed.length).toBe(owned[who]!.size);
            }
          }
        } finally {
          await m.close();
        }
      }),
      { numRuns: 12, seed: 20261125 },
    );
  });
});
