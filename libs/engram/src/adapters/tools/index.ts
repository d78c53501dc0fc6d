export { createMemoryTools, type MemoryToolsOptions } from "./memory_tools.js";
export { coreMemoryPrompt, type CoreMemoryPromptOptions } from "./prompt.js";
