import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@langchain/langgraph-sdk";
import { SCRIPTED_PREFIX } from "./scripted_model.js";

/**
 * The LangGraph dev server (the API behind LangGraph Studio) started on the repository's
 * langgraph.json, driven through @langchain/langgraph-sdk. Its state goes to a temporary folder:
 * the config is copied there with its graph paths rewritten, and ENGRAM_DATA_DIR points the examples'
 * Memory (and the Chroma server it starts) there too.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const cli = join(repoRoot, "node_modules/@langchain/langgraph-cli/dist/cli/cli.mjs");

let dir: string;
let server: ChildProcess;
let client: Client;
let output = "";

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

async function waitUntilUp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`The dev server exited (${server.exitCode}):\n${output}`);
    const ok = await fetch(`${url}/ok`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`The dev server did not answer within ${timeoutMs} ms:\n${output}`);
}

/** Pids of live processes whose command line mentions `needle` (the temp folder: Chroma, its supervisor). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => "");
    if (cmdline.includes(needle) || cwd.startsWith(needle)) pids.push(Number(entry));
  }
  return pids.filter((pid) => pid !== process.pid);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-studio-"));
  const config = JSON.parse(await readFile(join(repoRoot, "langgraph.json"), "utf8")) as { graphs: Record<string, string> };
  // Relative to the copy (the server joins these paths to its folder, so absolute ones break).
  for (const [id, spec] of Object.entries(config.graphs)) config.graphs[id] = relative(dir, resolve(repoRoot, spec));
  await writeFile(join(dir, "langgraph.json"), JSON.stringify(config));
  const port = await freePort();
  server = spawn(
    process.execPath,
    [cli, "dev", "--config", join(dir, "langgraph.json"), "--host", "127.0.0.1", "--port", String(port), "--no-browser", "--no-reload"],
    {
      cwd: dir,
      // Its own process group, so afterAll stops the CLI, the API server and Chroma together.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        LANGGRAPH_CLI_NO_ANALYTICS: "1",
        LANGSMITH_TRACING: "false",
        ENGRAM_DATA_DIR: join(dir, "data"),
        // The scripted model, whatever the developer's shell has configured.
        OPENAI_API_KEY: "",
        ENGRAM_MODEL: "",
      },
    },
  );
  server.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  server.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  // The dev server compiles both graphs before it answers: tens of seconds on a loaded machine.
  await waitUntilUp(url, 400_000);
  client = new Client({ apiUrl: url });
}, 480_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((done) => server.once("exit", done));
    process.kill(-server.pid, "SIGINT");
    const timer = setTimeout(() => {
      try {
        process.kill(-server.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, 30_000);
    await exited;
    clearTimeout(timer);
  }
  if (dir !== undefined) {
    // Chroma stops within a few seconds of its parent going away (longer on a loaded machine);
    // then nothing may be left.
    const deadline = Date.now() + 120_000;
    let left = await processesMentioning(dir);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      left = await processesMentioning(dir);
    }
    for (const pid of left) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
    expect(left).toEqual([]);
  }
}, 240_000);

type AgentValues = {
  messages: Array<{ type: string; content: string }>;
  recalled: Array<{ content: string; scope: { userId: string } }>;
  summary: string;
};

describe("LangGraph dev server on langgraph.json", () => {
  it("lists both example graphs, with the state schemas Studio draws its forms from", async () => {
    const assistants = await client.assistants.search({ limit: 10 });
    expect(assistants.map((a) => a.graph_id).sort()).toEqual(["consolidation", "memory_agent"]);
    for (const assistant of assistants) {
      const schemas = await client.assistants.getSchemas(assistant.assistant_id);
      const input = schemas.input_schema as { properties: Record<string, { langgraph_type?: string }> };
      expect(input.properties.messages?.langgraph_type).toBe("messages");
      expect(Object.keys((schemas.state_schema as { properties: object }).properties)).toEqual(
        expect.arrayContaining(["messages", "summary", "recalled", "procedures", "importance"]),
      );
    }
  });

  it("memory_agent: a second thread of the same user recalls the first; another user's does not; state read back", async () => {
    const alice = { configurable: { user_id: "alice" } };
    const first = await client.threads.create();
    await client.runs.wait(first.thread_id, "memory_agent", {
      input: { messages: [{ role: "user", content: "Please remember this: my sister Maya's birthday is on March 14th." }] },
      config: alice,
    });

    const second = await client.threads.create();
    await client.runs.wait(second.thread_id, "memory_agent", {
      input: { messages: [{ role: "user", content: "When is my sister's birthday?" }] },
      config: alice,
    });
    const state = await client.threads.getState<AgentValues>(second.thread_id);
    const reply = state.values.messages.at(-1)!;
    expect(reply.type).toBe("ai");
    expect(reply.content.startsWith(SCRIPTED_PREFIX)).toBe(true);
    expect(reply.content).toContain("March 14th");
    expect(state.values.recalled.some((m) => m.content.includes("March 14th") && m.scope.userId === "alice")).toBe(true);
    // The second thread holds only its own turn: the fact came from long-term memory.
    expect(state.values.messages.filter((m) => m.type === "human").map((m) => m.content)).toEqual(["When is my sister's birthday?"]);

    const bobs = await client.threads.create();
    await client.runs.wait(bobs.thread_id, "memory_agent", {
      input: { messages: [{ role: "user", content: "When is my sister's birthday?" }] },
      config: { configurable: { user_id: "bob" } },
    });
    const bob = await client.threads.getState<AgentValues>(bobs.thread_id);
    expect(bob.values.recalled).toEqual([]);
    expect(bob.values.messages.at(-1)!.content).not.toContain("March 14th");
  });

  it("memory_agent: 30 turns of one thread all answer, and what it recalls is never its own echoed prompt", async () => {
    const thread = await client.threads.create();
    const config = { configurable: { user_id: "dana" } };
    const topics = ["my garden", "my bike", "my sister Maya", "jazz records", "my job at the library", "Lisbon"];
    let recalledTurns = 0;
    for (let turn = 1; turn <= 30; turn++) {
      const said = `Turn ${turn}: let me tell you more about ${topics[turn % topics.length]}, it matters to me.`;
      const values = (await client.runs.wait(thread.thread_id, "memory_agent", { input: { messages: [{ role: "user", content: said }] }, config })) as AgentValues;
      // A failed run returns no state: each of the 30 turns must end with the model's reply to it.
      const reply = values.messages?.at(-1);
      expect(reply?.type).toBe("ai");
      expect(reply?.content).toContain(said);
      // The scripted model echoes what was recalled; stored back, that would grow every turn.
      if (values.recalled.length > 0) recalledTurns += 1;
      for (const memory of values.recalled) {
        expect(memory.content).not.toContain("I recall:\n- ");
        expect(memory.content.length).toBeLessThan(2_000);
      }
    }
    expect(recalledTurns).toBeGreaterThan(20);
    const state = await client.threads.getState<AgentValues>(thread.thread_id);
    expect(state.values.summary).not.toBe("");
    expect(state.values.summary).not.toContain("the user said:");
  }, 900_000);

  it("consolidation: folds a pasted conversation beyond the window into a stored summary and reports the inventory", async () => {
    const thread = await client.threads.create();
    const turns = [
      "I grew up in Porto and moved to Lyon in 2019.",
      "Nice!",
      "My partner Ines works as an architect.",
      "Cool.",
      "We are planning a trip to Japan next April.",
      "Sounds fun.",
      "Any tips for Kyoto?",
      "Visit early in the morning.",
    ];
    const messages = turns.map((content, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content }));
    await client.runs.wait(thread.thread_id, "consolidation", { input: { messages }, config: { configurable: { user_id: "carol" } } });
    const state = await client.threads.getState<AgentValues & { inventory: Record<string, number> }>(thread.thread_id);
    expect(state.values.messages).toHaveLength(4);
    expect(state.values.summary).toContain("Porto");
    expect(state.values.inventory.summary).toBe(1);
  });
});
