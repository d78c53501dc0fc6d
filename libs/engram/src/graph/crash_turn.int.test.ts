/**
 * "The turn as data": a process killed (SIGKILL) in the middle of a turn, after the model answered
 * and `remember` handed the exchange to Memory but before LangGraph wrote that step's checkpoint,
 * and the thread resumed by another process on the same data folder and SQLite checkpointer. Real
 * child process, real Chroma server, the static embedding model; the models are recording fakes.
 */
import { describe, expect, it } from "@jest/globals";
import type { BaseMessage } from "@langchain/core/messages";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { StaticEmbeddings } from "../embeddings/static.js";
import { testMemories } from "../tests/memories.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { runConfig, say } from "../tests/runs.js";
import { createMemoryGraph } from "./agent.js";
import type { CrashTurnConfig } from "./crash_turn_child.js";

const memories = testMemories();
const CHILD = fileURLToPath(new URL("./crash_turn_child.ts", import.meta.url));

/** Runs the child until it says it remembered the turn, then kills it; the ids it acknowledged. */
function crashAfterRemember(config: CrashTurnConfig): Promise<{ ids: string[]; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let stderr = "";
  let ids: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!line.startsWith("remembered ")) return;
    ids = line.split(" ").slice(1);
    child.kill("SIGKILL");
  });
  return new Promise((done) => child.once("close", (_code, signal) => done({ ids, signal, stderr })));
}

describe("a process killed mid-turn, the thread resumed in another process", () => {
  it.each([
    ["resumed (invoke(null))", null],
    ["the app sends the next message", "Thanks, and what else?"],
  ])("the turn is remembered exactly once: %s", async (_name, next) => {
    const name = next === null ? "resume" : "next";
    const user = `ola-${name}`;
    const m = memories.open(name, { embeddings: new StaticEmbeddings() });
    const checkpoints = join(memories.chroma.dir, `${name}-checkpoints.sqlite`);
    const text = "Please remember: my daughter Mia starts school in Zurich on August 19th.";
    const crashed = crashAfterRemember({
      dataDir: join(memories.chroma.dir, name),
      chromaUrl: memories.chroma.server.url,
      checkpoints,
      userId: user,
      threadId: "o-1",
      text,
      reply: "Noted: Mia starts school in Zurich on August 19th.",
    });
    const run = await crashed;
    expect(run.signal).toBe("SIGKILL");
    expect(run.ids).toHaveLength(2);

    // Another process: the same data folder and checkpointer, another model.
    const model = new RecordingChatModel("A second answer.");
    const graph = createMemoryGraph({ memory: m, model, checkpointer: SqliteSaver.fromConnString(checkpoints), onWarning: () => {} });
    const cfg = runConfig(user, "o-1");
    expect((await graph.getState(cfg)).next).toEqual(["remember"]);
    await graph.invoke(next === null ? null : say(next), cfg);

    const messages = (await graph.getState(cfg)).values.messages as BaseMessage[];
    expect(messages.slice(0, 2).map((message) => message.text)).toEqual([text, "Noted: Mia starts school in Zurich on August 19th."]);
    await m.flush();
    const episodes = await m.getAll({ userId: user, kind: "episode" });
    const ofTurn = episodes.filter((record) => record.content.includes("Mia"));
    expect(ofTurn.map((record) => record.id).sort()).toEqual([...run.ids].sort());
    const history = await m.history(run.ids[0]!, { userId: user });
    expect(history.map((entry) => entry.event)).toEqual(["ADD"]);
    // The resumed run did not answer the crashed turn again.
    expect(model.calls.length).toBe(next === null ? 0 : 1);
  });
});
