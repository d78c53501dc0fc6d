import { afterAll, beforeAll } from "@jest/globals";
import { InMemoryStore } from "@langchain/langgraph";
import { LocalEmbeddings } from "../../embeddings/local.js";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { describeStoreConformance } from "./conformance.js";
import { EngramStore } from "./engram_store.js";

// The real local model in both stores: the suite's semantic tests need a paraphrase to rank first.
const embeddings = new LocalEmbeddings();

describeStoreConformance("InMemoryStore (LangGraph)", ({ fields }) => new InMemoryStore({ index: { dims: 512, embeddings, fields } }));

let chroma: TestChroma;
const opened: EngramStore[] = [];
let stores = 0;

beforeAll(async () => {
  chroma = await startTestChroma();
});

afterAll(async () => {
  for (const store of opened) await store.close();
  await embeddings.close();
  await chroma?.stop();
});

describeStoreConformance("EngramStore (real Chroma)", ({ fields }) => {
  // A fresh prefix per test: a new, empty store on the same server.
  stores += 1;
  const store = new EngramStore({ chroma: { url: chroma.server.url }, prefix: `conf${stores}`, index: { fields, embeddings } });
  opened.push(store);
  return store;
});
