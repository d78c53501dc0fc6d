import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseFile, openDatabase } from "./database.js";
import { SqliteState } from "./index.js";

/*
 * A write lease whose row cannot be removed when its write is over: the state refuses writes for a
 * while (found with a full disk: SQLITE_FULL; here another connection holds the file's write lock
 * past the busy timeout, SQLITE_BUSY, the same refusal without root). The release used to throw,
 * turning the applied store write into a failed one, and left the row: every instance's deleteAll
 * of the user then waited out the lease (a minute) once the state took writes again.
 */

let dir: string;
let state: SqliteState;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-leases-"));
  state = new SqliteState({ path: dir });
  await state.setup();
});

afterEach(async () => {
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

describe("SqliteLeases when the state refuses to remove a lease", () => {
  it("release does not fail, and the lease is gone (settled does not wait for it) once the state takes writes again", async () => {
    await state.outbox<{ id: string }>().enqueue([{ userId: "alice", key: "upsert:a1", payload: { id: "a1" } }]);
    const lease = await state.leases.take("alice", ["upsert:a1"]);
    expect(lease).toBeDefined();
    const other = openDatabase(databaseFile(dir));
    try {
      other.exec("BEGIN IMMEDIATE");
      await expect(state.leases.release(lease!)).resolves.toBeUndefined();
      other.exec("ROLLBACK");
      await state.leases.settled("alice");
      expect(other.prepare("SELECT id FROM write_leases").all()).toEqual([]);
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
    }
  });

  it("an exclusive lock whose row could not be removed is removed at the instance's next state call, so another instance does not wait it out", async () => {
    const other = openDatabase(databaseFile(dir));
    try {
      await state.leases.exclusive("alice", "drain", async () => {
        other.exec("BEGIN IMMEDIATE"); // the lock's removal after the section meets a refusing state
      });
      other.exec("ROLLBACK");
      expect(other.prepare("SELECT name FROM state_locks").all()).toEqual([{ name: "drain" }]);
      // Any later call of the instance that uses the state (here a lease on another user's write).
      await state.leases.take("bob", ["upsert:b1"]);
      expect(other.prepare("SELECT name FROM state_locks").all()).toEqual([]);
      // Taken again by the same instance, the lock is held and then removed as usual.
      await state.leases.exclusive("alice", "drain", async () => {
        expect(other.prepare("SELECT name FROM state_locks").all()).toEqual([{ name: "drain" }]);
      });
      expect(other.prepare("SELECT name FROM state_locks").all()).toEqual([]);
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
    }
  });

  it("a lock row left that way is removed when the state is closed, the last chance of its instance", async () => {
    const other = openDatabase(databaseFile(dir));
    try {
      await state.leases.exclusive("alice", "drain", async () => {
        other.exec("BEGIN IMMEDIATE");
      });
      other.exec("ROLLBACK");
      expect(other.prepare("SELECT name FROM state_locks").all()).toEqual([{ name: "drain" }]);
      await state.close();
      expect(other.prepare("SELECT name FROM state_locks").all()).toEqual([]);
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
    }
  });
});
