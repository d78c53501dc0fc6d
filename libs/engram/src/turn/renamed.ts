/**
 * Options that were renamed so that one name means one thing in every door: a value under the
 * old name is refused with the new one, rather than ignored (an ignored summary model would
 * silently turn into extractive summaries).
 */
import { EngramError } from "../core/errors.js";

/** @throws EngramError `INVALID_OPTIONS` when `options` still has `oldName`. */
export function renamedOption(options: object, oldName: string, newName: string, door: string): void {
  if ((options as Record<string, unknown>)[oldName] !== undefined) {
    throw new EngramError("INVALID_OPTIONS", `${door}: the option "${oldName}" is now "${newName}" (the same value, a name that says what it is for).`);
  }
}
