import { EngramError } from "../../core/errors.js";
import { describeValue } from "../../core/describe.js";
import type { CoreBlocks } from "../../memory/blocks.js";

/**
 * The `blocks` option of the memory tools and their prompt: a `CoreBlocks` (by its shape, so a
 * second copy of the package still passes), checked when the door is built: a wrong value would
 * otherwise fail every tool or model call, with an error only the model sees.
 */
export function checkBlocks(blocks: unknown, door: string): CoreBlocks {
  const candidate = blocks as Partial<Record<keyof CoreBlocks, unknown>> | null;
  const shaped =
    candidate !== null &&
    typeof candidate === "object" &&
    Array.isArray(candidate.specs) &&
    candidate.specs.length > 0 &&
    (["append", "replace", "records"] as const).every((method) => typeof candidate[method] === "function");
  if (!shaped) {
    throw new EngramError("INVALID_OPTIONS", `${door}: blocks must be a CoreBlocks (new CoreBlocks(memory)), got ${describeValue(blocks)}.`);
  }
  return blocks as CoreBlocks;
}
