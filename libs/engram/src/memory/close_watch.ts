/**
 * What must stop when a `Memory` closes, without the Memory holding it alive: the graph's idle
 * timers (graph/sessions.ts) otherwise keep a closed Memory, and all it reaches, until they fire
 * (`idleMs`, often an hour), only to fail with `CLOSED`.
 *
 * Watchers are held weakly (a graph made per request and dropped is collected as usual), keyed by
 * the Memory in a WeakMap (nothing here keeps a Memory either).
 */

/** Something to stop when its Memory closes. */
export interface CloseWatcher {
  memoryClosed(): void;
}

const watchers = new WeakMap<object, Set<WeakRef<CloseWatcher>>>();
const closed = new WeakSet<object>();

/** Tells `watcher` when `memory` closes (at once if it has). */
export function watchClose(memory: object, watcher: CloseWatcher): void {
  if (closed.has(memory)) {
    watcher.memoryClosed();
    return;
  }
  let set = watchers.get(memory);
  if (!set) {
    set = new Set();
    watchers.set(memory, set);
  }
  // Watchers collected since are dropped here, so the set stays the size of the live ones.
  for (const ref of set) if (ref.deref() === undefined) set.delete(ref);
  set.add(new WeakRef(watcher));
}

/** Whether `memory` began to close. */
export function isClosing(memory: object): boolean {
  return closed.has(memory);
}

/** Called by `Memory.close()`: every live watcher of the Memory is told, once. */
export function closeWatched(memory: object): void {
  closed.add(memory);
  const set = watchers.get(memory);
  watchers.delete(memory);
  for (const ref of set ?? []) ref.deref()?.memoryClosed();
}
