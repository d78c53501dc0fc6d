import { HumanMessage } from "@langchain/core/messages";
import { isEngramError } from "../core/errors.js";

/** A run's config naming its user and thread, as a LangGraph app passes them. */
export function runConfig(userId: string, threadId: string) {
  return { configurable: { user_id: userId, thread_id: threadId } };
}

/** A turn's input: one human message. */
export function say(text: string) {
  return { messages: [new HumanMessage(text)] };
}

/** What a call ended with: "no error", the code of the EngramError it rejected with, or "other: ...". */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "no error",
    (error: unknown) => (isEngramError(error) ? error.code : `other: ${String(error)}`),
  );
}

/** `codeOf` for a call that throws rather than rejects: "no error", the EngramError's code, or "other: ...". */
export function codeOfSync(make: () => unknown): string {
  try {
    make();
    return "no error";
  } catch (error) {
    return isEngramError(error) ? error.code : `other: ${String(error)}`;
  }
}
