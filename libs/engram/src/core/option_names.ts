/**
 * The option names a constructor knows. A name it does not know is refused when the object is
 * made, as every method refuses one: a typo (`{ recalLimit: 3 }`) would otherwise run on the
 * default without a word.
 */
import { validateOptionObject } from "./validate.js";

/** Every name of `T`, each `true`: typed against the options type, so a new option fails the type check until listed. */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/** @throws EngramError `INVALID_OPTIONS` naming the unknown keys and the known ones. */
export function refuseUnknownOptions<T>(options: T, door: string, names: OptionNames<T>, example: string): void {
  validateOptionObject(options, `${door} options`, Object.keys(names), example);
}
