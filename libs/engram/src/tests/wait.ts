/**
 * Waiting in tests for a condition, never for a duration: on a slow, loaded CI machine a fixed
 * sleep (or a fixed number of polls) can end before the thing waited for happens, and the test
 * then fails on timing alone. The deadline here only bounds a wait that would otherwise hang; it
 * is generous (minutes) because it costs nothing when the condition comes true early.
 */

/** How long {@link waitFor} waits by default: far more than any healthy wait, on any machine. */
export const WAIT_MS = 120_000;

/**
 * Polls `check` until it returns true (resolves true) or `timeoutMs` passes (resolves false, so
 * the caller's `expect(...).toBe(true)` reports what was waited for).
 */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}

/** Whether the process `pid` is gone (signal 0 probes it without touching it). */
export function processGone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
