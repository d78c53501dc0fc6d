/**
 * The main job (placeholder until the memory core lands): start the local Chroma server, embed with
 * the local model, store a few memories and recall one by meaning.
 */
import { ChromaClient } from "chromadb";
import { LocalEmbeddings, startChromaServer } from "engram";

const server = await startChromaServer({ path: ".engram/chroma" });
try {
  const embeddings = new LocalEmbeddings();
  const client = new ChromaClient({ host: server.host, port: server.port });
  const collection = await client.getOrCreateCollection({ name: "demo", embeddingFunction: null, metadata: { "hnsw:space": "cosine" } });
  const docs = ["Alice prefers Python for data science.", "Alice's cat is called Miso.", "Alice moved to Berlin in 2023."];
  await collection.upsert({ ids: ["m0", "m1", "m2"], documents: docs, embeddings: await embeddings.embedDocuments(docs) });
  const hits = await collection.query({ queryEmbeddings: [await embeddings.embedQuery("Which city does Alice live in?")], nResults: 1 });
  console.log(`Recalled: ${hits.documents[0]?.[0]}`);
} finally {
  await server.stop();
}
