import { SUMMARY_HEADING } from "../turn/engram_context.js";

/** The running summary section of a system prompt (up to the next blank line), "" when there is none. */
export function summarySection(system: string): string {
  const start = system.indexOf(`${SUMMARY_HEADING}\n`);
  if (start < 0) return "";
  const rest = system.slice(start + SUMMARY_HEADING.length + 1);
  const end = rest.indexOf("\n\n");
  return end < 0 ? rest : rest.slice(0, end);
}
