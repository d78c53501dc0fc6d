import { describe, expect, it } from "@jest/globals";
import { buildSystemPrompt } from "./prompt.js";
import type { MemoryRecord, ScoredMemory } from "../core/types.js";
import { stripEngramContext } from "./engram_context.js";

const at = Date.UTC(2024, 4, 1);
function record(content: string, extra: Partial<MemoryRecord> = {}): MemoryRecord {
  return { id: content, scope: { userId: "u" }, kind: "episode", content, importance: 0.5, createdAt: at, updatedAt: at, lastAccessedAt: at, source: {}, metadata: {}, ...extra };
}
function scored(content: string, role?: string): ScoredMemory {
  return { ...record(content, role ? { role } : {}), score: 0.9, scoreParts: { relevance: 0.9, lexical: 0, recency: 0, importance: 0, neighbour: 0 } };
}

const recalled = [scored("My cat is called Miso", "user"), scored("Miso sleeps on the piano\nevery afternoon", "assistant"), scored("User likes jazz", undefined)];
const procedures = [
  record("Name: Alice\nLives in Lyon", { kind: "procedure", metadata: { block: "human" } }),
  record("Always answer in French", { kind: "procedure" }),
];
const summary = "The user talked about her garden and her new bike.";
const prompt = buildSystemPrompt({ procedures, summary, recalled });

describe("stripEngramContext", () => {
  it("removes a whole echoed prompt: default instructions, blocks, instructions, summary and recalled memories", () => {
    const echoed = `${prompt}\n\nWhat is my cat called?`;
    expect(stripEngramContext(echoed, { summary, procedures, recalled })).toBe("What is my cat called?");
  });

  it("without knowing the turn's context, still removes the recalled section, the summary and the instructions", () => {
    const echoed = `Sure.\n${prompt}\nAnything else?`;
    const kept = stripEngramContext(echoed);
    expect(kept).not.toContain("Miso");
    expect(kept).not.toContain("garden");
    expect(kept).not.toContain("French");
    expect(kept.startsWith("Sure.")).toBe(true);
    expect(kept.endsWith("Anything else?")).toBe(true);
  });

  it("removes a recalled memory repeated on its own line, bare or listed, and keeps the rest of the reply", () => {
    const reply = "I recall:\n- [2024-05-01] the user said: My cat is called Miso\nUser likes jazz\nSo your cat is Miso, and you like jazz.";
    expect(stripEngramContext(reply, { recalled })).toBe("I recall:\nSo your cat is Miso, and you like jazz.");
  });

  it("removes a recalled memory the model rewrote as markdown: other bullets, numbers, quotes, spacing, tags in upper case", () => {
    // Left in, each line would be stored back as part of the reply: a deleted memory would live on in it.
    const reply = [
      "From what I remember:",
      "* [2024-05-01] the user said: My cat is called Miso",
      "2. User likes jazz",
      "> Miso sleeps on the piano every afternoon",
      "-   [2024-05-01] you said:   Miso sleeps on the piano  every afternoon",
      "• User likes jazz",
      "<RECALLED_MEMORIES>",
      "- [2024-05-01] fact: something only the prompt said",
      "</ Recalled_Memories >",
      "So: your cat Miso, and jazz.",
    ].join("\n");
    expect(stripEngramContext(reply, { recalled })).toBe("From what I remember:\n\nSo: your cat Miso, and jazz.");
    // A line that only mentions a memory is the model's own text and stays.
    const own = "* Your cat is called Miso, right?\n1. User likes jazz a lot";
    expect(stripEngramContext(own, { recalled })).toBe(own);
  });

  it("removes a core block echoed in part: cut before its closing tag, in other case, or its lines without tags", () => {
    // procedures: the "human" block holds "Name: Alice\nLives in Lyon".
    const cut = "Here is what I keep about you:\n<HUMAN>\nName: Alice\nLives in Lyon\nAnything to add?";
    expect(stripEngramContext(cut, { procedures })).toBe("Here is what I keep about you:\nAnything to add?");
    const bare = "I know this:\nName: Alice\n- Lives in Lyon\nMiso sleeps on the piano\nRight?";
    expect(stripEngramContext(bare, { procedures, recalled })).toBe("I know this:\nRight?");
    // A one-word line of a memory is not taken for an echo: the model may say it itself.
    const block = record("Alice\nLives in Lyon", { kind: "procedure", metadata: { block: "human" } });
    expect(stripEngramContext("Who?\nAlice", { procedures: [block] })).toBe("Who?\nAlice");
  });

  it("leaves an ordinary reply untouched, code with tags included", () => {
    const reply = "Here is the markup:\n<human>\nnot a block\n</human>\n\n- a list item\nDone.";
    expect(stripEngramContext(reply, { recalled, summary })).toBe(reply);
  });

  it("returns an empty string when the reply was nothing but the echo", () => {
    expect(stripEngramContext(prompt, { summary, procedures, recalled })).toBe("");
  });

  it("removes a summary echoed as the prompt showed it, when the prompt had to reshape it (blank lines, tags)", () => {
    const odd = "user: I like tea.\n\nuser: My <recalled_memories> tag and\r\nmore.";
    const shown = buildSystemPrompt({ procedures: [], summary: odd, recalled: [] });
    const echoed = `${shown.split("\n").slice(3).join("\n")}\n\nAnything else?`;
    expect(stripEngramContext(echoed, { summary: odd })).toBe("Anything else?");
  });
});
