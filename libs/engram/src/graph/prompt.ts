// The prompt is the turn core's (turn/prompt.ts); kept so imports of graph/prompt.js keep working.
export { buildSystemPrompt, DEFAULT_SYSTEM_PROMPT, type SystemPromptParts } from "../turn/prompt.js";
