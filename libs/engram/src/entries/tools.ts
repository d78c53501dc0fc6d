/**
 * `engram/tools`: memory tools an agent calls itself (MemGPT style: core blocks, archival insert
 * and search, conversation search), and the system-prompt section that shows the core blocks.
 */
export { createMemoryTools, coreMemoryPrompt, type MemoryToolsOptions, type CoreMemoryPromptOptions } from "../adapters/tools/index.js";
