import { afterEach, describe } from "@jest/globals";
import type { StateBackend } from "./types.js";
import { claimCases } from "./tests/conformance_claims.js";
import { erasureCases } from "./tests/conformance_erasure.js";
import { historyCases } from "./tests/conformance_history.js";
import type { StateKit } from "./tests/conformance_kit.js";
import { lockCases } from "./tests/conformance_locks.js";
import { outboxCases } from "./tests/conformance_outbox.js";
import { recordCases } from "./tests/conformance_records.js";
import { revisionCases } from "./tests/conformance_revisions.js";

/**
 * How the suite gets state to test: `fresh()` makes a new, empty store and returns a function
 * that opens an instance on it. Each call of that function is another instance with its own
 * connections (another replica, or another process on the same data folder); the suite closes
 * every instance it opened.
 */
export interface ConformanceTarget {
  name: string;
  fresh(): Promise<() => StateBackend>;
}

/**
 * One behaviour suite for every backend of shared state (state/types.ts): SQLite and PostgreSQL
 * must both pass it unchanged. It checks the promises the rest of Engram builds on: writes
 * superseded by key, seqs never reused, every read and delete scoped by user, claims that skip
 * another live owner and take over after its lease, exclusive sections that never overlap, two
 * instances racing setup and claims, store revisions that form one chain, and erasure that leaves nothing of the user in any part.
 * The cases live in state/tests/conformance_*.ts, one part of the state each.
 */
export function describeStateConformance(target: ConformanceTarget): void {
  const opened: StateBackend[] = [];
  const kit: StateKit = {
    store: async () => {
      const make = await target.fresh();
      return async () => {
        const state = make();
        opened.push(state);
        await state.setup();
        return state;
      };
    },
    one: async () => (await kit.store())(),
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((state) => state.close()));
  });

  describe(`${target.name}: shared state conformance`, () => {
    historyCases(kit);
    outboxCases(kit);
    claimCases(kit);
    lockCases(kit);
    recordCases(kit);
    erasureCases(kit);
    revisionCases(kit);
  });
}
