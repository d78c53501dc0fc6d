/**
 * The read-your-writes scenario of the pending overlay (memory/pending_overlay.ts), run by its
 * integration tests in one process, across two processes on one SQLite folder, and across two
 * replicas on PostgreSQL: while every drain of the users is held back (their "drain" lock taken),
 * a search finds a just-added memory, does not return a just-deleted one and sees an update; once
 * the drains run, the store gives the same answers.
 */
import { expect } from "@jest/globals";
import { DRAIN_LOCK } from "../memory/writer.js";

/** The calls the scenario makes, on a Memory or on a peer process's Memory. */
export interface ScenarioClient {
  add(text: string, options: { userId: string }): Promise<{ results: Array<{ id: string }> }>;
  update(id: string, text: string, options: { userId: string }): Promise<unknown>;
  delete(id: string, options: { userId: string }): Promise<unknown>;
  search(query: string, options: { userId: string; limit?: number }): Promise<Array<{ id: string; content: string }>>;
  getAll(options: { userId: string; kind?: "episode" | "procedure" }): Promise<Array<{ id: string; content: string }>>;
  get(id: string, options: { userId: string }): Promise<{ id: string; content: string } | null>;
  flush(): Promise<unknown>;
}

export interface ScenarioInput {
  /** Makes the writes. */
  writer: ScenarioClient;
  /** Searches (the writer itself, or another instance or process sharing the state). */
  readers: ScenarioClient[];
  /** Takes the users' "drain" locks (resolves once held); the returned function releases them. */
  hold(userIds: string[]): Promise<() => Promise<void>>;
  /** The user's writes still queued in the shared state's outbox. */
  queued(userId: string): Promise<number>;
}

const ALICE = { userId: "alice" };
const BOB = { userId: "bob" };
const CAROL = { userId: "carol" };

const SISTER = "My sister Marta lives in Berlin and plays the violin.";
const BEES = "Bob keeps bees in his garden behind the house.";
const PARIS = "Carol lives in Paris and teaches piano at a school.";
const ROME = "Carol lives in Rome and teaches piano at a school.";

/** Each reader's answers to the three questions; `expectNow` checks them against what was acknowledged. */
async function check(readers: ScenarioClient[], ids: { sister: string; bees: string; carol: string }): Promise<void> {
  for (const reader of readers) {
    const sister = await reader.search("Where does my sister live?", { ...ALICE, limit: 5 });
    expect(sister[0]?.id).toBe(ids.sister);
    expect(sister[0]?.content).toBe(SISTER);

    const bees = await reader.search("Who keeps bees in the garden?", { ...BOB, limit: 5 });
    expect(bees.map((hit) => hit.id)).not.toContain(ids.bees);

    const carol = await reader.search("Where does Carol live?", { ...CAROL, limit: 5 });
    expect(carol[0]?.content).toBe(ROME);
    // The stored version is replaced, never returned beside the queued one.
    expect(carol.filter((hit) => hit.id === ids.carol)).toHaveLength(1);
    expect(carol.map((hit) => hit.content)).not.toContain(PARIS);

    // getAll and get (a graph turn reads the user's procedures with getAll) see the same.
    const alice = await reader.getAll({ ...ALICE, kind: "episode" });
    expect(alice.find((record) => record.id === ids.sister)?.content).toBe(SISTER);
    expect(alice).toHaveLength(3);
    expect((await reader.getAll({ ...ALICE, kind: "procedure" })).map((record) => record.id)).not.toContain(ids.sister);
    expect((await reader.getAll(BOB)).map((record) => record.id)).not.toContain(ids.bees);
    expect((await reader.getAll(CAROL)).filter((record) => record.id === ids.carol).map((record) => record.content)).toEqual([ROME]);
    expect((await reader.get(ids.sister, ALICE))?.content).toBe(SISTER);
    expect(await reader.get(ids.bees, BOB)).toBeNull();
    expect((await reader.get(ids.carol, CAROL))?.content).toBe(ROME);
    // Never another user's: the queued write of alice is not bob's.
    expect(await reader.get(ids.sister, BOB)).toBeNull();
  }
}

export async function pendingOverlayScenario({ writer, readers, hold, queued }: ScenarioInput): Promise<void> {
  // Stored before the drains are held: what the delete and the update act on, and other memories
  // of each user for the queued ones to be ranked against.
  await writer.add("Alice rides a red bike to work every morning.", ALICE);
  await writer.add("Alice's favourite food is ramen with an egg.", ALICE);
  const bees = (await writer.add(BEES, BOB)).results[0]!.id;
  await writer.add("Bob is learning to play the cello.", BOB);
  const carol = (await writer.add(PARIS, CAROL)).results[0]!.id;
  await writer.add("Carol's cat is called Miso.", CAROL);
  await writer.flush();
  // Warm every reader's in-process index of the users (the overlay must work on a warm index too).
  for (const reader of readers) for (const user of [ALICE, BOB, CAROL]) await reader.search("anything at all", user);

  const release = await hold(["alice", "bob", "carol"]);
  let released = false;
  try {
    const sister = (await writer.add(SISTER, ALICE)).results[0]!.id;
    await writer.delete(bees, BOB);
    await writer.update(carol, ROME, CAROL);
    // The drains are held: the three writes are acknowledged and still queued.
    for (const user of ["alice", "bob", "carol"]) expect(await queued(user)).toBe(1);

    await check(readers, { sister, bees, carol });
    // The searches, getAll and get did not drain (they could not: the locks are held) and did not wait for it.
    for (const user of ["alice", "bob", "carol"]) expect(await queued(user)).toBe(1);

    released = true;
    await release();
    await writer.flush();
    for (const user of ["alice", "bob", "carol"]) expect(await queued(user)).toBe(0);
    // The same answers from the store itself.
    await check(readers, { sister, bees, carol });
  } finally {
    if (!released) await release();
  }
}

/** Takes the users' drain locks (`LeaseState.exclusive`) and holds them until the returned function is called. */
export async function holdLocks(
  exclusive: (userId: string, name: string, fn: () => Promise<void>) => Promise<void>,
  userIds: string[],
): Promise<() => Promise<void>> {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const held: Array<Promise<void>> = [];
  const sections = userIds.map(
    (userId) =>
      new Promise<void>((taken) => {
        held.push(
          exclusive(userId, DRAIN_LOCK, async () => {
            taken();
            await opened;
          }),
        );
      }),
  );
  await Promise.all(sections);
  return async () => {
    open();
    await Promise.all(held);
  };
}
