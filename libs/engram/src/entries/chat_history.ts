/**
 * `engram/chat-history`: a `BaseListChatMessageHistory` that keeps a thread's messages and files them
 * into long-term memory, for `RunnableWithMessageHistory`.
 */
export { EngramChatMessageHistory, type EngramChatMessageHistoryOptions, type ChatHistoryMemory } from "../adapters/chat_history/index.js";
