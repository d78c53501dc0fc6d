import type { UpsertOp } from "./writer.js";

/**
 * Finishes upserts that `add` queued without a vector under `writes: "background"`, in place: the
 * texts are embedded in one model call, in the drain, after `add` returned.
 */
export async function finishUpserts(upserts: UpsertOp[], embed: (texts: string[]) => Promise<number[][]>): Promise<void> {
  const missing = upserts.filter((op) => op.embedding === undefined);
  if (missing.length === 0) return;
  const vectors = await embed(missing.map((op) => op.record.content));
  missing.forEach((op, i) => {
    op.embedding = vectors[i];
  });
}
