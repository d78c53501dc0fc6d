/**
 * Timing and summary statistics shared by the benchmarks.
 *
 * Percentiles use linear interpolation between closest ranks (the "R-7" / NumPy default
 * definition), so p50 of an even-length sample is the mean of the two middle values.
 */
import { performance } from "node:perf_hooks";

/** The p-th percentile (0 <= p <= 100) of `values`; NaN for an empty sample. Does not mutate. */
export function percentile(values: readonly number[], p: number): number {
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return percentileOfSorted(sorted, p);
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const low = sorted[lo] as number;
  const high = sorted[hi] as number;
  return low + (high - low) * (rank - lo);
}

/** The median of `values`; NaN for an empty sample. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The arithmetic mean of `values`; NaN for an empty sample. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Summary of a sample of latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** p50/p95/p99/mean/min/max of a sample (milliseconds in, milliseconds out). */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const empty = sorted.length === 0;
  return {
    count: sorted.length,
    p50: empty ? Number.NaN : percentileOfSorted(sorted, 50),
    p95: empty ? Number.NaN : percentileOfSorted(sorted, 95),
    p99: empty ? Number.NaN : percentileOfSorted(sorted, 99),
    mean: mean(sorted),
    min: empty ? Number.NaN : (sorted[0] as number),
    max: empty ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

/** Runs `fn` once and returns how long it took in milliseconds (`performance.now()`), and its result. */
export async function timeIt<T>(fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

export interface MeasureOptions<T> {
  /** Untimed calls before the timed ones. @default 20 */
  warmup?: number;
  /** Timed calls. */
  iterations: number;
  /** Called after every call (warm-up and timed), outside the timed region. */
  onCall?: (info: { index: number; warmup: boolean; result: T }) => void;
}

/**
 * Calls `fn(i)` `warmup` times untimed, then `iterations` times timed, one call at a time, and
 * returns the timed samples (milliseconds) with their summary. Warm-up calls get indices
 * `0..warmup-1` with `warmup: true`; timed calls get `0..iterations-1`.
 */
export async function measure<T>(
  fn: (index: number, warmup: boolean) => Promise<T>,
  options: MeasureOptions<T>,
): Promise<{ samples: number[]; summary: LatencySummary }> {
  const warmup = options.warmup ?? 20;
  for (let i = 0; i < warmup; i++) {
    const result = await fn(i, true);
    options.onCall?.({ index: i, warmup: true, result });
  }
  const samples: number[] = [];
  for (let i = 0; i < options.iterations; i++) {
    const { ms, result } = await timeIt(() => fn(i, false));
    samples.push(ms);
    options.onCall?.({ index: i, warmup: false, result });
  }
  return { samples, summary: summarize(samples) };
}

/** Formats milliseconds with a precision suited to their size (e.g. `0.42`, `3.1`, `41`). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms < 1) return ms.toFixed(2);
  if (ms < 10) return ms.toFixed(1);
  return ms.toFixed(0);
}
