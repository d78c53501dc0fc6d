import { describe, expect, it } from "@jest/globals";
import { isEngramError, type EngramErrorCode } from "../core/errors.js";
import { runNamesUser, scopeFromRun, type RunLike } from "./scope.js";

const runUser = (run: RunLike | undefined) => scopeFromRun(run, "engramMiddleware");

function code(runtime: RunLike | undefined): EngramErrorCode | "ok" {
  try {
    runUser(runtime);
    return "ok";
  } catch (error) {
    if (isEngramError(error)) return error.code;
    throw error;
  }
}

describe("scopeFromRun: the user and thread of a run, for every door", () => {
  it("takes the user from config.configurable.user_id or context.userId, and the thread from thread_id", () => {
    expect(runUser({ configurable: { user_id: "alice", thread_id: "t1" } })).toEqual({ userId: "alice", threadId: "t1" });
    expect(runUser({ configurable: { thread_id: 7 }, context: { userId: "bob" } })).toEqual({ userId: "bob", threadId: "7" });
    expect(runUser({ configurable: { user_id: "carol" }, context: { userId: "carol" } })).toEqual({ userId: "carol" });
    // LangGraph's run context spells it user_id too.
    expect(runUser({ configurable: { thread_id: "t2" }, context: { user_id: "dan" } })).toEqual({ userId: "dan", threadId: "t2" });
  });

  it("tells a door whether a run names a user at all (an empty id still counts, and is refused)", () => {
    expect(runNamesUser({ configurable: { thread_id: "t" } })).toBe(false);
    expect(runNamesUser({ configurable: { user_id: null } })).toBe(false);
    expect(runNamesUser({ configurable: { user_id: "" } })).toBe(true);
    expect(runNamesUser({ context: { userId: "a" } })).toBe(true);
  });

  it("refuses a run without a user, with two different users, or with an operator for a user", () => {
    expect(code(undefined)).toBe("INVALID_USER_ID");
    expect(code({ configurable: { thread_id: "t1" }, context: {} })).toBe("INVALID_USER_ID");
    expect(code({ configurable: { user_id: "" } })).toBe("INVALID_USER_ID");
    expect(code({ configurable: { user_id: "alice" }, context: { userId: "bob" } })).toBe("INVALID_SCOPE");
    expect(code({ configurable: { user_id: { $ne: "x" } } })).toBe("INVALID_USER_ID");
    expect(code({ context: { user_id: "alice", userId: "bob" } })).toBe("INVALID_SCOPE");
    expect(code({ configurable: { user_id: "alice", thread_id: { $gt: "" } } })).toBe("INVALID_SCOPE");
  });

  it("says where to put the user", () => {
    expect(() => runUser({})).toThrow(/^engramMiddleware: .*configurable: \{ user_id: "alice"[\s\S]*context: \{ userId: "alice" \}/);
  });
});
