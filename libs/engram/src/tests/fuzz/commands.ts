import fc from "fast-check";

/** The users the fuzz runs over; other user ids are hostile values that must be refused. */
export const USERS = ["alice", "bob", "carol"] as const;

/** Words the texts are built from, so that searches find things. */
const WORDS = ["tea", "coffee", "Paris", "Berlin", "cat", "dog", "chess", "piano", "rust", "python", "rain", "sun"];

/** Pieces that break naive text handling: lone surrogates, NUL and controls, bidi, zero-width... */
const NASTY = [
  "\uD83C", // high surrogate alone (an emoji cut in half)
  "\uDFB5", // low surrogate alone
  "🎵",
  "👨‍👩‍👧",
  "\u0000",
  "\u0007",
  "\u001B[31m",
  "\u202E", // right-to-left override, unpaired
  "\u2066", // isolate, unpaired
  "\u200B",
  "\uFEFF",
  "\uFFFF",
  "שלום",
  "مرحبا",
  "日本語",
  "e\u0301",
  "\t",
  "\n",
  "\r\n",
  " ",
  "$ne",
  '{"$gt": 1}',
  "%s%n",
  "'; DROP TABLE memories; --",
];

const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
);

/** Random text: mostly words, often nasty pieces, sometimes empty, blank or very long. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join(" ")) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\u200B\u200B", "\u0000", "\uD800", "\n\t") },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...WORDS, "🎵", "\uD83C"), fc.constantFrom(1_000, 9_000, 30_000, 120_000))
      .map(([word, times]) => `${word} `.repeat(times / (word.length + 1))),
  },
);

/** A user id: one of USERS, or a value that must be refused with an EngramError. */
export const userId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...USERS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>("", " ", null, undefined, 42, { $ne: "x" }, ["alice"], "x".repeat(300), "\uD800", "a\u0000b", NaN),
  },
);

/** An object that holds itself. */
function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

/** Values of any type, for option fields: wrong types, operators, NaN, huge numbers. */
export const junk: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  null,
  NaN,
  Infinity,
  -1,
  0,
  1.5,
  1e21,
  Number.MAX_SAFE_INTEGER + 2,
  "10",
  "",
  true,
  [],
  [1, 2],
  {},
  { $gt: 0 },
  { $where: "1" },
  () => 1,
  Symbol.for("x"),
  // JSON cannot print these two: a message that embeds the value must still be an EngramError.
  10n,
  cyclic(),
  new Date(Number.NaN),
);

/** Absent three times out of four: each call sets few options, so most calls are valid. */
const maybe = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

const limit = fc.oneof({ weight: 4, arbitrary: fc.constantFrom<unknown>(5, 20, 1_000) }, { weight: 1, arbitrary: junk });
const metadata = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>({ topic: "food" }, { n: 1, ok: true }, { topic: "travel" }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>({ nested: { x: 1 } }, { list: [1] }, { $where: 1 }, { n: NaN }, { s: "\uD800" }, { "": 1 }, "str", null),
  },
);
const kind = fc.oneof({ weight: 4, arbitrary: fc.constantFrom<unknown>("episode", "fact") }, { weight: 1, arbitrary: fc.constantFrom<unknown>("bogus", 3, ["episode"]) });
const expiresIn = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(5_000, 60_000, 3_600_000) },
  { weight: 1, arbitrary: junk },
);
const scopeExtras = fc.record(
  {
    agentId: fc.constantFrom<unknown>("agent-1", "agent-2", "agent-1", "agent-2", "", 5),
    threadId: fc.constantFrom<unknown>("t1", "t2", "t1", "t2", { $ne: "" }),
  },
  { requiredKeys: [] },
);
const filters = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind, metadata }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ createdAfter: junk, createdBefore: junk }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: junk },
);
const message = fc.record(
  {
    role: fc.constantFrom<unknown>("user", "assistant", "system", "tool", 7),
    content: fc.oneof({ weight: 5, arbitrary: text }, { weight: 1, arbitrary: junk }),
    id: fc.constantFrom<unknown>("m1", "m2", "m3", "", 9),
  },
  { requiredKeys: ["content"] },
);

/** One call of the fuzz. `pick` chooses a record id among those the model knows (or a stranger). */
export type Command =
  | { op: "add"; user: unknown; input: string | unknown[]; options: Record<string, unknown> }
  | { op: "update"; user: unknown; pick: number; change: unknown }
  | { op: "delete"; user: unknown; pick: number }
  | { op: "deleteAll"; user: unknown }
  | { op: "forget"; user: unknown; options: Record<string, unknown> }
  | { op: "search"; user: unknown; query: string; options: Record<string, unknown> }
  | { op: "get"; user: unknown; pick: number }
  | { op: "getAll"; user: unknown; options: Record<string, unknown> }
  | { op: "history"; user: unknown; pick: number }
  | { op: "flush" };

const pick = fc.nat();

export const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      op: fc.constant("add" as const),
      user: userId,
      input: fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: fc.array(fc.oneof(message, junk), { maxLength: 4 }) }),
      options: fc.record(
        {
          metadata: maybe(metadata),
          importance: maybe(fc.oneof(fc.constantFrom<unknown>(0, 0.3, 1), junk)),
          expiresIn: maybe(expiresIn),
          kind: maybe(kind),
          id: maybe(fc.constantFrom<unknown>("note-1", "note-2", "", 5, "x".repeat(300), "a\u0000b")),
          oversize: maybe(fc.constantFrom<unknown>("split", "refuse", "explode")),
          infer: maybe(fc.constantFrom<unknown>(false, true, "yes")),
          extras: maybe(scopeExtras),
        },
        { requiredKeys: [] },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("update" as const),
      user: userId,
      pick,
      change: fc.oneof(
        { weight: 4, arbitrary: text },
        { weight: 2, arbitrary: fc.record({ content: maybe(text), importance: maybe(fc.oneof(fc.constant(0.9), junk)), metadata: maybe(metadata), expiresIn: maybe(fc.oneof(expiresIn, fc.constant(null))) }, { requiredKeys: [] }) },
        { weight: 1, arbitrary: junk },
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), user: userId, pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("deleteAll" as const), user: userId }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("forget" as const),
      user: userId,
      options: fc.record(
        {
          dedupeThreshold: maybe(fc.oneof(fc.constantFrom<unknown>(0.99, 1), junk)),
          maxRecords: maybe(fc.oneof(fc.constantFrom<unknown>(3, 50), junk)),
          halfLifeDays: maybe(fc.oneof(fc.constant(7), junk)),
        },
        { requiredKeys: [] },
      ),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant("search" as const),
      user: userId,
      query: text,
      options: fc.record(
        {
          limit: maybe(limit),
          threshold: maybe(fc.oneof(fc.constantFrom<unknown>(0, 0.2), junk)),
          filters: maybe(filters),
          includeInvalid: maybe(fc.constantFrom<unknown>(true, false, "yes")),
          ranker: maybe(fc.constantFrom<unknown>({ lexical: 0 }, { lexical: 2 }, { lexical: NaN }, { recency: -1 }, "fast")),
          extras: maybe(scopeExtras),
        },
        { requiredKeys: [] },
      ),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("get" as const), user: userId, pick }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("getAll" as const),
      user: userId,
      options: fc.record({ limit: maybe(limit), offset: maybe(fc.oneof(fc.constant(0), junk)), kind: maybe(kind), includeInvalid: maybe(fc.constantFrom<unknown>(true, 1)) }, { requiredKeys: [] }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("history" as const), user: userId, pick }) },
  { weight: 1, arbitrary: fc.constant({ op: "flush" as const }) },
);
