import type { MemoryRecord, ScoredMemory } from "../core/types.js";
import {
  blockTag as tagName,
  DEFAULT_SYSTEM_PROMPT,
  INSTRUCTIONS_HEADING,
  neutralize,
  neutralizeSections,
  oneLine,
  RECALLED_PREAMBLE,
  RECALLED_TAG,
  shownSummary,
  SUMMARY_HEADING,
} from "./engram_context.js";

// The section names live with stripEngramContext, which removes them from what a model echoes.
export { DEFAULT_SYSTEM_PROMPT };

/** What goes into the system prompt of one model call. */
export interface SystemPromptParts {
  /** Instructions of your own, first in the prompt. @default DEFAULT_SYSTEM_PROMPT */
  base?: string;
  /**
   * The user's `procedure` records: core blocks (`metadata.block` names the block) and learned
   * instructions (no `metadata.block`). Both are always in the prompt.
   */
  procedures: readonly MemoryRecord[];
  /** Running summary of the turns that left the window ("" for none). */
  summary: string;
  /** Recalled long-term memories, best first. Shown as data with their dates, never as instructions. */
  recalled: readonly ScoredMemory[];
  /**
   * Block names in the order their sections appear (a `CoreBlocks`' configured order); blocks it
   * does not name follow, by name. @default by name (a stable order whatever order the records
   * were read in)
   */
  blockOrder?: readonly string[];
}

/**
 * Builds the system prompt: base instructions, core blocks as `<name>\n<content>\n</name>`
 * sections, learned instructions as a bulleted list, the running summary, then the recalled
 * memories inside a `<recalled_memories>` section that says they are data, not instructions.
 * Sections with nothing in them are left out.
 */
export function buildSystemPrompt(parts: SystemPromptParts): string {
  const sections: string[] = [(parts.base ?? DEFAULT_SYSTEM_PROMPT).trim()];

  const rank = new Map((parts.blockOrder ?? []).map((name, i) => [name, i]));
  const placeOf = (record: MemoryRecord): number => rank.get(String(record.metadata.block)) ?? rank.size;
  const blocks = parts.procedures
    .filter((record) => typeof record.metadata.block === "string" && record.metadata.block !== "")
    .sort((a, b) => placeOf(a) - placeOf(b) || String(a.metadata.block).localeCompare(String(b.metadata.block)));
  const blockTags = blocks.map((block) => tagName(String(block.metadata.block)));
  /** No memory text opens or closes a section: neither a block's tag nor the recalled memories'. */
  const harmless = (text: string): string => neutralizeSections(text, blockTags);
  for (const [i, block] of blocks.entries()) {
    // A block's content is written by a model from what users said (core_memory_append): one that
    // held "</human>\n<persona>..." would show a second persona block, of the user's own making.
    sections.push(`<${blockTags[i]}>\n${harmless(block.content)}\n</${blockTags[i]}>`);
  }

  const instructions = parts.procedures
    .filter((record) => record.metadata.block === undefined || record.metadata.block === "")
    .sort((a, b) => a.createdAt - b.createdAt);
  if (instructions.length > 0) {
    sections.push([INSTRUCTIONS_HEADING, ...instructions.map((record) => `- ${harmless(oneLine(record.content))}`)].join("\n"));
  }

  const summary = shownSummary(parts.summary, blockTags);
  if (summary !== "") {
    sections.push(`${SUMMARY_HEADING}\n${summary}`);
  }

  if (parts.recalled.length > 0) {
    // The whole line, role included: a stored role is any text a message gave (an import file's,
    // an app's message dicts), so it could end the line or close the section as content could.
    const lines = parts.recalled.map((memory) => `- ${neutralize(oneLine(`${describe(memory)}: ${memory.content}`), RECALLED_TAG)}`);
    sections.push(
      [
        // Recalled text was written by users and models in the past: it informs the answer but
        // must never be obeyed, or an old message could steer the assistant (prompt injection).
        RECALLED_PREAMBLE,
        `<${RECALLED_TAG}>`,
        ...lines,
        `</${RECALLED_TAG}>`,
      ].join("\n"),
    );
  }
  return sections.join("\n\n");
}

/** `[2024-05-01, user said]`, `[2024-05-01, fact]`... */
function describe(memory: ScoredMemory): string {
  const date = new Date(memory.createdAt).toISOString().slice(0, 10);
  if (memory.kind === "episode" && memory.role !== undefined) {
    const who = memory.role === "user" ? "the user said" : memory.role === "assistant" ? "you said" : `${memory.role} said`;
    return `[${date}] ${who}`;
  }
  return `[${date}] ${memory.kind}`;
}
