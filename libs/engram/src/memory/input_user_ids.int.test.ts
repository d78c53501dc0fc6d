import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import fc from "fast-check";
import { EngramError } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";

/**
 * User ids that look alike are different users: Engram keeps an id exactly as given (core/scope.ts
 * refuses, never repairs or normalizes), so NFC and NFD of one name, case, surrounding spaces,
 * zero-width characters, one id a prefix of another, and ids holding "/", ".", "..", ":", "%" or a
 * JSON-looking text each have their own memories. A property over add / search / get / getAll /
 * history / update / delete / deleteAll: no call ever returns, changes or erases a record of any
 * other of these users, in sync and in background writes.
 */

const USERS = [
  "José", // NFC
  "Jose\u0301", // NFD of the same name
  "josé",
  " José",
  "José ",
  "Jo\u200Bsé",
  "a",
  "a/b",
  "a\\b",
  "..",
  "%2e%2e",
  "a:b",
  '["a","b"]',
  "x".repeat(256),
  "x".repeat(255),
] as const;
const WORDS = ["tea", "coffee", "Lisbon", "Porto", "cats", "chess"];

type Command =
  | { op: "add"; user: number; words: string[] }
  | { op: "search"; user: number; words: string[] }
  | { op: "get" | "history" | "update" | "delete"; user: number; pick: number }
  | { op: "deleteAll"; user: number };

const user = fc.nat({ max: USERS.length - 1 });
const words = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("add" as const), user, words }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("search" as const), user, words }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom("get" as const, "history" as const, "update" as const, "delete" as const), user, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("deleteAll" as const), user }) },
);

describe("look-alike user ids are different users (property)", () => {
  let chroma: TestChroma;
  const embeddings = new HashEmbeddings();

  beforeAll(async () => {
    chroma = await startTestChroma();
  }, 600_000);

  afterAll(async () => {
    await chroma?.stop();
  });

  it("no call reaches a record of another of them", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 16 }), async (commands) => {
        run += 1;
        const m = new Memory({
          embeddings,
          chroma: { url: chroma.server.url },
          prefix: `ids${run}`,
          dataDir: join(chroma.dir, `ids-${run}`),
          writes: run % 2 === 0 ? "background" : "sync",
        });
        // The model: each user's ids and their current text.
        const owned = USERS.map(() => new Map<string, string>());
        const every = (): string[] => owned.flatMap((mine) => [...mine.keys()]);
        const mine = (who: number, records: Array<MemoryRecord | null>): void => {
          for (const record of records) {
            if (record === null) continue;
            expect(record.scope.userId).toBe(USERS[who]);
            expect(owned[who]!.get(record.id)).toBe(record.content);
          }
        };
        const code = (error: unknown): string => (error instanceof EngramError ? error.code : String(error));
        try {
          for (const c of commands) {
            const scope = { userId: USERS[c.user]! };
            const ids = every();
            const target = "pick" in c && ids.length > 0 ? ids[c.pick % ids.length]! : undefined;
            const isMine = target !== undefined && owned[c.user]!.has(target);
            switch (c.op) {
              case "add": {
                const { results } = await m.add(`likes ${c.words.join(" and ")}`, scope);
                for (const record of results) {
                  expect(record.scope.userId).toBe(USERS[c.user]);
                  // A live id is a replay: an update made since stays (docs/memory.md, add).
                  if (!owned[c.user]!.has(record.id)) owned[c.user]!.set(record.id, record.content);
                }
                break;
              }
              case "search":
                mine(c.user, await m.search(c.words.join(" "), { ...scope, limit: 100 }));
                break;
              case "get":
                if (target === undefined) break;
                mine(c.user, [await m.get(target, scope)]);
                expect((await m.get(target, scope)) !== null).toBe(isMine);
                break;
              case "history":
                if (target === undefined) break;
                for (const entry of await m.history(target, scope)) expect(entry.userId).toBe(USERS[c.user]);
                if (!isMine) expect(await m.history(target, scope)).toEqual([]);
                break;
              case "update": {
                if (target === undefined) break;
                const text = `now likes ${c.pick % 7}`;
                const outcome = await m.update(target, text, scope).then((record) => {
                  expect([record.id, record.scope.userId, record.content]).toEqual([target, USERS[c.user], text]);
                  return "ok";
                }, code);
                expect(outcome).toBe(isMine ? "ok" : "NOT_FOUND");
                if (isMine) owned[c.user]!.set(target, text);
                break;
              }
              case "delete": {
                if (target === undefined) break;
                const outcome = await m.delete(target, scope).then(() => "ok", code);
                expect(outcome).toBe(isMine ? "ok" : "NOT_FOUND");
                if (isMine) owned[c.user]!.delete(target);
                break;
              }
              case "deleteAll":
                await m.deleteAll(scope);
                owned[c.user]!.clear();
                break;
            }
          }
          // Every user's listing is exactly what the model says, whoever did what before.
          for (const [who, userId] of USERS.entries()) {
            const listed = await m.getAll({ userId, limit: 1_000 });
            mine(who, listed);
            expect(listed.length).toBe(owned[who]!.size);
          }
        } finally {
          await m.close();
        }
      }),
      { numRuns: 20, seed: 20261207 },
    );
  }, 900_000);
});
