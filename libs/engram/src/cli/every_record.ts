import type { MemoryRecord } from "../core/types.js";
import type { Memory } from "../memory/memory.js";

/** `getAll` takes at most this many per call. */
const PAGE = 10_000;
/** How far before the end of the last page each next page starts. */
const OVERLAP = 1_000;

/** `getAll`'s order, a total one: newest first, then by id (store/chroma_store.ts list, memory/user_index.ts). */
function order(a: MemoryRecord, b: MemoryRecord): number {
  return b.createdAt - a.createdAt || a.id.localeCompare(b.id);
}

/**
 * Every live record of the user (facts no longer true included), oldest first, for `export` and
 * `import`'s counts. `getAll` pages by offset, over a list an application may change between two
 * calls: a record deleted ahead of the next page moves one across the page boundary unread (an
 * export missing a live memory), and one added ahead moves one into both pages (an export with a
 * repeated id, which import refuses). Since the order is total, each page after the first starts
 * OVERLAP records back and only the records after the last one taken are kept; a page that begins
 * past that record (more were deleted than the overlap covers) is read again from further back.
 */
export async function everyRecord(memory: Memory, userId: string): Promise<MemoryRecord[]> {
  const records: MemoryRecord[] = [];
  let offset = 0;
  for (;;) {
    const page = await memory.getAll({ userId, limit: PAGE, offset, includeInvalid: true });
    const last = records[records.length - 1];
    if (last !== undefined && offset > 0 && (page.length === 0 || order(page[0]!, last) > 0)) {
      offset = Math.max(0, offset - PAGE);
      continue;
    }
    records.push(...(last === undefined ? page : page.filter((record) => order(record, last) > 0)));
    if (page.length < PAGE) break;
    offset += PAGE - OVERLAP;
  }
  return records.reverse();
}
