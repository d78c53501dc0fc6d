export { EngramChatMessageHistory } from "./history.js";
export type { EngramChatMessageHistoryOptions, ChatHistoryMemory } from "./options.js";
