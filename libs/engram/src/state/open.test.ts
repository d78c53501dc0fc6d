import { describe, expect, it } from "@jest/globals";
import { isEngramError } from "../core/errors.js";
import { openState, stateFromUrl } from "./open.js";
import { PostgresState } from "./postgres/index.js";
import { SqliteState } from "./sqlite/index.js";

describe("openState", () => {
  it("{ postgres } is a PostgresState the opener owns, constructed without connecting", async () => {
    // Port 1 answers nothing: constructing must not try.
    const { state, owned } = openState({ postgres: "postgres://engram@127.0.0.1:1/engram", schema: "tenant_a" }, { dataDir: "/nonexistent" });
    expect(state).toBeInstanceOf(PostgresState);
    expect(state.kind).toBe("postgres");
    expect((state as PostgresState).schema).toBe("tenant_a");
    expect(owned).toBe(true);
    await state.close();
  });

  it("a CLI url picks the backend: postgres:// is PostgreSQL, a path is SQLite", () => {
    expect(openState(stateFromUrl("postgresql://h/db"), { dataDir: "/tmp/x" }).state).toBeInstanceOf(PostgresState);
    expect(openState(stateFromUrl("/tmp/folder"), { dataDir: "/tmp/x" }).state).toBeInstanceOf(SqliteState);
  });

  it("refuses a bad PostgreSQL option with INVALID_OPTIONS, before any connection", () => {
    for (const option of [{ postgres: "mysql://h/db" }, { postgres: "postgres://h/db", schema: "bad name" }, { postgres: 7 }]) {
      let caught: unknown;
      try {
        openState(option as never, { dataDir: "/tmp/x" });
      } catch (error) {
        caught = error;
      }
      expect(isEngramError(caught, "INVALID_OPTIONS")).toBe(true);
    }
  });
});
