/**
 * `engram/working`: working memory without a graph: the window over a conversation (turns or a
 * token budget, a tool call never split from its result), token counting, and the running summary
 * of what leaves the window. The graph, the middleware and the drop-ins use the same functions.
 */
export { selectWindow, DEFAULT_WINDOW_TURNS, type WindowOptions, type WindowResult } from "../working/window.js";
export { countTokens, MESSAGE_OVERHEAD_TOKENS } from "../working/tokens.js";
export { summarize, DEFAULT_SUMMARY_MAX_TOKENS, SUMMARY_PROMPT, type SummarizeInput } from "../consolidation/summarize.js";
