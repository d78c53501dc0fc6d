import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";

/**
 * Makes a data folder record the static model (one memory of a user "seed"): the CLI opens a
 * folder with the model it records, so a child process then embeds with the static model (a few
 * seconds for thousands of lines) rather than loading USE-Lite.
 */
export async function seedStaticFolder(dataDir: string, chromaUrl: string): Promise<void> {
  const memory = new Memory({ dataDir, embeddings: new StaticEmbeddings(), chroma: { url: chromaUrl }, writes: "sync" });
  try {
    await memory.add("Seeded so that the folder records its model", { userId: "seed" });
  } finally {
    await memory.close();
  }
}
