/**
 * A caller's value as error-message text. Messages used to embed ``got ${JSON.stringify(value)}``,
 * but `JSON.stringify` throws a TypeError on a BigInt or a cyclic object (and a template literal
 * throws on a symbol), so the message meant to explain bad input became a bare TypeError with no
 * code. This never throws: whatever the value, a validation error stays an `EngramError`.
 */

/** Longest description, in characters: a message names the value, it does not dump it. */
export const MAX_DESCRIPTION_CHARS = 200;

/**
 * A short, readable form of any value: strings and plain data as JSON (`"bogus"`, `{"$gt":0}`),
 * numbers as JavaScript prints them (`NaN`, `Infinity`), a BigInt as `10n`, a symbol as
 * `Symbol(x)`, a function as `a function`, a cycle as `"[Circular]"`. Anything longer than
 * `maxChars` is cut and says how long it was.
 */
export function describeValue(value: unknown, maxChars = MAX_DESCRIPTION_CHARS): string {
  try {
    return describeOrThrow(value, maxChars);
  } catch {
    // A Proxy, a throwing getter or toJSON: still say what kind of value it was.
    return value === null ? "null" : `a value of type ${typeof value}`;
  }
}

function describeOrThrow(value: unknown, maxChars: number): string {
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return describeString(value, maxChars);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value.toString()}n`;
    case "symbol":
      return value.toString();
    case "function":
      return value.name ? `a function (${value.name})` : "a function";
    default:
      break;
  }
  if (value === null) return "null";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : `Date ${value.toISOString()}`;
  return truncate(JSON.stringify(value, safeReplacer(maxChars)) ?? Object.prototype.toString.call(value), maxChars);
}

/**
 * A replacer that turns what JSON cannot hold into text: BigInt, symbols, functions, NaN, and a
 * reference to an object still being printed (a cycle; a shared, acyclic reference prints twice).
 */
function safeReplacer(maxChars: number): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function replace(this: unknown, _key: string, value: unknown): unknown {
    // `this` is the object holding `value`: drop the ancestors this branch has left.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    switch (typeof value) {
      case "bigint":
        return `${value.toString()}n`;
      case "symbol":
        return value.toString();
      case "function":
        return "[function]";
      case "number":
        return Number.isFinite(value) ? value : String(value);
      case "string":
        return value.length > maxChars ? `${value.slice(0, maxChars)}…` : value;
      case "object":
        if (value === null) return value;
        if (ancestors.includes(value)) return "[Circular]";
        ancestors.push(value);
        return value;
      default:
        return value;
    }
  };
}

function describeString(value: string, maxChars: number): string {
  // Cut before quoting: a 10 MB string is not copied into a message. Quoting can lengthen it
  // (a control character becomes \u0001), so the quoted form is cut again.
  const json = JSON.stringify(value.length > maxChars ? value.slice(0, maxChars) : value);
  if (value.length <= maxChars && json.length <= maxChars + 2) return json;
  return `${json.slice(0, maxChars)}… (${value.length} characters)`;
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}… (${text.length} characters)`;
}
