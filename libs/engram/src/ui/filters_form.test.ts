import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { usageReport } from "../memory/usage.js";
import { pageOf, statsOf } from "./records_view.js";
import { listQuerySchema } from "./schemas.js";
import { userBody } from "./user_page.js";

const NOW = Date.UTC(2026, 0, 31, 12);

function record(id: string, threadId: string, kind: MemoryRecord["kind"]): MemoryRecord {
  return { id, scope: { userId: "u", threadId }, kind, content: `memory ${id}`, importance: 0.5, createdAt: NOW, updatedAt: NOW, lastAccessedAt: NOW, source: {}, metadata: {} };
}

/** Two threads whose ids differ only by a leading space: two threads to `Memory`. */
const RECORDS = [record("a", "t", "fact"), record("b", " t", "episode")];

const unescape = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

/**
 * What a browser sends for the user page's filter form: every field, a select's selected option
 * (else its first), an input's value, empty ones included.
 */
function submitted(markup: string, choose: Record<string, string> = {}): Record<string, string> {
  const form = /<form[^>]*id="filters"[^>]*>([\s\S]*?)<\/form>/.exec(markup)![1]!;
  const fields: Record<string, string> = {};
  for (const [, name, options] of form.matchAll(/<select name="([^"]+)">([\s\S]*?)<\/select>/g)) {
    const values = [...options!.matchAll(/<option value="([^"]*)"\s*(selected)?/g)];
    fields[name!] = unescape((values.find((option) => option[2]) ?? values[0]!)[1]!);
  }
  for (const [, name, value] of form.matchAll(/<input name="([^"]+)"(?: value="([^"]*)")?/g)) fields[name!] = unescape(value ?? "");
  for (const [name, value] of Object.entries(choose)) {
    expect(Object.keys(fields)).toContain(name);
    fields[name] = value;
  }
  return fields;
}

function render(query: ReturnType<typeof listQuerySchema.parse>): string {
  return userBody("u", statsOf(RECORDS, NOW), pageOf(RECORDS, query, NOW), query, usageReport([]), false, NOW).value;
}

describe("the user page's filter form, as a browser submits it", () => {
  it("is accepted with its defaults (kind \"any\" is an empty parameter) and lists every memory", () => {
    // Before: kind= was refused (400), so Apply with kind left at "any" showed an error page.
    const fields = submitted(render(listQuerySchema.parse({})));
    expect(fields.kind).toBe("");
    const parsed = listQuerySchema.safeParse(fields);
    expect(parsed.success).toBe(true);
    expect(pageOf(RECORDS, parsed.data!, NOW).records.map((one) => one.id).sort()).toEqual(["a", "b"]);
  });

  it("filters by the thread chosen, exactly: \" t\" is not \"t\"", () => {
    const markup = render(listQuerySchema.parse({}));
    expect(markup).toContain('<option value=" t"');
    for (const [thread, ids] of [[" t", ["b"]], ["t", ["a"]]] as const) {
      const query = listQuerySchema.parse(submitted(markup, { thread }));
      expect([thread, pageOf(RECORDS, query, NOW).records.map((one) => one.id)]).toEqual([thread, ids]);
    }
  });
});
