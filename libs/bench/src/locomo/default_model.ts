/**
 * Which of Engram's models `new Memory()` embeds with, asked of the library itself rather than
 * written down here (the default may change): a Memory with no `embeddings` option stores one
 * text in a scratch folder, which records its model (one model per data folder); a second Memory
 * opens the folder claiming the static model's id, and is refused with `EMBEDDINGS_MISMATCH`
 * (whose details name the recorded model) unless that is the one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { isEngramError, Memory } from "engram";
import { MODEL_NAMES, type ModelName } from "./embeddings.js";

/** Embeddings that only carry a model id: the probe never embeds with them. */
function idOnly(modelId: string) {
  const refuse = async (): Promise<never> => {
    throw new Error("the default-model probe does not embed");
  };
  return { modelId, embedDocuments: refuse, embedQuery: refuse };
}

export async function libraryDefaultModel(chromaUrl: string, tmpDir: string, ids: Record<ModelName, string>): Promise<ModelName> {
  const dataDir = await mkdtemp(join(tmpDir, "default-model-probe-"));
  const prefix = "locomo-default-probe";
  try {
    const defaults = new Memory({ dataDir, chroma: { url: chromaUrl }, prefix, writes: "sync" });
    try {
      await defaults.add("which model writes this folder", { userId: "probe" });
    } finally {
      await defaults.close();
    }
    const probe = new Memory({ dataDir, chroma: { url: chromaUrl }, prefix, embeddings: idOnly(ids.static) });
    let recorded = ids.static;
    try {
      await probe.getAll({ userId: "probe" });
    } catch (error) {
      const details = (error as { details?: { recorded?: unknown } }).details;
      if (!isEngramError(error, "EMBEDDINGS_MISMATCH") || typeof details?.recorded !== "string") throw error;
      recorded = details.recorded;
    } finally {
      await probe.close();
    }
    const name = MODEL_NAMES.find((model) => ids[model] === recorded);
    if (!name) throw new Error(`new Memory() embeds with "${recorded}", which the bench does not know (${MODEL_NAMES.map((m) => ids[m]).join(", ")})`);
    return name;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
