import { withEntities } from "../scoring/entities.js";
import type { UpsertOp } from "./writer.js";

/**
 * Finishes upserts that `add` queued unfinished under `writes: "background"`, in place: tags the
 * entities it left for later (the tagger takes about 5 ms for a sentence) and embeds, in one model
 * call, the texts it had no vector for. Runs in the drain, after `add` returned.
 */
export async function finishUpserts(upserts: UpsertOp[], embed: (texts: string[]) => Promise<number[][]>): Promise<void> {
  for (const op of upserts) {
    if (!op.tagEntities) continue;
    op.record.metadata = withEntities(op.record.metadata, op.record.content);
    delete op.tagEntities;
  }
  const missing = upserts.filter((op) => op.embedding === undefined);
  if (missing.length === 0) return;
  const vectors = await embed(missing.map((op) => op.record.content));
  missing.forEach((op, i) => {
    op.embedding = vectors[i];
  });
}
