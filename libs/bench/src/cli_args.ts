/** Option parsers shared by the bench CLIs (commander). */
import { InvalidArgumentError } from "commander";

/** A whole number of at least 1, or commander's usage error. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer.");
  return n;
}
