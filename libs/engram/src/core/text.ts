import { EngramError, type EngramErrorCode } from "./errors.js";
import { describeValue } from "./describe.js";

/**
 * Text safety: what every text passes before a driver (Chroma's JSON parser, SQLite, PostgreSQL,
 * the embedding model) sees it. Per class of bad text, one decision, the same at every door:
 *
 * | class | in content, queries, metadata values | in ids (user, agent, thread, record, metadata keys) |
 * |---|---|---|
 * | lone UTF-16 surrogate (an emoji cut in half) | repaired to U+FFFD, as `TextEncoder` does | refused |
 * | NUL, other C0 controls (not tab, LF, CR), DEL, C1 controls | removed | refused |
 * | bidi embedding/override/isolate without its closing mark (same line) | removed | refused (any bidi control) |
 * | only whitespace, zero-width and other invisible characters | refused as empty (`INVALID_CONTENT`) | refused as empty |
 * | valid but longer than `maxContentChars` | refused (`CONTENT_TOO_LARGE`) by `Memory.add`, split into linked parts by the doors (`oversize: "split"`) | refused past 256 characters |
 *
 * Why repair content and refuse ids: content is what a person or a model wrote, and a turn must
 * not fail because a reply was cut inside an emoji; an id names who or what, and repairing it
 * would let two different ids become one (two users whose ids differ only in a broken character
 * would share memories).
 */

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** C0 controls except tab, LF and CR; DEL; C1 controls. PostgreSQL refuses NUL in text outright. */
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** The same class, for a test without the global flag's `lastIndex` state. */
const HAS_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Any control or bidi control: one scan tells whether ordinary text needs anything more. */
const HAS_CONTROL_OR_BIDI = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** Node's own check (V8, Node 20+): a scan in C++, far faster than a regular expression. */
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** Explicit bidi formatting characters: LRE RLE PDF LRO RLO, and LRI RLI FSI PDI. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;

/** What a blank text is made of: whitespace, invisible (default-ignorable) characters, U+FFFD. */
const BLANK = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\uFFFD]*$/u;

/** Characters that end a bidi paragraph: an opener never pairs with a closer on another line. */
const PARAGRAPH_END = new Set(["\n", "\r", "\u2029", "\u0085", "\u001C", "\u001D", "\u001E"]);

const PDF = "\u202C";
const PDI = "\u2069";
const EMBEDDING_OPENERS = new Set(["\u202A", "\u202B", "\u202D", "\u202E"]);
const ISOLATE_OPENERS = new Set(["\u2066", "\u2067", "\u2068"]);

/** True when `text` has no lone surrogate (what `String.prototype.isWellFormed` checks). */
export function isWellFormed(text: string): boolean {
  if (nativeIsWellFormed) return nativeIsWellFormed.call(text);
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(text);
}

/**
 * The text with lone surrogates replaced by U+FFFD, control characters other than tab, LF and CR
 * removed, and bidi embeddings, overrides and isolates that are not closed on the same line (or
 * closers with no opener) removed. Idempotent; leaves well-formed, ordinary text unchanged.
 */
export function repairText(text: string): string {
  // Each step runs only when its class is present: ordinary text costs two scans.
  let out = isWellFormed(text) ? text : text.replace(LONE_SURROGATE, "\uFFFD");
  if (!HAS_CONTROL_OR_BIDI.test(out)) return out;
  if (HAS_CONTROL.test(out)) out = out.replace(CONTROLS, "");
  return BIDI_CONTROLS.test(out) ? dropUnpairedBidi(out) : out;
}

/** True when the text shows nothing: whitespace, zero-width and invisible characters, U+FFFD. */
export function isBlank(text: string): boolean {
  return BLANK.test(text);
}

/**
 * Content to store or search: a string, repaired ({@link repairText}), trimmed, and not blank.
 * @throws EngramError `INVALID_CONTENT` for a non-string or a text that shows nothing.
 */
export function safeContent(value: unknown, what = "Content"): string {
  if (typeof value !== "string") {
    throw new EngramError("INVALID_CONTENT", `${what} must be a string, got ${value === null ? "null" : typeof value}.`);
  }
  const text = repairText(value).trim();
  if (isBlank(text)) {
    throw new EngramError("INVALID_CONTENT", `${what} must not be empty, whitespace or invisible characters only.`);
  }
  return text;
}

/**
 * Why `value` cannot be an id (lone surrogate, control or bidi character, nothing visible), or
 * undefined when it can. Ids are refused rather than repaired: see the table above.
 */
export function unsafeIdReason(value: string): string | undefined {
  if (!isWellFormed(value)) return "contains a broken character (a lone UTF-16 surrogate, e.g. an emoji cut in half)";
  if (HAS_CONTROL.test(value) || /[\t\n\r]/.test(value)) return "contains a control character (NUL, tab, newline...)";
  if (BIDI_CONTROLS.test(value)) return "contains a bidirectional control character (U+202A-U+202E, U+2066-U+2069)";
  if (isBlank(value)) return "must not be empty, whitespace or invisible characters only";
  return undefined;
}

/** Throws `code` when `value` cannot be an id ({@link unsafeIdReason}). */
export function checkIdText(value: string, name: string, code: EngramErrorCode): string {
  const reason = unsafeIdReason(value);
  if (reason !== undefined) throw new EngramError(code, `${name} ${reason}.`);
  return value;
}

/**
 * Cuts `text` into parts of at most `maxChars` characters, each cut at the last paragraph break,
 * line break, sentence end or space that keeps the part at least half full (else at `maxChars`,
 * never inside a surrogate pair). Parts are trimmed; none is blank. Deterministic: the same text
 * and limit always give the same parts, so ids derived from them are stable across replays.
 */
export function splitText(text: string, maxChars: number): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 2) {
    throw new EngramError("INVALID_OPTIONS", `maxChars must be an integer of at least 2, got ${describeValue(maxChars)}.`);
  }
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > maxChars) {
    const cut = cutPoint(rest, maxChars);
    const part = rest.slice(0, cut).trim();
    if (!isBlank(part)) parts.push(part);
    rest = rest.slice(cut).trim();
  }
  if (!isBlank(rest)) parts.push(rest);
  return parts;
}

function cutPoint(text: string, maxChars: number): number {
  const window = text.slice(0, maxChars + 1);
  const floor = Math.floor(maxChars / 2);
  for (const separator of ["\n\n", "\n", ". ", "? ", "! ", " "]) {
    const at = window.lastIndexOf(separator, maxChars - separator.length);
    if (at >= floor) return at + separator.length;
  }
  // No boundary: a hard cut, moved back one unit so a surrogate pair stays whole.
  const code = text.charCodeAt(maxChars - 1);
  return code >= 0xd800 && code <= 0xdbff ? maxChars - 1 : maxChars;
}

/**
 * Keeps a bidi opener only with its closer in the same paragraph (PDF closes the innermost
 * embedding or override; PDI closes the innermost isolate and any embedding opened inside it,
 * as in UAX #9); every other bidi control is removed. Kept pairs nest, so a second pass keeps them.
 */
function dropUnpairedBidi(text: string): string {
  const keep = new Uint8Array(text.length).fill(1);
  let stack: Array<{ at: number; isolate: boolean }> = [];
  const dropOpen = () => {
    for (const open of stack) keep[open.at] = 0;
    stack = [];
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (PARAGRAPH_END.has(char)) dropOpen();
    else if (EMBEDDING_OPENERS.has(char)) stack.push({ at: i, isolate: false });
    else if (ISOLATE_OPENERS.has(char)) stack.push({ at: i, isolate: true });
    else if (char === PDF) {
      if (stack.length > 0 && !stack[stack.length - 1]!.isolate) stack.pop();
      else keep[i] = 0;
    } else if (char === PDI) {
      const isolate = stack.map((open) => open.isolate).lastIndexOf(true);
      if (isolate < 0) keep[i] = 0;
      // Embeddings opened inside the isolate end with it, without their PDF: unpaired, dropped.
      else for (const open of stack.splice(isolate).slice(1)) keep[open.at] = 0;
    }
  }
  dropOpen();
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (keep[i]) continue;
    out += text.slice(from, i);
    from = i + 1;
  }
  return out + text.slice(from);
}
