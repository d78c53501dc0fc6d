import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { startChromaProxy, type ChromaProxy } from "../../tests/chroma_proxy.js";
import { EngramStore } from "./engram_store.js";

// A read restarts an item's TTL with a Chroma `update` of `_expires`, computed from the TTL of the
// version it read. Chroma has no compare-and-set: when a put of a newer version (by another
// replica, or another call of this one) lands between the read and its refresh, the refresh used
// to overwrite the put's expiry with the old TTL's, so an item put with `ttl: null` expired (and
// was swept) a few minutes later. Likewise a sweep deleted by id what it had read as expired, so
// a put that started the item's new life in the meantime was deleted with it. A proxy in front of
// Chroma holds the refresh (or the sweep's delete) in that window.

const MINUTE = 60_000;
let chroma: TestChroma | undefined;
let proxy: ChromaProxy | undefined;
const opened: EngramStore[] = [];

beforeAll(async () => {
  chroma = await startTestChroma();
  proxy = await startChromaProxy(chroma.server.url);
});
afterAll(async () => {
  for (const store of opened) await store.close();
  await proxy?.close();
  await chroma?.stop();
});

describe("a TTL refresh that lands after another replica's put", () => {
  it.each([
    { name: "ttl: null", ttl: null, expiredAfterMinutes: undefined },
    { name: "a longer ttl", ttl: 60, expiredAfterMinutes: 61 },
  ])("never shortens the newer put's life ($name)", async ({ name, ttl, expiredAfterMinutes }) => {
    const clock = { now: 1_700_000_000_000 };
    const prefix = `race${opened.length}`;
    const replica = () => {
      const store = new EngramStore({ chroma: { url: proxy!.url }, prefix, index: false, clock: () => clock.now });
      opened.push(store);
      return store;
    };
    const [reader, writer] = [replica(), replica()];
    const ns = ["alice", "notes"];
    await writer.put(ns, "plan", { text: "first version" }, undefined, { ttl: 1 });

    // The reader has read the first version; its refresh (1 minute) is held on its way to Chroma.
    const refresh = proxy!.hold((request) => request.method === "POST" && request.path.endsWith("/update"));
    const reading = reader.get(ns, "plan");
    await refresh.arrived;
    await writer.put(ns, "plan", { text: `second version, ${name}` }, undefined, { ttl });
    refresh.release();
    expect((await reading)?.value).toEqual({ text: "first version" });

    clock.now += 5 * MINUTE;
    expect((await writer.get(ns, "plan", { refreshTtl: false }))?.value).toEqual({ text: `second version, ${name}` });
    expect((await reader.search(ns, { refreshTtl: false })).map((item) => item.value)).toEqual([{ text: `second version, ${name}` }]);
    expect(await writer.listNamespaces()).toEqual([ns]);
    expect(await reader.sweep()).toBe(0);
    expect(await writer.get(ns, "plan", { refreshTtl: false })).not.toBeNull();
    if (expiredAfterMinutes !== undefined) {
      clock.now += (expiredAfterMinutes - 5) * MINUTE;
      expect(await writer.get(ns, "plan")).toBeNull();
      expect(await reader.sweep()).toBe(1);
    }
  });
});

describe("a sweep whose delete lands after another replica's put", () => {
  it("keeps the item the put started again", async () => {
    const clock = { now: 1_700_000_000_000 };
    const prefix = `sweep${opened.length}`;
    const replica = () => {
      const store = new EngramStore({ chroma: { url: proxy!.url }, prefix, index: false, clock: () => clock.now });
      opened.push(store);
      return store;
    };
    const [sweeper, writer] = [replica(), replica()];
    const ns = ["alice", "notes"];
    await writer.put(ns, "plan", { text: "first life" }, undefined, { ttl: 1 });
    await writer.put(ns, "gone", { text: "expires for good" }, undefined, { ttl: 1 });
    clock.now += 2 * MINUTE;

    // The sweeper has read both items as expired; its delete is held on its way to Chroma.
    const deletes = proxy!.hold((request) => request.method === "POST" && request.path.endsWith("/delete"));
    const sweeping = sweeper.sweep();
    await deletes.arrived;
    await writer.put(ns, "plan", { text: "second life" }, undefined, { ttl: null });
    deletes.release();
    const swept = await sweeping;
    expect((await writer.get(ns, "plan"))?.value).toEqual({ text: "second life" });
    expect(swept).toBe(1);
    expect(await writer.get(ns, "gone")).toBeNull();
    expect(await sweeper.sweep()).toBe(0);
    expect((await sweeper.get(ns, "plan"))?.value).toEqual({ text: "second life" });
  });
});
