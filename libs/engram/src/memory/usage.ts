/** What `memory.usage()` reports (tokens of Engram's own model calls), computed from the state's usage sums. */
import { EngramError } from "../core/errors.js";
import type { UsageHook } from "../core/token_usage.js";
import { describeValue } from "../core/describe.js";
import type { UsageState, UsageTotalsRow } from "../state/types.js";

/** Which of Engram's own model calls used the tokens. */
export type UsageKind = "extraction" | "reconciliation" | "summary" | "importance";

export const USAGE_KINDS: readonly UsageKind[] = ["extraction", "reconciliation", "summary", "importance"];

/** Tokens and calls, summed. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Calls whose reply carried no usage metadata: counted as calls, their tokens unknown. */
  unreported: number;
}

/** What `memory.usage()` returns: what memory added to the model bill, in tokens. */
export interface UsageReport {
  /** Everything counted (for the one user when `userId` was given). */
  total: UsageTotals;
  /** The same, by kind of call (every kind present, zeros when unused). */
  byKind: Record<UsageKind, UsageTotals>;
  /** By user, most tokens first. Calls made outside any user (`userId` unknown) are under "". */
  byUser: Array<{ userId: string; total: UsageTotals; byKind: Record<UsageKind, UsageTotals>; lastAt: number }>;
}

/** Options of `memory.usage(options)`. */
export interface UsageOptions {
  /** Only this user's calls. @default every user */
  userId?: string;
}

/**
 * A hook that records one model call's tokens for a user and kind; a failure to record is dropped,
 * never thrown into the call (accounting is best effort, and a hook must not throw).
 */
export function usageHook(usage: () => UsageState | undefined, kind: UsageKind, userId = ""): UsageHook {
  if (!(USAGE_KINDS as readonly string[]).includes(kind)) {
    throw new EngramError("INVALID_OPTIONS", `usage kind must be one of ${USAGE_KINDS.join(", ")}, got ${describeValue(kind)}.`);
  }
  return (tokens) => {
    try {
      void usage()?.record({ userId, kind, usage: tokens }).catch(() => undefined);
    } catch {
      // The state closed under a late call.
    }
  };
}

/** `memory.usage()`'s report, from the state's sums per (user, kind). */
export function usageReport(rows: readonly UsageTotalsRow[]): UsageReport {
  const report: UsageReport = { total: zero(), byKind: byKindZero(), byUser: [] };
  const users = new Map<string, UsageReport["byUser"][number]>();
  for (const row of rows) {
    if (!(USAGE_KINDS as readonly string[]).includes(row.kind)) continue;
    const kind = row.kind as UsageKind;
    const totals: UsageTotals = {
      calls: row.calls,
      inputTokens: row.inputTokens,
      outputTokens: row.outputTokens,
      totalTokens: row.totalTokens,
      unreported: row.unreported,
    };
    let user = users.get(row.userId);
    if (!user) users.set(row.userId, (user = { userId: row.userId, total: zero(), byKind: byKindZero(), lastAt: 0 }));
    user.lastAt = Math.max(user.lastAt, row.lastAt);
    for (const target of [report.total, report.byKind[kind], user.total, user.byKind[kind]]) add(target, totals);
  }
  report.byUser = [...users.values()].sort((a, b) => b.total.totalTokens - a.total.totalTokens || a.userId.localeCompare(b.userId));
  return report;
}

function zero(): UsageTotals {
  return { calls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, unreported: 0 };
}

function byKindZero(): Record<UsageKind, UsageTotals> {
  return { extraction: zero(), reconciliation: zero(), summary: zero(), importance: zero() };
}

function add(target: UsageTotals, more: UsageTotals): void {
  target.calls += more.calls;
  target.inputTokens += more.inputTokens;
  target.outputTokens += more.outputTokens;
  target.totalTokens += more.totalTokens;
  target.unreported += more.unreported;
}
