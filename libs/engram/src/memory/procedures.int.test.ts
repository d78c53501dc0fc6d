import { beforeAll, expect, it } from "@jest/globals";
import { isEngramError } from "../core/errors.js";
import { deterministicId } from "../core/ids.js";
import { testMemories } from "../tests/memories.js";
import type { Memory } from "./memory.js";
import { Procedures } from "./procedures.js";

const memories = testMemories();
let memory: Memory;

beforeAll(() => {
  memory = memories.open("data");
});

it("learns, lists and retires instructions; core blocks and other users' instructions stay out", async () => {
  let now = 1_000;
  const m = memories.open("clocked", { prefix: "proc", clock: () => now });
  const procedures = new Procedures(m);
  const code = await procedures.learn("When the user asks for code, answer in TypeScript", { userId: "alice", threadId: "t1" });
  now = 2_000;
  const brief = await procedures.learn("Keep answers under five sentences", { userId: "alice" });
  // Learning the same words again keeps one record.
  await procedures.learn("Keep answers under five sentences", { userId: "alice" });
  await procedures.learn("Answer in French", { userId: "bob" });
  // A core block is a procedure record too, but not a learned instruction.
  await m.add("Name: Alice", { userId: "alice", kind: "procedure", id: deterministicId("block", "alice", "human"), metadata: { block: "human", limit: 2000 } });

  expect(code).toMatchObject({ kind: "procedure", scope: { userId: "alice" }, source: { threadId: "t1" } });
  expect((await procedures.list({ userId: "alice" })).map((r) => r.content)).toEqual([
    "When the user asks for code, answer in TypeScript",
    "Keep answers under five sentences",
  ]);
  expect((await procedures.list({ userId: "bob" })).map((r) => r.content)).toEqual(["Answer in French"]);

  await procedures.retire(brief.id, { userId: "alice" });
  expect((await procedures.list({ userId: "alice" })).map((r) => r.id)).toEqual([code.id]);
  expect((await m.history(brief.id, { userId: "alice" })).map((v) => v.event)).toEqual(["ADD", "DELETE"]);

  // Not retirable: another user's instruction, a core block, an unknown id.
  for (const [id, userId] of [[code.id, "bob"], [deterministicId("block", "alice", "human"), "alice"], ["nope", "alice"]] as const) {
    const error = await procedures.retire(id, { userId }).catch((e: unknown) => e);
    expect(isEngramError(error, "NOT_FOUND")).toBe(true);
  }
  expect(await procedures.list({ userId: "alice" })).toHaveLength(1);
  const blockError = await procedures.learn("x", { userId: "alice", metadata: { block: "persona" } }).catch((e: unknown) => e);
  expect(isEngramError(blockError, "INVALID_METADATA")).toBe(true);
});

it("refuses a bad scope before anything is written", async () => {
  const procedures = new Procedures(memory);
  const error = await procedures.learn("Be brief", { userId: "" }).catch((e: unknown) => e);
  expect(isEngramError(error, "INVALID_USER_ID")).toBe(true);
});

// An instruction belongs to the user and agent it was learned for, and list() narrows to the agent;
// retire() read the id at the user's level, so one agent could retire another agent's instruction.
it("retire with an agent retires only that agent's instructions", async () => {
  const procedures = new Procedures(memory);
  const travel = await procedures.learn("Always offer a window seat", { userId: "cleo", agentId: "travel" });
  const error = await procedures.retire(travel.id, { userId: "cleo", agentId: "cooking" }).catch((e: unknown) => e);
  expect(isEngramError(error, "NOT_FOUND")).toBe(true);
  expect((await procedures.list({ userId: "cleo", agentId: "travel" })).map((r) => r.id)).toEqual([travel.id]);
  // Without an agent, the user's call reaches every agent's instruction, as list() lists them all.
  await procedures.retire(travel.id, { userId: "cleo" });
  expect(await procedures.list({ userId: "cleo", agentId: "travel" })).toEqual([]);
});
