/**
 * A `listNamespaces` condition, LangGraph's `MatchCondition` by shape (this layer imports no
 * framework): the namespace starts (`prefix`) or ends (`suffix`) with `path`, "*" matching any
 * one label.
 */
export interface NamespaceMatch {
  matchType: "prefix" | "suffix";
  path: string[];
}

/**
 * `listNamespaces` over the namespaces that hold live items, with InMemoryStore's rules: every
 * match condition must hold ("*" matches any one label; a prefix or suffix longer than the
 * namespace never matches), `maxDepth` cuts namespaces to their first labels and merges
 * duplicates, the result is sorted by the ":"-joined path (`localeCompare`), then `offset` and
 * `limit` apply.
 */
export function selectNamespaces(
  namespaces: Iterable<readonly string[]>,
  options: { matchConditions?: readonly NamespaceMatch[]; maxDepth?: number; limit?: number; offset?: number },
): string[][] {
  let selected = [...namespaces].filter((namespace) =>
    (options.matchConditions ?? []).every((condition) => matches(condition, namespace)),
  );
  if (options.maxDepth !== undefined) selected = selected.map((namespace) => namespace.slice(0, options.maxDepth));
  const unique = new Map<string, string[]>();
  for (const namespace of selected) unique.set(JSON.stringify(namespace), [...namespace]);
  const sorted = [...unique.values()].sort((a, b) => a.join(":").localeCompare(b.join(":")));
  const offset = options.offset ?? 0;
  return sorted.slice(offset, options.limit === undefined ? undefined : offset + options.limit);
}

export function matches(condition: NamespaceMatch, namespace: readonly string[]): boolean {
  const path = condition.path;
  if (path.length > namespace.length) return false;
  const start = condition.matchType === "suffix" ? namespace.length - path.length : 0;
  return path.every((label, i) => label === "*" || namespace[start + i] === label);
}

/**
 * The one first label every match must have, when a prefix condition names it; otherwise
 * undefined (all of the store's collections must be read).
 */
export function firstLabelOf(conditions: readonly NamespaceMatch[] | undefined): string | undefined {
  for (const condition of conditions ?? []) {
    const first = condition.path[0];
    if (condition.matchType === "prefix" && first !== undefined && first !== "*") return first;
  }
  return undefined;
}
