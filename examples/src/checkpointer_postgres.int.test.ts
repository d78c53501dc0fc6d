import { afterAll, beforeAll, expect, it, jest } from "@jest/globals";
import { AIMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { startTestChroma, type TestChroma } from "../../libs/engram/src/tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../libs/engram/src/tests/postgres.js";
import { chatThenPrune, createReplicaAssistant } from "./checkpointer_postgres.js";

// Real servers: a private PostgreSQL cluster and a Chroma server, started for this suite.
jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

let postgres: TestPostgres | undefined;
let chroma: TestChroma | undefined;
let databaseUrl = "";
beforeAll(async () => {
  [postgres, chroma] = await Promise.all([startPostgres(), startTestChroma()]);
  databaseUrl = await freshDatabase(postgres.url, "engram_example");
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), chroma?.stop()]);
});

it("keeps the last 20 checkpoints of a thread in PostgreSQL and files every turn into alice's memory", async () => {
  const replies = Array.from({ length: 8 }, (_, i) => new AIMessage(`Noted, item ${i + 1}.`));
  const llm = replies.reduce((model, reply) => model.respond(reply), fakeModel());
  const assistant = await createReplicaAssistant(llm, databaseUrl, chroma!.server.url);
  try {
    let pruned = 0;
    for (let turn = 1; turn <= 8; turn += 1) {
      const result = await chatThenPrune(assistant, turn === 1 ? "My sister Ana lives in Porto." : `Please note item ${turn}.`);
      expect(result.expired).toEqual([]);
      pruned += result.pruned;
    }
    // Three checkpoints a turn: 24 written, 20 kept.
    expect(pruned).toBe(4);
    let kept = 0;
    for await (const _ of assistant.checkpointer.list({ configurable: { thread_id: "support-42" } })) kept += 1;
    expect(kept).toBe(20);
    // The pruned turns are in long-term memory all the same.
    await assistant.checkpointer.flush();
    const hits = await assistant.memory.search("Where does my sister live?", { userId: "alice", limit: 3 });
    expect(hits.map((hit) => hit.content)).toContain("My sister Ana lives in Porto.");
  } finally {
    await assistant.close();
  }
});
