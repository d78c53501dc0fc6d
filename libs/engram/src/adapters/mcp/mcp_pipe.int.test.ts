import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";

/** The real `engram` CLI, from source (tsx), so the test needs no build. */
const MAIN = fileURLToPath(new URL("../../cli/main.ts", import.meta.url));

let chroma: TestChroma;
const children: ChildProcess[] = [];

beforeAll(async () => {
  chroma = await startTestChroma();
});

afterAll(async () => {
  // A server that hung is stopped, so a failure leaves no process behind.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await chroma?.stop();
});

const INITIALIZE = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };
const callTool = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

interface Reply {
  id: number;
  result?: { isError?: boolean; content: Array<{ type: string; text: string }> };
  error?: { code: number; message: string };
}

function serverArgs(user: string): string[] {
  return ["--import", "tsx", MAIN, "mcp", "--user", user, "--data-dir", join(chroma.dir, "data"), "--chroma-url", chroma.server.url];
}

/**
 * `engram mcp` as a script drives it: every message written at once, then the end of input
 * (`printf ... | engram mcp`, or a client that sends its last call and closes the pipe).
 */
async function piped(user: string, messages: readonly object[]): Promise<{ code: number | null; replies: Reply[] }> {
  const server = spawn(process.execPath, serverArgs(user), { stdio: ["pipe", "pipe", "inherit"] });
  children.push(server);
  let out = "";
  server.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => server.on("close", (code) => resolve(code)));
  server.stdin.end(messages.map((message) => `${JSON.stringify(message)}\n`).join(""));
  const code = await exited;
  return { code, replies: out.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Reply) };
}

describe("engram mcp when its client closes the pipe right after its calls", () => {
  it("answers the calls it was sent (the memory is stored), then exits 0", async () => {
    // Before: end of input closed the server at once, aborting the call in flight: no answer, and
    // the memory was not stored.
    const added = await piped("gina", [INITIALIZE, INITIALIZED, callTool(2, "add_memory", { content: "Gina keeps bees on her roof." })]);
    expect(added.code).toBe(0);
    const reply = added.replies.find((one) => one.id === 2);
    expect(reply?.result?.isError).toBeUndefined();
    expect(JSON.parse(reply!.result!.content[0]!.text).added[0].content).toBe("Gina keeps bees on her roof.");

    const listed = await piped("gina", [INITIALIZE, INITIALIZED, callTool(2, "list_memories", {})]);
    expect(listed.code).toBe(0);
    const memories = JSON.parse(listed.replies.find((one) => one.id === 2)!.result!.content[0]!.text) as Array<{ content: string }>;
    expect(memories.map((memory) => memory.content)).toEqual(["Gina keeps bees on her roof."]);
  }, 300_000);

  it("exits when the client goes away (both pipes) with a call in flight", async () => {
    // The answer cannot be delivered: waiting for its write to drain held the process for ever.
    // The test's own limit is what catches that hang.
    const server = spawn(process.execPath, serverArgs("ivan"), { stdio: ["pipe", "pipe", "inherit"] });
    children.push(server);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => server.on("exit", (code, signal) => resolve({ code, signal })));
    server.stdout.once("data", () => {
      server.stdin.end([INITIALIZED, callTool(2, "add_memory", { content: "Ivan's client left mid-call." })].map((message) => `${JSON.stringify(message)}\n`).join(""));
      server.stdout.destroy();
    });
    server.stdin.write(`${JSON.stringify(INITIALIZE)}\n`);
    expect((await exited).signal).toBeNull();
  }, 300_000);

  it("does not wait for a call the client cancelled (it gets no answer)", async () => {
    const cancelled = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 2, reason: "changed my mind" } };
    const run = await piped("hugo", [INITIALIZE, INITIALIZED, callTool(2, "search_memory", { query: "bees" }), cancelled]);
    expect(run.code).toBe(0);
    expect(run.replies.map((one) => one.id)).toEqual([1]);
  }, 300_000);
});

describe("engram mcp and a message too large for any tool", () => {
  it("refuses that call alone and answers the next ones", async () => {
    // Over the SDK's 10 MiB stdio buffer. Before: its transport closed itself, ending the server,
    // and neither this call nor the next got an answer.
    const huge = callTool(2, "add_memory", { content: "z".repeat(11 * 1024 * 1024) });
    const run = await piped("jo", [INITIALIZE, INITIALIZED, huge, callTool(3, "add_memory", { content: "Jo sends sensible memories." })]);
    expect(run.code).toBe(0);
    expect(run.replies.find((one) => one.id === 2)?.error).toMatchObject({ code: -32600, message: expect.stringContaining("bytes") });
    expect(JSON.parse(run.replies.find((one) => one.id === 3)!.result!.content[0]!.text).added[0].content).toBe("Jo sends sensible memories.");
  }, 300_000);

  it("still stops on a signal while the client keeps its end open", async () => {
    // The test's own limit is what catches a server held open by its input.
    const server = spawn(process.execPath, serverArgs("kim"), { stdio: ["pipe", "pipe", "inherit"] });
    children.push(server);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => server.on("exit", (code, signal) => resolve({ code, signal })));
    server.stdout.once("data", () => server.kill("SIGTERM"));
    server.stdin.write(`${JSON.stringify(INITIALIZE)}\n`);
    expect(await exited).toEqual({ code: 0, signal: null });
    server.stdin.destroy();
  }, 300_000);
});
