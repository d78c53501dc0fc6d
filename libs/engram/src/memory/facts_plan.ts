/** Semantic memory: the writes that carry out a reconciliation's decisions (memory/facts.ts runs the job). */
import { deterministicId } from "../core/ids.js";
import type { MemoryRecord, MemorySource, Metadata, Scope } from "../core/types.js";
import { factKey, type ExtractedFact } from "../consolidation/extract.js";
import type { FactDecision } from "../consolidation/reconcile.js";
import { SUPERSEDED_BY_KEY, SUPERSEDES_KEY, VALID_FROM_KEY, VALID_UNTIL_KEY, isCurrent } from "../consolidation/validity.js";
import { ENTITIES_KEY, extractEntities, joinEntities } from "../scoring/entities.js";
import type { EpisodicStore } from "../store/types.js";
import { versionOf } from "./erased_updates.js";
import type { WriteOp } from "./writer.js";

/** What planning reads and computes with: the store, the embedder, whether entities are tagged offline. */
export interface PlanInput {
  store: EpisodicStore;
  embed(texts: string[]): Promise<number[][]>;
  offlineEntities: boolean;
}

/** The writes that carry out a job's decisions; changes already made (a replay) are left out. */
export async function planFactWrites(
  input: PlanInput,
  scope: Scope,
  facts: readonly ExtractedFact[],
  given: readonly FactDecision[],
  when: { at: number; now: number; source: MemorySource; jobKey: string; shown: ReadonlyMap<string, string> },
): Promise<WriteOp[]> {
  const { store } = input;
  const { at, now, source } = when;
  const namedIds = given.flatMap((d) => (d.event === "ADD" || d.id === undefined ? [] : [d.id]));
  // With every fact shown: one may hold a new fact's words under another id (below).
  const ids = [...new Set([...namedIds, ...given.map((d) => factId(scope, facts[d.fact]!.text)), ...when.shown.keys()])];
  const stored = new Map((await store.get(scope.userId, ids, { embeddings: true })).map((hit) => [hit.record.id, hit]));
  // The model call took seconds: the user may have updated or deleted a fact it was shown. A
  // decision about a text that is no longer there would overwrite the user's change or bring
  // back what they deleted; the new fact is added on its own instead, so nothing is lost.
  const decisions = given.map((d): FactDecision => {
    if (d.event === "ADD" || d.id === undefined) return d;
    const hit = stored.get(d.id);
    const unchanged = hit !== undefined && isCurrent(hit.record, now) && hit.record.content === when.shown.get(d.id);
    return unchanged ? d : { event: "ADD", fact: d.fact, text: facts[d.fact]!.text };
  });
  // New facts: one per fact decided ADD or INVALIDATE (however many stored facts it ends).
  const added = new Map<number, NewFact>();
  for (const decision of decisions) {
    if (decision.event !== "ADD" && decision.event !== "INVALIDATE") continue;
    const entry = added.get(decision.fact) ?? { text: facts[decision.fact]!.text, id: factId(scope, facts[decision.fact]!.text), ends: [] };
    if (decision.event === "INVALIDATE") {
      // The model sees words, not times. A stored fact that became true after this exchange was
      // said (an old conversation imported late, a job retried after a later thread's ran) is
      // what holds now: the contradiction ends the new fact, at the time the stored one began.
      const since = stored.get(decision.id)?.record.metadata[VALID_FROM_KEY];
      if (typeof since === "number" && since > at) {
        if (entry.endedBy === undefined || since < entry.endedBy.at) entry.endedBy = { id: decision.id, at: since };
      } else entry.ends.push(decision.id);
    }
    added.set(decision.fact, entry);
  }
  const renamed: string[] = [];
  const currentAsShown = (id: string): boolean => {
    const hit = stored.get(id);
    return hit !== undefined && isCurrent(hit.record, now) && hit.record.content === when.shown.get(id);
  };
  for (const entry of added.values()) {
    // A current fact holding these words under another id (one the app added itself, one an
    // UPDATE rewrote) is this fact: storing it under its own id made a second copy.
    const own = stored.get(entry.id);
    if (!(own && isCurrent(own.record, now))) {
      const same = [...when.shown.keys()].find((id) => currentAsShown(id) && factKey(stored.get(id)!.record.content) === factKey(entry.text));
      if (same !== undefined) entry.id = same;
    }
    const existing = stored.get(entry.id);
    // The same fact, already current: a replay or a fact restated. Ending it would be nonsense.
    if (existing && isCurrent(existing.record, now)) entry.ends = entry.ends.filter((id) => id !== entry.id);
    // A fact this job stores as ended, stored so already (a replay of this job): kept as it is.
    else if (existing && entry.endedBy !== undefined && existing.record.metadata[SUPERSEDED_BY_KEY] === entry.endedBy.id) continue;
    // The same words as a fact that stopped being true: a new validity period, a new record
    // (whose id is fixed by the job, so a replay of this job finds it).
    else if (existing) {
      entry.id = factId(scope, entry.text, when.jobKey);
      renamed.push(entry.id);
    }
  }
  if (renamed.length > 0) {
    for (const hit of await store.get(scope.userId, renamed, { embeddings: true })) stored.set(hit.record.id, hit);
  }
  const fresh = [...added.entries()].filter(([, entry]) => {
    const existing = stored.get(entry.id);
    // Stored already: current, or (a fact ended on arrival) as ended as this job would store it.
    return !(existing && (isCurrent(existing.record, now) || entry.endedBy !== undefined));
  });
  const updates = decisions.filter((d): d is Extract<FactDecision, { event: "UPDATE" }> => d.event === "UPDATE");
  const changedTexts = updates.filter((d) => {
    const hit = stored.get(d.id);
    return hit !== undefined && isCurrent(hit.record, now) && hit.record.content !== d.text;
  });
  const vectors = await input.embed([...fresh.map(([, entry]) => entry.text), ...changedTexts.map((d) => d.text)]);

  const ops: WriteOp[] = [];
  fresh.forEach(([index, entry], i) => {
    const metadata: Metadata = { [VALID_FROM_KEY]: at };
    const entities = entitiesFor(input, entry.text, facts[index]!.entities);
    if (entities !== undefined) metadata[ENTITIES_KEY] = entities;
    if (entry.ends.length > 0) metadata[SUPERSEDES_KEY] = entry.ends.join("|");
    if (entry.endedBy !== undefined) {
      metadata[VALID_UNTIL_KEY] = entry.endedBy.at;
      metadata[SUPERSEDED_BY_KEY] = entry.endedBy.id;
    }
    const record: MemoryRecord = {
      id: entry.id,
      scope: { ...scope },
      kind: "fact",
      content: entry.text,
      importance: 0.5,
      createdAt: now,
      updatedAt: now,
      lastAccessedAt: now,
      source: { ...source },
      metadata,
    };
    ops.push({
      op: "upsert",
      record,
      embedding: vectors[i]!,
      history: { memoryId: record.id, event: "ADD", oldContent: null, newContent: record.content, reason: "extract", at: now },
    });
  });
  for (const entry of added.values()) {
    for (const endedId of entry.ends) {
      const hit = stored.get(endedId);
      if (!hit || !isCurrent(hit.record, now)) continue;
      const record: MemoryRecord = {
        ...hit.record,
        updatedAt: now,
        metadata: { ...hit.record.metadata, [VALID_UNTIL_KEY]: at, [SUPERSEDED_BY_KEY]: entry.id },
      };
      ops.push({
        op: "upsert",
        record,
        embedding: hit.embedding ?? [],
        history: { memoryId: endedId, event: "UPDATE", oldContent: hit.record.content, newContent: hit.record.content, reason: "invalidate", at: now },
        // A delete or a change that lands between the read above and the drain wins (writer.ts
        // `ifStored`, `ifStoredAs`).
        ifStored: true,
        ifStoredAs: [{ id: endedId, versions: [versionOf(hit.record)] }],
      });
    }
  }
  changedTexts.forEach((decision, i) => {
    const hit = stored.get(decision.id)!;
    const metadata: Metadata = { ...hit.record.metadata };
    const entities = entitiesFor(input, decision.text, facts[decision.fact]!.entities);
    if (entities === undefined) delete metadata[ENTITIES_KEY];
    else metadata[ENTITIES_KEY] = entities;
    const record: MemoryRecord = { ...hit.record, content: decision.text, updatedAt: now, metadata };
    ops.push({
      op: "upsert",
      record,
      embedding: vectors[fresh.length + i]!,
      history: { memoryId: decision.id, event: "UPDATE", oldContent: hit.record.content, newContent: decision.text, reason: "reconcile", at: now },
      ifStored: true,
      ifStoredAs: [{ id: decision.id, versions: [versionOf(hit.record)] }],
    });
  });
  return ops;
}

function entitiesFor(input: PlanInput, text: string, fromModel: readonly string[]): string | undefined {
  const offline = input.offlineEntities ? extractEntities(text).map((entity) => entity.name) : [];
  return joinEntities([...fromModel, ...offline]);
}

/** A fact a job stores: its words, its id, the stored facts it ends, and the newer one that ends it. */
interface NewFact {
  text: string;
  id: string;
  ends: string[];
  endedBy?: { id: string; at: number };
}

/**
 * A fact's id: the same words for the same user (and agent) give the same id, so a replayed job
 * never stores a fact twice; `period` tells apart a fact that became true again after it ended.
 */
function factId(scope: Scope, text: string, period?: string): string {
  return deterministicId("fact", scope.userId, scope.agentId, factKey(text), period);
}
