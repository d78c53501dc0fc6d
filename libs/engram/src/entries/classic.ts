/**
 * `engram/classic`: Engram as the `memory` of a classic LangChain chain (`ConversationChain`,
 * `LLMChain`... from the optional peer `@langchain/classic`): a `BaseMemory`.
 */
export { EngramMemory } from "../adapters/base_memory/engram_memory.js";
export type { EngramMemoryOptions } from "../adapters/base_memory/options.js";
