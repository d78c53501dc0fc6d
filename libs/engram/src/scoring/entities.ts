import { createRequire } from "node:module";
import type nlpType from "compromise/two";
import { EngramError } from "../core/errors.js";
import type { MemoryRecord, Metadata } from "../core/types.js";
import { describeValue } from "../core/describe.js";

const requireHere = createRequire(import.meta.url);

let tagger: typeof nlpType | undefined;

/**
 * compromise's tagger from its CommonJS build: one bundled file, which loads with about a third
 * less CPU than its ES module tree of many files (docs/benchmarks.md, cold start). The bundle is
 * self-contained, so loading it with require shares no classes with anything else. Loaded on
 * first use (about 1 s of CPU): tagging is off by default, and when on it runs in the drain, off
 * the caller's path, so importing Engram does not pay for it.
 */
function nlp(text: string): ReturnType<typeof nlpType> {
  tagger ??= requireHere("compromise/two") as typeof nlpType;
  return tagger(text);
}

/** What kind of thing an entity is. */
export type EntityType = "person" | "place" | "organization" | "date" | "number";

/** A named thing found in a text, normalised for matching (lower case, no edge punctuation). */
export interface Entity {
  type: EntityType;
  name: string;
}

/** Options of entity extraction and of the recall boost. */
export interface EntityOptions {
  /**
   * Find people, places, organisations, dates and numbers in each added text (offline, with the
   * `compromise` NLP library) and store their names in the record's `metadata.entities`. The
   * tagger costs 3-4 ms of CPU a text, more than the rest of a write, and only the boost reads the
   * names, so it follows the boost unless set. (`metadata.dates`, read by the ranker's date boost,
   * is resolved either way.)
   * @default true when `boost` > 0, else false
   */
  extract?: boolean;
  /**
   * How much a search result gains when the query names one of its entities: the score becomes
   * `score + boost * (1 - 0.5 ^ named)`, capped at 1, where `named` counts the distinct entities
   * of the record that the query names. 0 turns the boost off. Off by default: leave-one-
   * conversation-out CV on LoCoMo chose 0 on every fold (0.1 cost held-out recall@10).
   * @default 0
   */
  boost?: number;
}

export interface ResolvedEntityOptions {
  extract: boolean;
  boost: number;
}

/** The metadata key that holds a record's entity names, joined with `|`. */
export const ENTITIES_KEY = "entities";

/** Metadata strings are capped at 1,000 characters; the joined list stays below that. */
const MAX_JOINED = 1_000;

/** Shorter names (a lone digit, an initial) match too much text to mean anything. */
const MIN_NAME_LENGTH = 2;

export function resolveEntityOptions(options: EntityOptions = {}): ResolvedEntityOptions {
  const boost = options.boost ?? 0;
  if (typeof boost !== "number" || !Number.isFinite(boost) || boost < 0 || boost > 1) {
    throw new EngramError("INVALID_OPTIONS", `entities.boost must be a number from 0 to 1, got ${describeValue(options.boost)}.`);
  }
  const extract = options.extract ?? boost > 0;
  if (typeof extract !== "boolean") {
    throw new EngramError("INVALID_OPTIONS", `entities.extract must be a boolean, got ${describeValue(options.extract)}.`);
  }
  return { extract, boost };
}

/** Tag classes in priority order: a year inside a date is part of the date, not a number. */
const CLASSES: ReadonlyArray<[EntityType, string]> = [
  ["date", "Date"],
  ["person", "Person"],
  ["place", "Place"],
  ["organization", "Organization"],
  ["number", "Value"],
];

/**
 * People, places, organisations, dates and numbers named in `text`, in order of appearance,
 * without duplicates. Offline: `compromise` tags each word with its bundled lexicon and grammar
 * (its tagger alone, `compromise/two`, which is all this needs and the fastest build), and a
 * run of neighbouring words with the same tag is one entity. Titles and family words ("Dr",
 * "sister") are tagged as part of a person but are not the name, so they are left out.
 */
export function extractEntities(text: string): Entity[] {
  const found: Entity[] = [];
  const seen = new Set<string>();
  let run: { type: EntityType; words: string[] } | undefined;
  const close = (): void => {
    if (!run) return;
    const raw = run.words.join(" ");
    const name = normalizeEntity(raw);
    // A date names a day only with a number or a capital ("March", "Friday", "7 May"); "week" or
    // "tomorrow" are relative and would match every question about time.
    const named = run.type !== "date" || /[\p{N}\p{Lu}]/u.test(raw);
    if (named && name.length >= MIN_NAME_LENGTH && !seen.has(name)) {
      seen.add(name);
      found.push({ type: run.type, name });
    }
    run = undefined;
  };
  for (const term of nlp(text).termList()) {
    const tags = term.tags ?? new Set<string>();
    const type = tags.has("Honorific") || tags.has("Actor") ? undefined : CLASSES.find(([, tag]) => tags.has(tag))?.[0];
    if (type === undefined || run?.type !== type) close();
    if (type === undefined) continue;
    run ??= { type, words: [] };
    run.words.push(term.text);
    // Punctuation after a word ends the run: "Paris, Berlin" are two places.
    if (/[,.;:!?()]/.test(term.post)) close();
  }
  close();
  return found;
}

/** Lower case, possessive and edge punctuation removed, inner spaces collapsed. */
export function normalizeEntity(name: string): string {
  return name
    .toLowerCase()
    .replace(/[|]/g, " ")
    .replace(/(\d),(?=\d{3})/g, "$1")
    .replace(/['’]s\b/g, "")
    .replace(/^[^\p{L}\p{N}$€£]+|[^\p{L}\p{N}%]+$/gu, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The `entities` metadata value for a list of names: `"paris|berlin"`, or undefined when empty. */
export function joinEntities(names: Iterable<string>): string | undefined {
  const unique: string[] = [];
  let length = 0;
  for (const raw of names) {
    const name = normalizeEntity(raw);
    if (name.length < MIN_NAME_LENGTH || unique.includes(name)) continue;
    if (length + name.length + 1 > MAX_JOINED) break;
    unique.push(name);
    length += name.length + 1;
  }
  return unique.length > 0 ? unique.join("|") : undefined;
}

/** The entity names stored on a record (empty when it has none). */
export function entitiesOf(metadata: Metadata): string[] {
  const value = metadata[ENTITIES_KEY];
  return typeof value === "string" && value.length > 0 ? value.split("|") : [];
}

/**
 * `metadata` with the entities of `text` added under `entities`, unless the caller set that key
 * (their value wins) or nothing was found.
 */
export function withEntities(metadata: Metadata, text: string, extra: Iterable<string> = []): Metadata {
  if (metadata[ENTITIES_KEY] !== undefined) return metadata;
  const joined = joinEntities([...extractEntities(text).map((entity) => entity.name), ...extra]);
  return joined === undefined ? metadata : { ...metadata, [ENTITIES_KEY]: joined };
}

/** `metadata` without its `entities` key (to tag new content afresh). */
export function withoutEntities(metadata: Metadata): Metadata {
  if (metadata[ENTITIES_KEY] === undefined) return metadata;
  const { [ENTITIES_KEY]: _dropped, ...rest } = metadata;
  return rest;
}

/**
 * The query as a space-padded run of normalised words, so that `" berlin "` is found in it only
 * as a whole word.
 */
function paddedWords(query: string): string {
  return ` ${query
    .toLowerCase()
    .replace(/(\d),(?=\d{3})/g, "$1")
    .replace(/['’]s\b/g, "")
    .replace(/[^\p{L}\p{N}$€£%'.]+/gu, " ")
    .replace(/\.(?=\s|$)/g, " ")
    .replace(/\s+/g, " ")
    .trim()} `;
}

/** How many of `entities` the query names, as whole words. */
export function namedIn(query: string, entities: readonly string[]): number {
  return countNamed(paddedWords(query), entities);
}

function countNamed(padded: string, entities: readonly string[]): number {
  return entities.filter((entity) => isNamed(padded, entity)).length;
}

function isNamed(padded: string, entity: string): boolean {
  return entity.length >= MIN_NAME_LENGTH && padded.includes(` ${entity} `);
}

/**
 * Re-ranks ranked memories: each gains `boost * (1 - 0.5 ^ named)` (capped at 1), where `named`
 * sums, over the memory's stored entities that the query names, the entity's rarity among the
 * candidates: `ln(N / df) / ln(N)` for an entity found in `df` of the `N` candidates (1 when
 * there is one candidate). Then the list is sorted again, best first. Works on any
 * `{ record, score }` items and returns new items; the order of equal scores is kept.
 * A lexical match already rewards shared words; this rewards shared *names*, which the tagger
 * found when the memory was written, so "Berlin" in a question lifts the memories about Berlin
 * above ones that merely share common words with it. Weighting by rarity matters: in a
 * conversation every turn names its speaker, and a boost for a name that every candidate carries
 * only reshuffles them (on LoCoMo an unweighted boost of 0.1 cost 3 points of recall@10).
 */
export function boostByEntities<T extends { record: MemoryRecord; score: number }>(query: string, items: readonly T[], boost: number): T[] {
  if (boost <= 0 || items.length === 0) return [...items];
  const padded = paddedWords(query);
  const named = items.map((item) => entitiesOf(item.record.metadata).filter((entity) => isNamed(padded, entity)));
  const df = new Map<string, number>();
  for (const names of named) for (const name of new Set(names)) df.set(name, (df.get(name) ?? 0) + 1);
  const n = items.length;
  const rarity = (name: string): number => (n === 1 ? 1 : Math.log(n / df.get(name)!) / Math.log(n));
  const boosted = items.map((item, index) => {
    const weight = [...new Set(named[index]!)].reduce((sum, name) => sum + rarity(name), 0);
    const score = weight === 0 ? item.score : Math.min(1, item.score + boost * (1 - 0.5 ** weight));
    return { item: weight === 0 ? item : { ...item, score }, index };
  });
  boosted.sort((a, b) => b.item.score - a.item.score || a.index - b.index);
  return boosted.map((entry) => entry.item);
}
