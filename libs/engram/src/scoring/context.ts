/**
 * Session-level context and diversity for a ranked list of memories, after the ranker.
 *
 * - {@link boostBySession}: a memory in a thread (a conversation's session) where other candidates
 *   match the question well is lifted: the answer to "what did she paint after the camping trip?"
 *   sits in the session that talks about the trip, not always in the turn that names it.
 * - {@link weighBySpeaker}: a turn the assistant said counts less than the user's own: it asks
 *   about, praises or restates what the user said ("Exciting! Do you have a training plan?"), so it
 *   shares the question's words without holding the answer, which sits in the user's turn next to it.
 * - {@link diversify}: maximal marginal relevance over the top of the list, so that near-repeats of
 *   one matching turn do not fill the k slots that a multi-part question needs.
 */
import type { MemoryRecord } from "../core/types.js";

function threadOf(record: MemoryRecord): string | undefined {
  return record.scope.threadId ?? record.source?.threadId;
}

/**
 * Each memory gains `weight` times the best score of the *other* candidates of its thread (none
 * without a thread), divided by `1 + weight` (scores stay in 0..1), then the list is sorted again,
 * best first (ties keep their order).
 */
export function boostBySession<T extends { record: MemoryRecord; score: number }>(items: readonly T[], weight: number): T[] {
  if (weight <= 0 || items.length === 0) return [...items];
  // The best two scores per thread: an item's "other best" is the first unless it is the first.
  const best = new Map<string, [number, number]>();
  for (const item of items) {
    const thread = threadOf(item.record);
    if (thread === undefined) continue;
    const [a, b] = best.get(thread) ?? [-Infinity, -Infinity];
    best.set(thread, item.score > a ? [item.score, a] : [a, Math.max(b, item.score)]);
  }
  const boosted = items.map((item, index) => {
    const thread = threadOf(item.record);
    const pair = thread === undefined ? undefined : best.get(thread);
    const other = pair === undefined ? -Infinity : item.score === pair[0] ? pair[1] : pair[0];
    // Divided by 1 + weight so that scores stay in 0..1; the order is the same.
    return { item: { ...item, score: (item.score + weight * (Number.isFinite(other) ? other : 0)) / (1 + weight) }, index };
  });
  boosted.sort((a, b) => b.item.score - a.item.score || a.index - b.index);
  return boosted.map((entry) => entry.item);
}

/**
 * Each memory the assistant said (role `"assistant"`) keeps `share` of its score; the others keep
 * theirs. Then the list is sorted again, best first (ties keep their order). `share` 1 changes nothing.
 */
export function weighBySpeaker<T extends { record: MemoryRecord; score: number }>(items: readonly T[], share: number): T[] {
  if (share >= 1 || !items.some((item) => item.record.role === "assistant")) return [...items];
  const weighed = items.map((item, index) => ({ item: item.record.role === "assistant" ? { ...item, score: item.score * share } : item, index }));
  weighed.sort((a, b) => b.item.score - a.item.score || a.index - b.index);
  return weighed.map((entry) => entry.item);
}

/**
 * Maximal marginal relevance: the first `k` places are filled one at a time with the candidate
 * (among the best `3k`) maximising `lambda * score - (1 - lambda) * max similarity to those
 * already placed`; the rest follow in their order. `lambda` 1 keeps the order. Scores are kept.
 */
export function diversify<T extends { record: MemoryRecord; score: number }>(
  items: readonly T[],
  similarity: (a: string, b: string) => number,
  lambda: number,
  k: number,
): T[] {
  if (lambda >= 1 || items.length <= 1) return [...items];
  const pool = items.slice(0, 3 * k);
  const chosen: T[] = [];
  const left = new Set(pool.map((_, i) => i));
  const nearest = pool.map(() => -Infinity);
  while (chosen.length < k && left.size > 0) {
    let bestIndex = -1;
    let bestValue = -Infinity;
    for (const i of left) {
      const value = lambda * pool[i]!.score - (1 - lambda) * (chosen.length === 0 ? 0 : nearest[i]!);
      if (value > bestValue) {
        bestValue = value;
        bestIndex = i;
      }
    }
    const picked = pool[bestIndex]!;
    left.delete(bestIndex);
    chosen.push(picked);
    for (const i of left) nearest[i] = Math.max(nearest[i]!, similarity(pool[i]!.record.id, picked.record.id));
  }
  const placed = new Set(chosen);
  return [...chosen, ...items.filter((item) => !placed.has(item))];
}
