import type { HistoryEntry, MemoryRecord, ScoredMemory } from "../core/types.js";

/** A time as UTC ISO 8601 to the second: stable across machines, sortable, readable. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Content on one line, so each record stays one line of output. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " / ");
}

/** `<id>  <kind>  <importance>  <created>  <content>`, one line per record, ids padded to one width. */
export function recordLines(records: readonly MemoryRecord[]): string {
  const width = idWidth(records);
  return records.map((record) => `${recordLine(record, width)}\n`).join("");
}

/** Search hits: each one's score (0..1), then its record line. */
export function scoredLines(hits: readonly ScoredMemory[]): string {
  const width = idWidth(hits);
  return hits.map((hit) => `${hit.score.toFixed(2)}  ${recordLine(hit, width)}\n`).join("");
}

function recordLine(record: MemoryRecord, idWidth: number): string {
  return [record.id.padEnd(idWidth), record.kind.padEnd(9), record.importance.toFixed(2), isoTime(record.createdAt), oneLine(record.content)].join("  ");
}

function idWidth(records: readonly MemoryRecord[]): number {
  return Math.max(0, ...records.map((record) => record.id.length));
}

/** Every field of one record, one per line. */
export function recordDetails(record: MemoryRecord): string {
  const source = [
    record.source.threadId === undefined ? undefined : `thread ${record.source.threadId}`,
    record.source.messageIds?.length ? `messages ${record.source.messageIds.join(" ")}` : undefined,
  ].filter((part) => part !== undefined);
  const rows: Array<[string, string]> = [
    ["id", record.id],
    ["user", record.scope.userId],
    ["agent", record.scope.agentId ?? "-"],
    ["thread", record.scope.threadId ?? "-"],
    ["kind", record.kind],
    ["content", record.content],
    ["importance", String(record.importance)],
    ["role", record.role ?? "-"],
    ["created", isoTime(record.createdAt)],
    ["updated", isoTime(record.updatedAt)],
    ["accessed", isoTime(record.lastAccessedAt)],
    ["expires", record.expiresAt === undefined ? "never" : isoTime(record.expiresAt)],
    ["source", source.length > 0 ? source.join(", ") : "-"],
    ["metadata", JSON.stringify(record.metadata)],
  ];
  return rows.map(([name, value]) => `${name.padEnd(10)}  ${value}`).join("\n");
}

/** `<time>  <event>  <reason>  <what changed>` */
export function historyLine(entry: HistoryEntry): string {
  const change =
    entry.event === "ADD"
      ? quote(entry.newContent)
      : entry.event === "UPDATE"
        ? `${quote(entry.oldContent)} -> ${quote(entry.newContent)}`
        : quote(entry.oldContent);
  return [isoTime(entry.at), entry.event.padEnd(6), (entry.reason ?? "-").padEnd(9), change].join("  ");
}

function quote(text: string | null): string {
  return text === null ? "-" : JSON.stringify(oneLine(text));
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
