import type { EmbeddingsInterface } from "@langchain/core/embeddings";

/**
 * The model that wrote a data folder's vectors before folders recorded one: every Engram release
 * until then embedded with Universal Sentence Encoder Lite unless told otherwise
 * (`LocalEmbeddings.modelId`, kept equal to this).
 */
export const LEGACY_DEFAULT_MODEL_ID = "universal-sentence-encoder-lite@0.2.0";

/**
 * Names the model (and version) behind an embeddings object, so a data folder can record which
 * model wrote its vectors and refuse another (docs/embeddings.md).
 *
 * - `modelId`, when the object has one (Engram's own models do): used as is.
 * - Otherwise derived from what LangChain's classes expose: the class name (`lc_name()` or the
 *   constructor's name), the model name (`model` or `modelName`) and the vector size
 *   (`dimensions`), e.g. `OpenAIEmbeddings:text-embedding-3-small:1536d`. Two objects of one class
 *   and model with no model name to tell them apart (a custom class) get the same id: give such a
 *   class a `modelId`.
 */
export function embeddingsIdentity(embeddings: EmbeddingsInterface): string {
  const fields = embeddings as unknown as Record<string, unknown>;
  const own = fields.modelId;
  if (typeof own === "string" && own.trim() !== "") return own.trim();
  const parts = [className(embeddings)];
  const model = firstString(fields.model, fields.modelName);
  if (model !== undefined) parts.push(model);
  const dimensions = fields.dimensions;
  if (typeof dimensions === "number" && Number.isFinite(dimensions)) parts.push(`${dimensions}d`);
  return parts.join(":");
}

function className(embeddings: EmbeddingsInterface): string {
  const constructor = (embeddings as { constructor?: { name?: unknown; lc_name?: unknown } }).constructor;
  if (typeof constructor?.lc_name === "function") {
    const name: unknown = (constructor.lc_name as () => unknown).call(constructor);
    if (typeof name === "string" && name !== "") return name;
  }
  return typeof constructor?.name === "string" && constructor.name !== "" ? constructor.name : "Embeddings";
}

function firstString(...values: unknown[]): string | undefined {
  for (const value of values) if (typeof value === "string" && value.trim() !== "") return value.trim();
  return undefined;
}
