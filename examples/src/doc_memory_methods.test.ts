/**
 * docs/memory.md's methods table names the options each `Memory` method takes: the option names
 * in a row's signature (`add(text | messages, { userId, agentId?, ... })`) are exactly the names
 * the method accepts, which it lists when it refuses one it does not know (`INVALID_OPTIONS`,
 * before any I/O: no data folder is made). A method that gained an option the table does not show
 * (forget's and getAll's `agentId` and `threadId` were missing) fails here.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EngramError, Memory } from "engram";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const doc = readFileSync(join(ROOT, "docs", "memory.md"), "utf8");

/** The names in the first `{ ... }` holding `key` of the table row whose signature starts with `call(`. */
function documented(call: string, key: string): string[] {
  const row = doc.split("\n").find((line) => line.startsWith(`| \`${call}(`));
  expect(row).toBeDefined();
  const objects = [...row!.matchAll(/\{ ([^{}]*) \}/g)].map((match) => match[1]!);
  const object = objects.find((names) => names.split(",").some((name) => name.trim().replace(/\?$/, "") === key));
  expect(object).toBeDefined();
  return object!
    .split(",")
    .map((part) => part.trim().replace(/\?$/, "").replace(/\s*=.*$/, ""))
    .filter((name) => name !== "...")
    .sort();
}

/** The names a call accepts, from its refusal of an unknown one. */
async function accepted(call: () => Promise<unknown>): Promise<string[]> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngramError);
  expect((error as EngramError).code).toBe("INVALID_OPTIONS");
  const list = /the keys are (.*?)\.?$/.exec((error as Error).message)?.[1];
  expect(list).toBeDefined();
  return list!.split(",").map((name) => name.trim()).sort();
}

const dir = await mkdtemp(join(tmpdir(), "engram-doc-methods-"));
const dataDir = join(dir, "data");
const memory = new Memory({ dataDir });
const user = { userId: "alice" };
const odd = { notAnOption: 1 };

afterAll(async () => {
  await memory.close();
  await rm(dir, { recursive: true, force: true });
});

describe("docs/memory.md's methods table", () => {
  it.each([
    ["add", "userId", () => memory.add("I like tea", { ...user, ...odd } as never)],
    ["addMany", "userId", () => memory.addMany([{ content: "I like tea" }], { ...user, ...odd } as never)],
    ["addMany", "role", () => memory.addMany([{ content: "I like tea", ...odd } as never], user)],
    ["search", "userId", () => memory.search("tea", { ...user, ...odd } as never)],
    ["getAll", "userId", () => memory.getAll({ ...user, ...odd } as never)],
    ["forget", "userId", () => memory.forget({ ...user, ...odd } as never)],
    ["update", "importance", () => memory.update("id-1", { ...odd } as never, user)],
  ] as const)("%s, the object with %s: the names shown are the names taken", async (name, key, call) => {
    expect(documented(name, key)).toEqual(await accepted(call));
  });

  it("a refused call made no data folder", () => {
    expect(existsSync(dataDir)).toBe(false);
  });
});
