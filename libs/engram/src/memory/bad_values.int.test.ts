import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";

/**
 * Values JSON cannot print (a BigInt, a cyclic object), a symbol and an object without a prototype
 * (a template literal or `String()` throws on those), as any argument or option of every public
 * `Memory` method: each call must reject with an `EngramError` with a code, never a TypeError, and
 * nothing may be written. Messages used to embed `JSON.stringify(value)`, which threw.
 */

function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

const BAD: ReadonlyArray<[string, () => unknown]> = [
  ["a BigInt", () => 10n],
  ["a cyclic object", cyclic],
  ["a symbol", () => Symbol("x")],
  // An operator-like key, so it is not an empty (valid) option object either.
  ["an object without a prototype", () => Object.assign(Object.create(null) as object, { $gt: 1 })],
];

type Call = (memory: Memory, bad: unknown) => Promise<unknown>;

/** Every public method, with the bad value in each argument and option in turn. */
function calls(id: string): Array<[string, Call]> {
  const u = { userId: "a" };
  const list: Array<[string, Call]> = [
    ["add(content)", (m, v) => m.add(v as string, u)],
    ["search(query)", (m, v) => m.search(v as string, u)],
    ["get(id)", (m, v) => m.get(v as string, u)],
    ["update(id)", (m, v) => m.update(v as string, "x", u)],
    ["update(change)", (m, v) => m.update(id, v as string, u)],
    ["delete(id)", (m, v) => m.delete(v as string, u)],
    ["history(id)", (m, v) => m.history(v as string, u)],
    ["usage(options)", (m, v) => m.usage(v as never)],
  ];
  const scopeKeys = ["userId", "agentId", "threadId"];
  const optionKeys: Record<string, string[]> = {
    add: [...scopeKeys, "metadata", "importance", "expiresAt", "kind", "id", "source", "infer", "oversize"],
    search: [...scopeKeys, "limit", "filters", "threshold", "ranker", "includeInvalid"],
    getAll: [...scopeKeys, "kind", "limit", "offset", "includeInvalid"],
    forget: [...scopeKeys, "dedupeThreshold", "halfLifeDays", "maxRecords"],
    get: scopeKeys,
    update: scopeKeys,
    delete: scopeKeys,
    deleteAll: scopeKeys,
    history: scopeKeys,
    usage: ["userId"],
  };
  const invoke: Record<string, (m: Memory, options: Record<string, unknown>) => Promise<unknown>> = {
    add: (m, o) => m.add("I like tea", o as never),
    search: (m, o) => m.search("tea", o as never),
    getAll: (m, o) => m.getAll(o as never),
    forget: (m, o) => m.forget(o as never),
    get: (m, o) => m.get(id, o as never),
    update: (m, o) => m.update(id, "I like coffee", o as never),
    delete: (m, o) => m.delete(id, o as never),
    deleteAll: (m, o) => m.deleteAll(o as never),
    history: (m, o) => m.history(id, o as never),
    usage: (m, o) => m.usage(o as never),
  };
  for (const [method, keys] of Object.entries(optionKeys)) {
    for (const key of keys) list.push([`${method}({ ${key} })`, (m, v) => invoke[method]!(m, { ...u, [key]: v })]);
  }
  // Inside the nested option objects too.
  list.push(["add({ metadata: { k } })", (m, v) => m.add("x", { ...u, metadata: { k: v } as never })]);
  list.push(["add({ source: { messageIds } })", (m, v) => m.add("x", { ...u, source: { messageIds: [v] } as never })]);
  list.push(["update({ importance })", (m, v) => m.update(id, { importance: v } as never, u)]);
  list.push(["update({ expiresAt })", (m, v) => m.update(id, { expiresAt: v } as never, u)]);
  list.push(["update({ metadata })", (m, v) => m.update(id, { metadata: v } as never, u)]);
  for (const key of ["kind", "createdAfter", "createdBefore", "metadata"]) {
    list.push([`search({ filters: { ${key} } })`, (m, v) => m.search("tea", { ...u, filters: { [key]: v } as never })]);
  }
  list.push(["search({ filters: { metadata: { k } } })", (m, v) => m.search("tea", { ...u, filters: { metadata: { k: v } } as never })]);
  list.push(["search({ ranker: { lexical } })", (m, v) => m.search("tea", { ...u, ranker: { lexical: v } as never })]);
  list.push(["getAll({ kind: [v] })", (m, v) => m.getAll({ ...u, kind: [v] as never })]);
  return list;
}

describe("a BigInt, a cycle, a symbol or a prototype-less object anywhere in a call", () => {
  let chroma: TestChroma;
  let memory: Memory;
  let id: string;

  beforeAll(async () => {
    chroma = await startTestChroma();
    memory = new Memory({
      embeddings: new HashEmbeddings(),
      chroma: { url: chroma.server.url },
      prefix: "badvalues",
      dataDir: join(chroma.dir, "badvalues"),
      writes: "sync",
    });
    const added = await memory.add("I like tea", { userId: "a" });
    id = added.results[0]!.id;
  }, 600_000);

  afterAll(async () => {
    await memory?.close();
    await chroma?.stop();
  });

  it("rejects with an EngramError with a code in every method and option, and writes nothing", async () => {
    const failures: string[] = [];
    let tried = 0;
    for (const [name, call] of calls(id)) {
      for (const [what, make] of BAD) {
        tried += 1;
        let outcome: unknown;
        try {
          outcome = await call(memory, make());
        } catch (error) {
          outcome = error;
        }
        if (!(outcome instanceof EngramError) || typeof outcome.code !== "string" || outcome.message.length === 0) {
          const shown = outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : `resolved ${typeof outcome}`;
          failures.push(`${name} with ${what}: ${shown}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(200);
    // Nothing was written: the one record is still the only one, unchanged.
    const all = await memory.getAll({ userId: "a" });
    expect(all.map((r) => [r.id, r.content])).toEqual([[id, "I like tea"]]);
    expect((await memory.history(id, { userId: "a" })).map((h) => h.event)).toEqual(["ADD"]);
  }, 600_000);

  it("the example from the report: search with limit: 10n, and a cyclic filter", async () => {
    await expect(memory.search("x", { userId: "a", limit: 10n as never })).rejects.toMatchObject({ name: "EngramError", code: "INVALID_OPTIONS" });
    await expect(memory.search("x", { userId: "a", limit: 10n as never })).rejects.toThrow("limit must be an integer from 0 to 1000, got 10n.");
    await expect(memory.search("x", { userId: "a", filters: cyclic() as never })).rejects.toThrow(
      'filters has unknown keys "a", "self"; the keys are kind, createdAfter, createdBefore, metadata.',
    );
    await expect(memory.search("x", { userId: "a", filters: { kind: cyclic() } as never })).rejects.toThrow(
      'kind must be one of episode, fact, summary, procedure, got {"a":1,"self":"[Circular]"}.',
    );
    await expect(memory.getAll({ userId: "a", limit: 10n as never })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});
