import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { killChroma, startTestChroma, type TestChroma } from "../tests/chroma.js";
import { mountSmallDisk, type SmallDisk } from "../tests/small_disk.js";
import { Memory } from "./memory.js";

/*
 * Errors met on a full disk say so. SQLite's own words are "database or disk is full", and Chroma
 * exits during start with only its banner: a deleteAll failed with "revisions.bump failed:
 * database or disk is full", and a local Chroma that died and could not start again on the full
 * disk gave CHROMA_EXITED with the banner, neither naming the disk nor the room left. The disk
 * here is a real tmpfs filled to the last byte.
 */

jest.setTimeout(180_000);

const embeddings = new StaticEmbeddings();
const alice = { userId: "alice" };
const fullDisk = /The disk holding \S+ is full \(\d+ bytes free\)/;
let chroma: TestChroma;
let disk: SmallDisk;
const open: Memory[] = [];

beforeAll(async () => {
  chroma = await startTestChroma();
  disk = await mountSmallDisk(48);
});

afterEach(async () => {
  disk.empty();
  await Promise.all(open.splice(0).map((memory) => memory.close()));
});

afterAll(async () => {
  await disk?.unmount();
  await chroma?.stop();
});

async function errorOf(promise: Promise<unknown>): Promise<EngramError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EngramError);
  return error as EngramError;
}

describe("errors on a full disk", () => {
  it("a state write (deleteAll) says the disk holding the data folder is full, with the bytes free", async () => {
    const memory = new Memory({ dataDir: join(disk.dir, "state"), embeddings, writes: "sync", chroma: { url: chroma.server.url } });
    open.push(memory);
    await memory.add("I live in Lisbon.", alice);
    disk.fill();
    const error = await errorOf(memory.deleteAll(alice));
    expect(error.code).toBe("OUTBOX_ERROR");
    expect(error.message).toMatch(fullDisk);
    expect(error.details?.["freeBytes"]).toBe(disk.freeBytes());
    disk.empty();
    // Nothing was erased: the refusal came before any change.
    expect((await memory.getAll(alice)).map((record) => record.content)).toEqual(["I live in Lisbon."]);
  });

  it("a local Chroma that dies and cannot start again on the full disk: CHROMA_EXITED says the disk is full", async () => {
    const dataDir = join(disk.dir, "restart");
    const memory = new Memory({ dataDir, embeddings, writes: "sync", chroma: { maxRestarts: 1 } });
    open.push(memory);
    await memory.add("I live in Lisbon.", alice);
    disk.fill();
    killChroma(join(dataDir, "chroma"));
    const error = await errorOf(memory.getAll(alice));
    expect(error.code).toBe("CHROMA_EXITED");
    expect(error.message).toMatch(fullDisk);
    expect(error.message).not.toContain("\u001b[");
  });

  it("a folder reopened on the full disk: the error says the disk is full, without terminal escapes", async () => {
    const dataDir = join(disk.dir, "reopened");
    const first = new Memory({ dataDir, embeddings, writes: "sync" });
    await first.add("I live in Lisbon.", alice);
    await first.close();
    disk.fill();
    const memory = new Memory({ dataDir, embeddings, chroma: { maxRestarts: 0 } });
    open.push(memory);
    // The state (SQLite) or Chroma, whichever meets the full disk first.
    const error = await errorOf(memory.getAll(alice));
    expect(["OUTBOX_ERROR", "CHROMA_EXITED"]).toContain(error.code);
    expect(error.message).toMatch(fullDisk);
    expect(error.message).not.toContain("\u001b[");
  });

  it("a new folder made on the full disk: the error says the disk is full", async () => {
    disk.fill();
    const memory = new Memory({ dataDir: join(disk.dir, "fresh"), embeddings, chroma: { maxRestarts: 0 } });
    open.push(memory);
    const error = await errorOf(memory.getAll(alice));
    expect(error.code).toBe("OUTBOX_ERROR");
    expect(error.message).toMatch(fullDisk);
  });
});
