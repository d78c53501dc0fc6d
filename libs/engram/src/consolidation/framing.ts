/**
 * Text put inside a prompt's delimited block (a transcript, a summary) as data. A message is one
 * `role: text` line of the block, and the block ends at its closing delimiter: text that held a
 * line break followed by "assistant: ..." or "user: ...", or the delimiter itself, could forge
 * another speaker's line or end the block early and speak as the instructions after it (a prompt
 * injection through the conversation, into every later prompt once it is a stored fact). The
 * message's own further lines are indented, and the delimiters it holds are broken up, so neither
 * can be taken for the prompt's own.
 */

/** The transcript's delimiters, `<conversation>` and `</conversation>`, however spaced or cased. */
const TAG = /<\s*(\/?)\s*conversation\s*>/gi;
/** The summary prompt's, `<<<` and `>>>` (any longer run holds them). */
const RUN = /<{3,}|>{3,}/g;

/** `text` as the body of one line of a delimited block (see the module's comment). */
export function quotedLine(text: string): string {
  // Tags first: spacing out a run of "<" never makes a tag, while "<<<conversation>" holds one.
  return text
    .replace(TAG, (_found: string, slash: string) => `&lt;${slash}conversation&gt;`)
    .replace(RUN, (found: string) => found.split("").join(" "))
    .replace(/\r\n?|\n|\u2028|\u2029/g, "\n  ");
}
