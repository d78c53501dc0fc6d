import type { ScoredMemory } from "../../core/types.js";
import type { CoreBlock } from "../../memory/blocks.js";

/**
 * What the memory tools answer: short plain text a model reads well. Dates are days (what a
 * conversation needs), scores two decimals, each memory one line.
 */

export function formatBlockEdit(verb: "Appended to" | "Replaced text in", block: CoreBlock): string {
  return `${verb} core block "${block.name}" (${block.value.length}/${block.limit} characters used).`;
}

export interface ResultPage {
  /** "archival memory", "past conversations"... */
  what: string;
  query: string;
  /** 0-based page number. */
  page: number;
  pageSize: number;
  /** The page's memories, best first. */
  memories: readonly ScoredMemory[];
  /** True when a further page may hold more. */
  more: boolean;
}

export function formatResults(result: ResultPage): string {
  const { what, query, page, pageSize, memories } = result;
  if (memories.length === 0) {
    return page === 0 ? `Nothing in ${what} matches ${JSON.stringify(query)}.` : `No more results in ${what} (page ${page}).`;
  }
  const first = page * pageSize + 1;
  const header = `${capitalize(what)}, results ${first}-${first + memories.length - 1} for ${JSON.stringify(query)}:`;
  const lines = memories.map((memory, i) => `${first + i}. ${label(memory)} ${oneLine(memory.content)} (score ${memory.score.toFixed(2)})`);
  const footer = result.more ? [`More may be on page ${page + 1}.`] : [];
  return [header, ...lines, ...footer].join("\n");
}

/** `[2024-05-01, fact]`, `[2024-05-01, thread chat-1, user]`. */
function label(memory: ScoredMemory): string {
  const parts = [new Date(memory.createdAt).toISOString().slice(0, 10)];
  if (memory.kind === "episode") {
    const thread = memory.source.threadId ?? memory.scope.threadId;
    if (thread !== undefined) parts.push(`thread ${thread}`);
    parts.push(memory.role ?? "message");
  } else {
    parts.push(memory.kind);
  }
  return `[${parts.join(", ")}]`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
