import { expect, it } from "@jest/globals";
import { EngramError } from "../core/errors.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { testMemories } from "../tests/memories.js";
import type { AddManyItem } from "./add_many.js";

const memories = testMemories();
const embeddings = new StaticEmbeddings();

const day = Date.UTC(2023, 4, 8, 13, 56);
const items: AddManyItem[] = [
  { content: "I went to a support group yesterday", role: "user", threadId: "s1", createdAt: day },
  { content: "That sounds like it helped, Caroline", role: "assistant", threadId: "s1", createdAt: day + 60_000 },
  { content: "Melanie painted a lake at sunrise in Lisbon", role: "user", threadId: "s2", createdAt: day + 86_400_000 },
  { content: "Remember that I prefer tea", kind: "fact", importance: 0.9, metadata: { topic: "drinks" } },
];

it("stores many texts of one user in one call: each with its thread, role and time, tagged and dated, once on a replay", async () => {
  const m = memories.open("bulk", { prefix: "bulk", embeddings, entities: { extract: true } });
  const before = Date.now();
  const added = await m.addMany(items, { userId: "u" });
  expect(added.results.map((record) => record.content)).toEqual(items.map((item) => item.content));
  const stored = new Map((await m.getAll({ userId: "u" })).map((record) => [record.content, record]));
  expect(stored.size).toBe(4);
  const said = stored.get(items[0]!.content)!;
  expect(said.role).toBe("user");
  expect(said.scope).toEqual({ userId: "u", threadId: "s1" });
  expect(said.createdAt).toBe(day);
  // Dates resolved against the item's own time; entities tagged when the write drained.
  expect(said.metadata.dates).toBe("d:2023-05-07|m:2023-05|y:2023");
  expect(stored.get(items[2]!.content)!.metadata.entities).toBe("melanie|lisbon");
  expect(stored.get(items[1]!.content)!.role).toBe("assistant");
  const fact = stored.get(items[3]!.content)!;
  expect([fact.kind, fact.importance, fact.metadata.topic, fact.scope.threadId]).toEqual(["fact", 0.9, "drinks", undefined]);
  // An item without a time gets the call's time (plus its place).
  expect(fact.createdAt).toBeGreaterThanOrEqual(before);
  // History keeps the item's time.
  expect((await m.history(said.id, { userId: "u" })).map((entry) => [entry.event, entry.at])).toEqual([["ADD", day]]);

  // The same call again (an import run twice) stores nothing new and keeps the first times.
  const again = await m.addMany(items, { userId: "u" });
  expect(again.results.map((record) => record.id)).toEqual(added.results.map((record) => record.id));
  expect(await m.getAll({ userId: "u" })).toHaveLength(4);
  expect(await m.history(said.id, { userId: "u" })).toHaveLength(1);
  // Another user sees none of it.
  expect(await m.getAll({ userId: "other" })).toEqual([]);
});

it("refuses the whole call, naming the bad item, before anything is written", async () => {
  const m = memories.open("refused", { prefix: "refused", embeddings });
  const attempts: Array<[unknown, string, RegExp]> = [
    [[items[0], { content: 42 }], "INVALID_CONTENT", /^items\[1\]: content must be a string/],
    [[items[0], items[1], { content: "ok", colour: "red" }], "INVALID_OPTIONS", /^items\[2\]: .*unknown key "colour"/],
    [[items[0], { content: "ok", importance: 7 }], "INVALID_OPTIONS", /^items\[1\]: /],
    [[items[0], { content: "ok", createdAt: "yesterday" }], "INVALID_OPTIONS", /^items\[1\]: createdAt must be a Date/],
    [[items[0], { content: "ok", threadId: "" }], "INVALID_SCOPE", /^items\[1\]: threadId must not be empty/],
    [[items[0], { content: "   " }], "INVALID_CONTENT", /^items\[1\]: /],
    ["not a list", "INVALID_CONTENT", /takes an array/],
  ];
  for (const [input, code, message] of attempts) {
    const error = await m.addMany(input as AddManyItem[], { userId: "u" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EngramError);
    expect((error as EngramError).code).toBe(code);
    expect((error as EngramError).message).toMatch(message);
  }
  await expect(m.addMany(items, { userId: "" })).rejects.toMatchObject({ code: "INVALID_USER_ID" });
  await expect(m.addMany(items, { userId: "u", colour: "red" } as never)).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  // Nothing of any refused call was written: no record, no queued write, no history.
  expect(await m.getAll({ userId: "u" })).toEqual([]);
  expect(await m.state.outbox().size("u")).toBe(0);
  expect(await m.state.history.countUser("u")).toBe(0);
  expect(await m.addMany([], { userId: "u" })).toEqual({ results: [], pending: false, warnings: [] });
});
