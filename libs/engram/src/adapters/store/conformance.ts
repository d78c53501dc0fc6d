import { describe, expect, it } from "@jest/globals";
import type { BaseStore, Item, SearchItem } from "@langchain/langgraph-checkpoint";

/** How the suite asks for a fresh, empty store: which value fields its index must embed. */
export interface ConformanceIndex {
  fields: string[];
}

/**
 * One behaviour suite for LangGraph stores. Each test gets a fresh, empty store from `makeStore`
 * (embedding `fields` with a semantic model) and checks only what LangGraph's own InMemoryStore
 * defines, so both InMemoryStore and EngramStore must pass it unchanged. Orders the stores are
 * free to choose (a search without a query) are compared as sets; behaviour InMemoryStore lacks
 * (TTL) or leaves undefined is tested per store elsewhere.
 *
 * The semantic tests need a real embedding model: a paraphrase must rank first.
 */
export function describeStoreConformance(name: string, makeStore: (index: ConformanceIndex) => BaseStore | Promise<BaseStore>): void {
  const fresh = async (fields: string[] = ["text"]): Promise<BaseStore> => makeStore({ fields });

  describe(`${name}: LangGraph store conformance`, () => {
    it("puts and gets a value with its namespace, key and times; a missing key is null", async () => {
      const store = await fresh();
      const value = { text: "dark theme", size: 12, nested: { list: [1, "two", { three: true }] } };
      await store.put(["users", "alice", "prefs"], "theme", value);
      const item = await store.get(["users", "alice", "prefs"], "theme");
      expect(item).not.toBeNull();
      expect(item!.value).toEqual(value);
      expect(item!.key).toBe("theme");
      expect(item!.namespace).toEqual(["users", "alice", "prefs"]);
      expect(item!.createdAt).toBeInstanceOf(Date);
      expect(item!.updatedAt.getTime()).toBeGreaterThanOrEqual(item!.createdAt.getTime());
      expect(await store.get(["users", "alice", "prefs"], "font")).toBeNull();
      expect(await store.get(["users", "bob", "prefs"], "theme")).toBeNull();
    });

    it("a second put replaces the whole value and keeps the creation time", async () => {
      const store = await fresh();
      await store.put(["docs"], "report", { title: "Draft", pages: 3 });
      const created = (await store.get(["docs"], "report"))!.createdAt.getTime();
      await store.put(["docs"], "report", { title: "Final" });
      const item = await store.get(["docs"], "report");
      expect(item!.value).toEqual({ title: "Final" });
      expect(item!.createdAt.getTime()).toBe(created);
      expect(item!.updatedAt.getTime()).toBeGreaterThanOrEqual(created);
      expect(await keys(store.search(["docs"]))).toEqual(["report"]);
    });

    it("delete removes an item from get and search; deleting a missing key is a no-op", async () => {
      const store = await fresh();
      await store.put(["notes"], "a", { text: "first" });
      await store.put(["notes"], "b", { text: "second" });
      await store.delete(["notes"], "a");
      await store.delete(["notes"], "never-there");
      await store.delete(["elsewhere"], "a");
      expect(await store.get(["notes"], "a")).toBeNull();
      expect(await keys(store.search(["notes"]))).toEqual(["b"]);
    });

    it("keeps the same key apart in sibling, parent and child namespaces", async () => {
      const store = await fresh();
      await store.put(["app", "alice"], "k", { who: "alice" });
      await store.put(["app", "bob"], "k", { who: "bob" });
      await store.put(["app"], "k", { who: "app" });
      await store.put(["app", "alice", "deep"], "k", { who: "deep" });
      expect((await store.get(["app", "alice"], "k"))!.value).toEqual({ who: "alice" });
      expect((await store.get(["app", "bob"], "k"))!.value).toEqual({ who: "bob" });
      expect((await store.get(["app"], "k"))!.value).toEqual({ who: "app" });
      expect((await store.get(["app", "alice", "deep"], "k"))!.value).toEqual({ who: "deep" });
    });

    it("searches by namespace prefix, label by label", async () => {
      const store = await fresh();
      await store.put(["docs"], "root", { n: 1 });
      await store.put(["docs", "a"], "child", { n: 2 });
      await store.put(["docs", "a", "b"], "grandchild", { n: 3 });
      await store.put(["docsx"], "lookalike", { n: 4 });
      await store.put(["other", "docs"], "nested", { n: 5 });
      expect(await keys(store.search(["docs"]))).toEqual(["child", "grandchild", "root"]);
      expect(await keys(store.search(["docs", "a"]))).toEqual(["child", "grandchild"]);
      expect(await keys(store.search(["docs", "a", "b"]))).toEqual(["grandchild"]);
      expect(await keys(store.search([]))).toEqual(["child", "grandchild", "lookalike", "nested", "root"]);
      expect(await keys(store.search(["nope"]))).toEqual([]);
      const [found] = await store.search(["docs", "a", "b"]);
      expect(found!.namespace).toEqual(["docs", "a", "b"]);
      expect(found!.value).toEqual({ n: 3 });
    });

    it("filters by equality and by every operator ($eq $ne $gt $gte $lt $lte $in $nin), ANDing fields", async () => {
      const store = await fresh();
      const items: Record<string, Record<string, unknown>> = {
        k1: { kind: "book", rating: 5, price: 12.5, active: true },
        k2: { kind: "book", rating: 3, price: 7, active: false },
        k3: { kind: "film", rating: "4", price: 20 },
        k4: { kind: "film", rating: 1 },
        k5: { kind: "game" },
      };
      for (const [key, value] of Object.entries(items)) await store.put(["shop"], key, value);
      const cases: Array<[Record<string, unknown>, string[]]> = [
        [{ kind: "book" }, ["k1", "k2"]],
        [{ kind: { $eq: "film" } }, ["k3", "k4"]],
        [{ kind: { $ne: "book" } }, ["k3", "k4", "k5"]],
        [{ rating: { $gt: 3 } }, ["k1", "k3"]],
        [{ rating: { $gte: 3 } }, ["k1", "k2", "k3"]],
        [{ rating: { $lt: 3 } }, ["k4"]],
        [{ rating: { $lte: 3 } }, ["k2", "k4"]],
        [{ price: { $gte: 7, $lt: 20 } }, ["k1", "k2"]],
        [{ price: { $gt: 7.5 } }, ["k1", "k3"]],
        [{ kind: { $in: ["film", "game"] } }, ["k3", "k4", "k5"]],
        [{ price: { $in: [7, 12.5] } }, ["k1", "k2"]],
        [{ kind: { $nin: ["book", "film"] } }, ["k5"]],
        [{ rating: { $nin: [5, 3] } }, ["k3", "k4", "k5"]],
        [{ active: true }, ["k1"]],
        [{ active: { $ne: true } }, ["k2", "k3", "k4", "k5"]],
        [{ rating: { $eq: 4 } }, []],
        [{ rating: "4" }, ["k3"]],
        [{ kind: "book", rating: { $gt: 4 } }, ["k1"]],
        [{ missing: { $gt: 0 } }, []],
        [{ missing: { $ne: 1 } }, ["k1", "k2", "k3", "k4", "k5"]],
      ];
      for (const [filter, expected] of cases) {
        expect({ filter, keys: await keys(store.search(["shop"], { filter, limit: 100 })) }).toEqual({ filter, keys: expected });
      }
    });

    it("filters the fields of updated values by their new content", async () => {
      const store = await fresh();
      await store.put(["shop"], "k", { kind: "book", rating: 5 });
      await store.put(["shop"], "k", { kind: "film" });
      expect(await keys(store.search(["shop"], { filter: { kind: "book" } }))).toEqual([]);
      expect(await keys(store.search(["shop"], { filter: { rating: { $ne: 5 } } }))).toEqual(["k"]);
      expect(await keys(store.search(["shop"], { filter: { rating: { $gte: 5 } } }))).toEqual([]);
    });

    it("ranks a query by meaning: the paraphrase first, scores descending", async () => {
      const store = await fresh();
      await store.put(["mem"], "hiking", { text: "I enjoy hiking in the mountains on weekends" });
      await store.put(["mem"], "food", { text: "My favourite food is sushi" });
      await store.put(["mem"], "work", { text: "I work as a software engineer in Berlin" });
      await store.put(["mem"], "cat", { text: "The cat sleeps on the sofa all day" });
      const outdoors = await store.search(["mem"], { query: "What outdoor activities do they like?" });
      expect(outdoors[0]!.key).toBe("hiking");
      expect(outdoors).toHaveLength(4);
      const scores = outdoors.map((item) => item.score!);
      expect(scores.every((score) => typeof score === "number" && score <= 1.000001)).toBe(true);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect((await store.search(["mem"], { query: "Which cuisine do they prefer?" }))[0]!.key).toBe("food");
      expect((await store.search(["mem"], { query: "What is their job?", filter: { text: { $ne: "x" } } }))[0]!.key).toBe("work");
    });

    it("embeds only the index fields, nested paths included", async () => {
      const store = await fresh(["a.b"]);
      await store.put(["x"], "cats", { a: { b: "Cats purring on the sofa" }, other: "Stock market crash and recession" });
      await store.put(["x"], "money", { a: { b: "Stock market crash and recession" }, other: "Kittens and cats" });
      expect((await store.search(["x"], { query: "feline pets" }))[0]!.key).toBe("cats");
      expect((await store.search(["x"], { query: "financial crisis" }))[0]!.key).toBe("money");
    });

    it("a put's own index fields replace the store's for that item", async () => {
      const store = await fresh(["text"]);
      await store.put(["x"], "titled", { text: "Quarterly accounting figures", title: "Climbing mountains in the Alps" }, ["title"]);
      await store.put(["x"], "plain", { text: "Quarterly accounting figures", title: "Climbing mountains in the Alps" });
      const [first] = await store.search(["x"], { query: "hiking and mountaineering" });
      expect(first!.key).toBe("titled");
    });

    it("index: false items can be got and filtered, but a query never scores them", async () => {
      const store = await fresh();
      await store.put(["m"], "hidden", { text: "I love hiking in the Alps", kind: "secret" }, false);
      await store.put(["m"], "shown", { text: "Stock market report", kind: "public" });
      expect((await store.get(["m"], "hidden"))!.value).toEqual({ text: "I love hiking in the Alps", kind: "secret" });
      expect(await keys(store.search(["m"], { filter: { kind: "secret" } }))).toEqual(["hidden"]);
      const results = await store.search(["m"], { query: "hiking in the mountains" });
      expect(results[0]!.key).toBe("shown");
      expect(typeof results[0]!.score).toBe("number");
      for (const item of results.filter((result) => result.key === "hidden")) expect(item.score).toBeUndefined();
    });

    it("pages with limit and offset, with or without a query", async () => {
      const store = await fresh();
      const texts = ["red apples", "green pears", "yellow bananas", "purple grapes", "orange oranges", "red cherries", "blue berries"];
      for (const [i, text] of texts.entries()) await store.put(["fruit"], `f${i}`, { text });
      const pages = [await store.search(["fruit"], { limit: 3 }), await store.search(["fruit"], { limit: 3, offset: 3 }), await store.search(["fruit"], { limit: 3, offset: 6 })];
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      expect(pages.flat().map((item) => item.key).sort()).toEqual(texts.map((_, i) => `f${i}`));
      expect(await store.search(["fruit"], { limit: 3, offset: 7 })).toEqual([]);

      const query = "fruit that is red";
      const top4 = await store.search(["fruit"], { query, limit: 4 });
      const first = await store.search(["fruit"], { query, limit: 2 });
      const second = await store.search(["fruit"], { query, limit: 2, offset: 2 });
      expect([...first, ...second].map((item) => item.key)).toEqual(top4.map((item) => item.key));
      expect(first[1]!.score!).toBeGreaterThanOrEqual(second[0]!.score!);

      for (let i = 0; i < 5; i += 1) await store.put(["fruit"], `extra${i}`, { text: `fruit number ${i}` });
      expect(await store.search(["fruit"])).toHaveLength(10);
    });

    it("lists namespaces by prefix, suffix and wildcard, cut to maxDepth, sorted and paged", async () => {
      const store = await fresh();
      const namespaces = [["a", "b", "c"], ["a", "b", "d"], ["a", "e"], ["x", "b", "c"], ["x", "y"]];
      for (const namespace of namespaces) await store.put(namespace, "k", { n: 1 });
      const all = [["a", "b", "c"], ["a", "b", "d"], ["a", "e"], ["x", "b", "c"], ["x", "y"]];
      expect(await store.listNamespaces()).toEqual(all);
      expect(await store.listNamespaces({ prefix: ["a"] })).toEqual([["a", "b", "c"], ["a", "b", "d"], ["a", "e"]]);
      expect(await store.listNamespaces({ prefix: ["a", "b"] })).toEqual([["a", "b", "c"], ["a", "b", "d"]]);
      expect(await store.listNamespaces({ suffix: ["c"] })).toEqual([["a", "b", "c"], ["x", "b", "c"]]);
      expect(await store.listNamespaces({ prefix: ["*", "b"] })).toEqual([["a", "b", "c"], ["a", "b", "d"], ["x", "b", "c"]]);
      expect(await store.listNamespaces({ suffix: ["b", "*"] })).toEqual([["a", "b", "c"], ["a", "b", "d"], ["x", "b", "c"]]);
      expect(await store.listNamespaces({ prefix: ["a"], suffix: ["d"] })).toEqual([["a", "b", "d"]]);
      expect(await store.listNamespaces({ prefix: ["a", "e", "f"] })).toEqual([]);
      expect(await store.listNamespaces({ maxDepth: 1 })).toEqual([["a"], ["x"]]);
      expect(await store.listNamespaces({ maxDepth: 2 })).toEqual([["a", "b"], ["a", "e"], ["x", "b"], ["x", "y"]]);
      expect(await store.listNamespaces({ prefix: ["x"], maxDepth: 2 })).toEqual([["x", "b"], ["x", "y"]]);
      expect(await store.listNamespaces({ limit: 2 })).toEqual(all.slice(0, 2));
      expect(await store.listNamespaces({ limit: 2, offset: 2 })).toEqual(all.slice(2, 4));
      expect(await store.listNamespaces({ offset: 4 })).toEqual(all.slice(4));
      expect(await store.listNamespaces({ prefix: ["nope"] })).toEqual([]);
    });

    it("runs a mixed batch in order; its reads see the store as it was before its writes", async () => {
      const store = await fresh();
      await store.put(["b"], "old", { text: "old item" });
      const results: unknown[] = await store.batch([
        { namespace: ["b"], key: "old" },
        { namespace: ["b"], key: "new", value: { text: "new item" } },
        { namespacePrefix: ["b"], limit: 10, offset: 0 },
        { matchConditions: [{ matchType: "prefix", path: ["b"] }], limit: 10, offset: 0 },
        { namespace: ["b"], key: "old", value: null },
      ]);
      expect((results[0] as Item | null)?.value).toEqual({ text: "old item" });
      expect(results[1]).toBeNull();
      expect((results[2] as SearchItem[]).map((item) => item.key)).toEqual(["old"]);
      expect(results[3]).toEqual([["b"]]);
      expect(results[4]).toBeNull();
      expect(await store.get(["b"], "old")).toBeNull();
      expect((await store.get(["b"], "new"))!.value).toEqual({ text: "new item" });
    });

    it("refuses a put to an empty namespace or to empty or dotted labels, writing nothing", async () => {
      const store = await fresh();
      const bad: string[][] = [[], [""], ["a.b"], ["users", ""], ["users", "v1.2"], ["langgraph"]];
      for (const namespace of bad) {
        await expect(store.put(namespace, "k", { text: "x" })).rejects.toThrow();
      }
      expect(await store.listNamespaces()).toEqual([]);
      expect(await store.search([])).toEqual([]);
    });
  });
}

async function keys(results: Promise<SearchItem[]>): Promise<string[]> {
  return (await results).map((item) => item.key).sort();
}
