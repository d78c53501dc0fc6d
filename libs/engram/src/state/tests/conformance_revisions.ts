import { expect, it } from "@jest/globals";
import type { StateKit } from "./conformance_kit.js";

/**
 * Per-user store revisions (`RevisionState`): what memory/gated_store.ts builds on. A bump returns
 * the value it replaced, values are never taken twice (not even after an erase), and bumps racing
 * from two instances form one chain.
 */
export function revisionCases({ store }: StateKit): void {
  it("revisions: a bump returns the value it replaced; users apart; erase and clear drop them; values never come back", async () => {
    const open = await store();
    const [a, b] = [await open(), await open()];
    expect(await a.revisions.read("alice")).toBeNull();
    const first = await a.revisions.bump("alice");
    expect(first.before).toBeNull();
    expect(await b.revisions.read("alice")).toBe(first.after);
    const second = await b.revisions.bump("alice");
    expect(second.before).toBe(first.after);
    expect(second.after).toBeGreaterThan(first.after);
    expect(await a.revisions.read("bob")).toBeNull();
    const bob = await a.revisions.bump("bob");
    expect(bob.before).toBeNull();
    expect(await a.revisions.read("alice")).toBe(second.after);

    await b.deleteUser("alice");
    expect(await a.revisions.read("alice")).toBeNull();
    expect(await a.revisions.read("bob")).toBe(bob.after);
    const again = await a.revisions.bump("alice");
    expect(again.before).toBeNull();
    // Never a value taken before: an index built against the erased user's revision cannot match.
    expect([first.after, second.after, bob.after]).not.toContain(again.after);

    await b.revisions.clear();
    expect(await a.revisions.read("alice")).toBeNull();
    expect(await a.revisions.read("bob")).toBeNull();
    const afterClear = await b.revisions.bump("bob");
    expect([first.after, second.after, bob.after, again.after]).not.toContain(afterClear.after);
  });

  it("revisions: bumps racing from two instances form one chain (each replaced value was the previous bump's)", async () => {
    const open = await store();
    const [a, b] = [await open(), await open()];
    const start = await a.revisions.bump("carol");
    const bumps = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).revisions.bump("carol")));
    const chain = [start, ...bumps].sort((x, y) => x.after - y.after);
    expect(new Set(chain.map((bump) => bump.after)).size).toBe(chain.length);
    for (let i = 1; i < chain.length; i += 1) expect(chain[i]!.before).toBe(chain[i - 1]!.after);
    expect(await b.revisions.read("carol")).toBe(chain[chain.length - 1]!.after);
  });
}
