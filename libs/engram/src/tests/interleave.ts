/** Tools for tests that interleave concurrent work on purpose, the same way on every run. */

/** A point where a call stops until the test lets it go on: `wait()` marks it reached and waits for `open()`. */
export function gate(): { reached: Promise<void>; open: () => void; wait: () => Promise<void> } {
  let reach!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { reached, open, wait: () => (reach(), opened) };
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a run can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
