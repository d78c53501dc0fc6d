import { describe, expect, it } from "@jest/globals";
import { isEngramError, type EngramErrorCode } from "../../core/errors.js";
import { runUser, type RuntimeLike } from "./run_user.js";

function code(runtime: RuntimeLike | undefined): EngramErrorCode | "ok" {
  try {
    runUser(runtime);
    return "ok";
  } catch (error) {
    if (isEngramError(error)) return error.code;
    throw error;
  }
}

describe("runUser: the user and thread of an agent run", () => {
  it("takes the user from config.configurable.user_id or context.userId, and the thread from thread_id", () => {
    expect(runUser({ configurable: { user_id: "alice", thread_id: "t1" } })).toEqual({ userId: "alice", threadId: "t1" });
    expect(runUser({ configurable: { thread_id: 7 }, context: { userId: "bob" } })).toEqual({ userId: "bob", threadId: "7" });
    expect(runUser({ configurable: { user_id: "carol" }, context: { userId: "carol" } })).toEqual({ userId: "carol" });
  });

  it("refuses a run without a user, with two different users, or with an operator for a user", () => {
    expect(code(undefined)).toBe("INVALID_USER_ID");
    expect(code({ configurable: { thread_id: "t1" }, context: {} })).toBe("INVALID_USER_ID");
    expect(code({ configurable: { user_id: "" } })).toBe("INVALID_USER_ID");
    expect(code({ configurable: { user_id: "alice" }, context: { userId: "bob" } })).toBe("INVALID_SCOPE");
    expect(code({ configurable: { user_id: { $ne: "x" } } })).toBe("INVALID_USER_ID");
  });

  it("says where to put the user", () => {
    expect(() => runUser({})).toThrow(/configurable: \{ user_id: "alice"[\s\S]*context: \{ userId: "alice" \}/);
  });
});
