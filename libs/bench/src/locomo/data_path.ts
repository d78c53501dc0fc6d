/**
 * Where the LoCoMo data is found, and which conversations are scored.
 *
 * LoCoMo is CC BY-NC 4.0 and is not part of this repository: the data's own README asks that it
 * be read from where it lives, not copied. A clone therefore finds it in one of these places,
 * first match wins:
 * 1. `--data <file>` (an explicit path that does not exist is an error);
 * 2. `libs/bench/data/locomo/locomo10.json`: the publisher's file, fetched with the command in
 *    {@link MISSING_DATA_HELP} (git-ignored);
 * 3. `libs/bench/data/locomo/locomo-dev.json` (git-ignored);
 * 4. `../shared/bench/locomo/locomo-dev.json` beside the repository (the development machine).
 * None found: the benchmarks print {@link MISSING_DATA_HELP} and skip (exit 0), so
 * `npm run bench` on a fresh clone ends green.
 *
 * Only the five dev conversations are scored ({@link DEV_SAMPLE_IDS}), whichever file is read:
 * every weight in the repository was chosen on them, and the other five are kept held out.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** The dev half of LoCoMo: the conversations every figure and fitted weight is measured on. */
export const DEV_SAMPLE_IDS: readonly string[] = ["conv-26", "conv-30", "conv-41", "conv-42", "conv-43"];

/** Default places, in order (absolute paths). */
export const DEFAULT_DATA_PATHS: readonly string[] = [
  resolve(REPO_ROOT, "libs/bench/data/locomo/locomo10.json"),
  resolve(REPO_ROOT, "libs/bench/data/locomo/locomo-dev.json"),
  resolve(REPO_ROOT, "../shared/bench/locomo/locomo-dev.json"),
];

/** What a user reads when no data is found: the one command that fetches it from its publisher. */
export const MISSING_DATA_HELP = [
  "LoCoMo data not found; skipping. LoCoMo (Maharana et al., ACL 2024) is CC BY-NC 4.0 and not shipped",
  "in this repository. Fetch it from its publisher (snap-research/LoCoMo on GitHub) once, from the",
  "repository root:",
  "",
  "  mkdir -p libs/bench/data/locomo && curl -fL -o libs/bench/data/locomo/locomo10.json \\",
  "    https://raw.githubusercontent.com/snap-research/LoCoMo/main/data/locomo10.json",
  "",
  `then run the benchmark again (only the dev conversations ${DEV_SAMPLE_IDS.join(", ")} are scored),`,
  "or pass --data <path to a LoCoMo JSON>.",
].join("\n");

/**
 * The data file to read: `explicit` when given (undefined if it does not exist, so the caller can
 * refuse it), else the first default place that exists, else undefined.
 */
export function findLocomoData(explicit?: string, candidates: readonly string[] = DEFAULT_DATA_PATHS): string | undefined {
  if (explicit !== undefined) {
    const path = resolve(explicit);
    return existsSync(path) ? path : undefined;
  }
  return candidates.find((path) => existsSync(path));
}

/**
 * Keeps the dev conversations only, in the file's order. A file holding none of them (a custom
 * LoCoMo-format file) is kept whole, so `--data` still works on other data sets of the format.
 */
export function devConversations<T extends { sampleId: string }>(all: readonly T[]): T[] {
  const dev = all.filter((c) => DEV_SAMPLE_IDS.includes(c.sampleId));
  return dev.length > 0 ? dev : [...all];
}
