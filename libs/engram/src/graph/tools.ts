/**
 * The tool step of `createMemoryGraph`: which tools it takes, and where a model reply goes.
 */
import { isAIMessage, type AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ToolNode } from "@langchain/langgraph/prebuilt";
import { describeValue } from "../core/describe.js";
import { EngramError } from "../core/errors.js";

/** A tool `createMemoryGraph` can run: what LangGraph's `ToolNode` takes. */
export type GraphTool = ConstructorParameters<typeof ToolNode>[0][number];

/** The `tools` option, checked: a list of tools, each with a name and an invoke. */
export function checkTools(tools: unknown): GraphTool[] {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) throw new EngramError("INVALID_OPTIONS", `tools must be an array of tools, got ${describeValue(tools)}.`);
  tools.forEach((tool: unknown, i) => {
    const { name, invoke } = (tool ?? {}) as { name?: unknown; invoke?: unknown };
    if (typeof name !== "string" || name === "" || typeof invoke !== "function") {
      throw new EngramError("INVALID_OPTIONS", `tools[${i}] must be a tool (a name and an invoke), got ${describeValue(tool)}.`);
    }
  });
  return tools as GraphTool[];
}

/** The edge after the model: to the tools when its reply calls some, else on to scoring. */
export function afterModel(state: { messages: BaseMessage[] }): "tools" | "score" {
  return toolCallsOf(state.messages.at(-1)).length > 0 ? "tools" : "score";
}

/**
 * For a graph without tools: a reply that calls tools is refused before it is in the thread (the
 * node fails, so its write is not kept). No tool would answer it, and providers refuse a
 * conversation with an unanswered tool call: every later turn of the thread failed.
 */
export function refuseToolCalls(written: unknown): void {
  const replies = Array.isArray(written) ? (written as unknown[]) : [written];
  const calls = replies.flatMap((reply) => toolCallsOf(reply));
  if (calls.length === 0) return;
  throw new EngramError(
    "INVALID_OPTIONS",
    `The model called ${calls.map((call) => call.name).join(", ")}, but createMemoryGraph was given no tools: pass them as createMemoryGraph({ tools }), or use engramMiddleware in createAgent.`,
    { details: { tools: calls.map((call) => call.name) } },
  );
}

function toolCallsOf(message: unknown): { name: string }[] {
  if (message === null || typeof message !== "object" || !isAIMessage(message as BaseMessage)) return [];
  return (message as AIMessage).tool_calls ?? [];
}
