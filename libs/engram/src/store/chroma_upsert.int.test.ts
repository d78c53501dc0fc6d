import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { ChromaClient, type Collection } from "chromadb";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { packBase64, upsertRows } from "./chroma_upsert.js";

let chroma: TestChroma;
let client: ChromaClient;

beforeAll(async () => {
  chroma = await startTestChroma();
  client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
});
afterAll(async () => chroma.stop());

/** Seeded values, and some awkward ones (negative zero, tiny, large, float32 rounding). */
function vectors(n: number, dims: number): number[][] {
  let seed = 7;
  const next = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648) * 2 - 1;
  const out = Array.from({ length: n }, () => Array.from({ length: dims }, next));
  out[0]!.splice(0, 4, -0, 1e-30, 12_345.678, 0.1);
  return out;
}

async function collection(name: string): Promise<Collection> {
  return client.getOrCreateCollection({ name, embeddingFunction: null, metadata: { "hnsw:space": "cosine" } });
}

it("packs vectors as the client does: the same base64 of little-endian float32", () => {
  const [vector] = vectors(1, 8);
  const bytes = new Uint8Array(Float32Array.from(vector!).buffer);
  expect(packBase64([vector!])).toEqual([btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""))]);
  // Vectors of another length than the first are packed on their own, whole.
  expect(Buffer.from(packBase64([[1, 2], [3, 4, 5]])[1]!, "base64").length).toBe(12);
});

it("stores exactly what the client's own upsert stores: vectors, documents, metadata, and replaces by id", async () => {
  const rows = (prefix: string, vs: number[][]) => ({
    ids: vs.map((_, i) => `${prefix}${i}`),
    embeddings: vs,
    documents: vs.map((_, i) => `text ${i}`),
    metadatas: vs.map((_, i) => ({ userId: "u", createdAt: 1_000 + i, flag: i % 2 === 0, kind: "episode" })),
  });
  const vs = vectors(300, 512);
  const ours = await collection("ours");
  const theirs = await collection("theirs");
  await upsertRows(ours, rows("r", vs));
  await theirs.upsert(rows("r", vs));
  const include = ["embeddings", "documents", "metadatas"] as never;
  const a = await ours.get({ include });
  const b = await theirs.get({ include });
  expect(a.ids.length).toBe(300);
  expect(a.ids).toEqual(b.ids);
  expect(a.documents).toEqual(b.documents);
  expect(a.metadatas).toEqual(b.metadatas);
  expect(a.embeddings.map((e) => Array.from(e))).toEqual(b.embeddings.map((e) => Array.from(e)));
  // The vectors are the values written (the server prints float32 with 8 digits: a last-digit
  // difference; the two clients' copies above are equal to the bit).
  const stored = Array.from(a.embeddings[a.ids.indexOf("r0")]!);
  stored.forEach((x, i) => expect(Math.abs(x - vs[0]![i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(x))));
  // An upsert of an existing id replaces it; queries find it by its new vector.
  const moved = vs[5]!.map((x) => -x);
  await upsertRows(ours, { ids: ["r0"], embeddings: [moved], documents: ["moved"], metadatas: [{ userId: "u", kind: "episode" }] });
  const [hit] = (await ours.query({ queryEmbeddings: [moved], nResults: 1, include: ["documents"] as never })).documents[0]!;
  expect(hit).toBe("moved");
  expect(await ours.count()).toBe(300);
});

it("fails as the client fails: a vector of the wrong length is refused by the server, repeated ids by the client", async () => {
  const target = await collection("refusals");
  await upsertRows(target, { ids: ["a"], embeddings: [[1, 0, 0]], documents: ["a"], metadatas: [{ userId: "u" }] });
  const wrong = { ids: ["b"], embeddings: [[1, 0]], documents: ["b"], metadatas: [{ userId: "u" }] };
  const ours = await upsertRows(target, wrong).catch((error: unknown) => error as Error);
  const theirs = await target.upsert({ ...wrong, embeddings: [[1, 0]] }).catch((error: unknown) => error as Error);
  expect(ours).toBeInstanceOf(Error);
  expect((ours as Error).constructor).toBe((theirs as Error).constructor);
  expect((ours as Error).message).toBe((theirs as Error).message);
  await expect(upsertRows(target, { ids: ["c", "c"], embeddings: [[1, 0, 0], [0, 1, 0]], documents: ["c", "c"], metadatas: [{ userId: "u" }, { userId: "u" }] })).rejects.toThrow(/unique|duplicate/i);
  expect(await target.count()).toBe(1);
});
