/**
 * The texts an index field path picks out of a value, with the path language of LangGraph's
 * InMemoryStore (its `tokenizePath` / `getTextAtPath` in @langchain/langgraph-checkpoint's
 * store/utils, which the package does not export): `"a.b"`, `"list[0]"`, `"list[-1]"`,
 * `"list[*].text"`, `"*"`, `"{title,meta.author}"`, and `"$"` for the whole value as JSON.
 * Ported so both stores embed the same texts for the same `fields`.
 */

export function tokenizePath(path: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let i = 0;
  const flush = (): void => {
    if (current.length > 0) tokens.push(current);
    current = "";
  };
  while (i < path.length) {
    const char = path[i]!;
    if (char === "[" || char === "{") {
      flush();
      const close = char === "[" ? "]" : "}";
      let depth = 1;
      let group = char;
      i += 1;
      while (i < path.length && depth > 0) {
        const next = path[i]!;
        if (next === char) depth += 1;
        else if (next === close) depth -= 1;
        group += next;
        i += 1;
      }
      tokens.push(group);
      continue;
    }
    if (char === ".") flush();
    else current += char;
    i += 1;
  }
  flush();
  return tokens;
}

/** Every text at `path` in `value`: strings as they are, numbers and booleans as strings, objects as JSON. */
export function textsAtPath(value: unknown, path: string): string[] {
  if (path === "" || path === "$") return [JSON.stringify(value, null, 2)];
  return extract(value, tokenizePath(path), 0);
}

function extract(value: unknown, tokens: string[], pos: number): string[] {
  if (pos >= tokens.length) return leafText(value);
  const token = tokens[pos]!;
  const results: string[] = [];
  if (pos === 0 && token === "$") results.push(JSON.stringify(value, null, 2));
  if (token.startsWith("[") && token.endsWith("]")) {
    if (!Array.isArray(value)) return [];
    const index = token.slice(1, -1);
    if (index === "*") {
      for (const item of value) results.push(...extract(item, tokens, pos + 1));
    } else {
      let at = Number.parseInt(index, 10);
      if (at < 0) at += value.length;
      if (at >= 0 && at < value.length) results.push(...extract(value[at], tokens, pos + 1));
    }
  } else if (token.startsWith("{") && token.endsWith("}")) {
    if (typeof value !== "object" || value === null) return [];
    for (const field of token.slice(1, -1).split(",").map((f) => f.trim())) {
      let current: unknown = value;
      for (const part of tokenizePath(field)) {
        current = current !== null && typeof current === "object" && part in current ? (current as Record<string, unknown>)[part] : undefined;
        if (current === undefined) break;
      }
      // As upstream: a null field reads as the JSON text "null" here (and as nothing elsewhere).
      if (current === null) results.push("null");
      else if (current !== undefined && field.length > 0) results.push(...leafText(current));
    }
  } else if (token === "*") {
    const children = Array.isArray(value) ? value : value !== null && typeof value === "object" ? Object.values(value) : [];
    for (const child of children) results.push(...extract(child, tokens, pos + 1));
  } else if (value !== null && typeof value === "object" && token in value) {
    results.push(...extract((value as Record<string, unknown>)[token], tokens, pos + 1));
  }
  return results;
}

function leafText(value: unknown): string[] {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return [String(value)];
  if (value === null || value === undefined) return [];
  if (typeof value === "object") return [JSON.stringify(value, null, 2)];
  return [];
}
