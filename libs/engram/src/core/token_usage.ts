/**
 * Tokens one model call used, as LangChain reports them (`AIMessage.usage_metadata`). Engram's own
 * model calls (fact extraction, reconciliation, summaries, LLM importance) report theirs through a
 * {@link UsageHook}, so `memory.usage()` can say what memory adds to a bill.
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** False when the model's reply carried no usage metadata (the call is counted, its tokens are not known). */
  reported: boolean;
}

/** Receives the usage of each model call made on Engram's behalf. Must not throw. */
export type UsageHook = (usage: TokenUsage) => void;

/** The usage of a model reply, read from LangChain's `usage_metadata` (absent: zeros, `reported: false`). */
export function tokenUsageOf(reply: unknown): TokenUsage {
  const meta = reply !== null && typeof reply === "object" ? (reply as { usage_metadata?: unknown }).usage_metadata : undefined;
  if (meta === null || typeof meta !== "object") return { inputTokens: 0, outputTokens: 0, totalTokens: 0, reported: false };
  const count = (key: string): number => {
    const value = (meta as Record<string, unknown>)[key];
    return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
  };
  const inputTokens = count("input_tokens");
  const outputTokens = count("output_tokens");
  // Some providers leave total_tokens out; it is the sum when they do.
  const totalTokens = count("total_tokens") || inputTokens + outputTokens;
  return { inputTokens, outputTokens, totalTokens, reported: true };
}

/** Calls `hook` with the reply's usage; a hook that throws never breaks the model call it reports on. */
export function reportUsage(hook: UsageHook | undefined, reply: unknown): void {
  if (!hook) return;
  try {
    hook(tokenUsageOf(reply));
  } catch {
    // Accounting is best effort: the memory operation it describes has already succeeded.
  }
}
