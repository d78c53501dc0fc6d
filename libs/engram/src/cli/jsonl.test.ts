import { describe, expect, it } from "@jest/globals";
import { isEngramError } from "../core/errors.js";
import type { MemoryRecord } from "../core/types.js";
import { decodeImportFile, parseImportFile, toExportLine } from "./jsonl.js";

const record: MemoryRecord = {
  id: "m-1",
  scope: { userId: "alice", threadId: "chat-1" },
  kind: "episode",
  content: "I moved to Berlin last spring.",
  importance: 0.6,
  role: "user",
  createdAt: 1_000,
  updatedAt: 2_000,
  lastAccessedAt: 3_000,
  expiresAt: 9_000,
  source: { threadId: "chat-1", messageIds: ["msg-1"] },
  metadata: { topic: "moves", entities: "berlin" },
};

function refusal(text: string): { line: unknown; message: string } {
  try {
    parseImportFile(text);
  } catch (error) {
    if (isEngramError(error, "INVALID_IMPORT")) return { line: error.details.line, message: error.message };
    throw error;
  }
  throw new Error("the file was accepted");
}

describe("export lines", () => {
  it("hold every field but the vector, and read back as what Memory.add needs", () => {
    const line = toExportLine(record);
    expect(Object.keys(JSON.parse(line))).toEqual([
      "id", "kind", "content", "importance", "createdAt", "updatedAt", "lastAccessedAt", "expiresAt", "role", "scope", "source", "metadata",
    ]);
    expect(parseImportFile(`${line}\n`)).toEqual([
      {
        line: 1,
        id: "m-1",
        kind: "episode",
        content: "I moved to Berlin last spring.",
        importance: 0.6,
        createdAt: 1_000,
        expiresAt: 9_000,
        role: "user",
        threadId: "chat-1",
        source: { threadId: "chat-1", messageIds: ["msg-1"] },
        metadata: { topic: "moves", entities: "berlin" },
      },
    ]);
  });

  it("leave out the fields a record does not have, and a minimal line defaults to an episode", () => {
    const { expiresAt: _expires, role: _role, ...bare } = record;
    expect(JSON.parse(toExportLine(bare))).not.toHaveProperty("expiresAt");
    expect(parseImportFile('\uFEFF{"content":"likes tea"}\r\n\r\n')).toEqual([{ line: 1, kind: "episode", content: "likes tea", metadata: {} }]);
  });
});

describe("import validation", () => {
  it.each([
    ["not JSON", "{oops", /not valid JSON/],
    ["an array", "[1]", /must be a JSON object/],
    ["no content", '{"kind":"fact"}', /INVALID_CONTENT/],
    ["an unknown kind", '{"content":"x","kind":"memo"}', /kind must be one of/],
    ["importance out of range", '{"content":"x","importance":1.5}', /importance must be a number from 0 to 1/],
    ["a time that is not a number", '{"content":"x","createdAt":"yesterday"}', /createdAt must be/],
    ["nested metadata", '{"content":"x","metadata":{"a":{"b":1}}}', /INVALID_METADATA/],
    ["a reserved metadata key", '{"content":"x","metadata":{"userId":"bob"}}', /reserved/],
    ["an unknown field", '{"content":"x","embedding":[0.1]}', /unknown field "embedding"/],
    ["an unknown scope field", '{"content":"x","scope":{"tenant":"t"}}', /unknown field "scope.tenant"/],
    ["an operator as a thread id", '{"content":"x","scope":{"threadId":{"$ne":"x"}}}', /INVALID_SCOPE/],
    ["bad message ids", '{"content":"x","source":{"messageIds":[""]}}', /messageIds/],
    ["an empty role", '{"content":"x","role":""}', /role must be/],
    ["an empty id", '{"content":"x","id":" "}', /INVALID_ID/],
  ])("refuses %s, naming the line", (_what, bad, reason) => {
    const { line, message } = refusal(`{"content":"fine"}\n\n${bad}\n{"content":"also fine"}\n`);
    expect(line).toBe(3);
    expect(message).toMatch(/^Line 3: /);
    expect(message).toMatch(reason);
  });

  it("refuses a repeated id, naming both lines", () => {
    const { line, message } = refusal('{"id":"a","content":"x"}\n{"id":"b","content":"y"}\n{"id":"a","content":"z"}\n');
    expect(line).toBe(3);
    expect(message).toContain("already on line 1");
  });
});

describe("import bytes", () => {
  const bytes = (...parts: Array<string | number[]>): Uint8Array =>
    Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part))));
  const refused = (input: Uint8Array): string => {
    try {
      decodeImportFile(input);
    } catch (error) {
      if (isEngramError(error, "INVALID_IMPORT")) return `${String(error.details.line)}: ${error.message}`;
      throw error;
    }
    throw new Error("the bytes were accepted");
  };

  it("decode UTF-8 (a UTF-8 byte order mark is dropped) and keep every character", () => {
    expect(decodeImportFile(bytes([0xef, 0xbb, 0xbf], '{"content":"café 日本 🎉"}\n'))).toBe('{"content":"café 日本 🎉"}\n');
  });

  it.each([
    ["a Latin-1 byte after a character of several bytes on its line", bytes('{"content":"ok"}\n{"content":"日本 caf', [0xe9], '"}'), "2: Line 2: byte 0xe9 (byte 40 of the file)"],
    ["a character cut off at the end of the file", bytes('{"content":"ok"}\n{"content":"x"}\n{"content":"', [0xe6, 0x97]), "3: Line 3: byte 0xe6 (byte 46 of the file)"],
    ["a UTF-16 file", bytes([0xff, 0xfe], [0x7b, 0x00]), "1: Line 1: the file is UTF-16"],
  ])("refuse %s, naming its line", (_what, input, start) => {
    const message = refused(input);
    expect(message.slice(0, start.length)).toBe(start);
    expect(message).toMatch(/Nothing was imported\.$/);
  });
});
