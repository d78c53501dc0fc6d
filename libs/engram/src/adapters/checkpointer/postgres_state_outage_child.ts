import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { isEngramError } from "../../core/errors.js";
import { StaticEmbeddings } from "../../embeddings/static.js";
import { Memory } from "../../memory/memory.js";
import { postgresOutage } from "../../tests/postgres_outage.js";
import { EngramCheckpointer } from "./checkpointer.js";
import { createPostgresSaver } from "./postgres_saver.js";

/*
 * A replica of an app whose graph keeps its checkpoints in PostgreSQL (createPostgresSaver) and
 * Memory's state there too (postgres_state_outage.int.test.ts): one turn, then its database goes
 * down (a fast shutdown, as in a restart or failover: every session ends), a turn and a put while
 * it is down, then it comes back and the thread goes on. Prints its report as the last line.
 */

interface Config {
  url: string;
  chromaUrl: string;
  dataDir: string;
}

const config = JSON.parse(process.argv[2]!) as Config;
const failure = (error: unknown) => (isEngramError(error) ? { engram: true, code: error.code } : { engram: false, message: String((error as Error)?.message ?? error) });

const memory = new Memory({ dataDir: config.dataDir, chroma: { url: config.chromaUrl }, state: { postgres: config.url }, embeddings: new StaticEmbeddings(), writes: "sync" });
const saver = await createPostgresSaver(config.url, { schema: "outage_checkpoints" });
const engram = new EngramCheckpointer({ memory, saver });
const graph = new StateGraph(MessagesAnnotation)
  .addNode("assistant", (state) => ({ messages: [new AIMessage(`Reply ${state.messages.length}`)] }))
  .addEdge(START, "assistant")
  .addEdge("assistant", END)
  .compile({ checkpointer: engram });
const run = { configurable: { thread_id: "t1", user_id: "dana" } };

await graph.invoke({ messages: [new HumanMessage("I was born in Lisbon.")] }, run);
const outage = await postgresOutage(config.url);
await outage.down();
// The sessions the pools kept idle were ended by the shutdown; give their events time to arrive.
await new Promise((resolve) => setTimeout(resolve, 1_000));
const downTurn = await graph.invoke({ messages: [new HumanMessage("I moved to Oslo.")] }, run).then(() => ({ engram: false, message: "answered" }), failure);
const downGet = await saver.getTuple(run).then(() => ({ engram: false, message: "answered" }), failure);
const current = await outage.up().then(() => saver.getTuple(run));
await outage.down();
const downPut = await saver
  .put(run, { ...current!.checkpoint, id: "1f0b0000-0000-6000-8000-000000000099" }, current!.metadata!, {})
  .then(() => ({ engram: false, message: "answered" }), failure);
await outage.up();
await graph.invoke({ messages: [new HumanMessage("I keep bees.")] }, run);
const state = await graph.getState(run);
await engram.flush();
const filed = (await memory.getAll({ userId: "dana" })).map((record) => record.content).sort();
await engram.close();
await saver.end();
await memory.close();
console.log(JSON.stringify({ downTurn, downGet, downPut, texts: (state.values.messages as BaseMessage[]).map((message) => message.text), filed }));
