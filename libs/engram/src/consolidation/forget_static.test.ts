import { describe, expect, it } from "@jest/globals";
import type { MemoryRecord } from "../core/types.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { DEFAULT_FORGET_RULES, planForget, type ForgetItem } from "./forget.js";

/**
 * Forgetting with the static model's real vectors (issue 13). Its first table crowded every cosine
 * into 0.77-0.91 and put thousands of unrelated turns of one conversation above forget's 0.95
 * near-duplicate threshold; the centered table must merge only what is the same text.
 */
const DAY = 86_400_000;
const NOW = 1_000 * DAY;

/** A chat between two people, with the small talk that looks alike to a bag of words. */
const CHAT = [
  "Maya: Hey Tom! How was your weekend?",
  "Tom: Pretty good! I went hiking in the mountains with my kids on Saturday.",
  "Maya: That sounds great! Where did you go?",
  "Tom: We did the lake trail near the old mill. The views were amazing.",
  "Maya: I love that trail. I went there last spring with my sister.",
  "Tom: How is your sister doing? Is she still in Lisbon?",
  "Maya: Yes, she moved to Lisbon in March and works at a bakery now.",
  "Tom: That's awesome! I bet the pastries are incredible.",
  "Maya: They are! She sent me a box of custard tarts last week.",
  "Tom: Lucky you. By the way, did you start the pottery class?",
  "Maya: I did, every Tuesday evening. I made a very wobbly bowl.",
  "Tom: Ha, everyone's first bowl is wobbly. Keep at it!",
  "Maya: Thanks, Tom! How's the new job going?",
  "Tom: Busy. We're shipping a mobile app for a hospital in November.",
  "Maya: Wow, that's a big project. Are you leading it?",
  "Tom: I'm leading the backend team, five people, mostly Python.",
  "Maya: Mostly Python with pandas for the data side, I guess?",
  "Tom: Exactly. And a lot of meetings.",
  "Maya: Ugh, meetings. Are you still training for the half marathon?",
  "Tom: Yes, the Lisbon half marathon in October. I run three times a week.",
  "Maya: You could visit my sister while you're there!",
  "Tom: Great idea, I'll ask her for bakery recommendations.",
  "Maya: My cat Miso knocked my plant off the shelf this morning.",
  "Tom: Oh no! Is the plant okay?",
  "Maya: The pot broke but I saved the plant. I'll make it a new pot in class.",
  "Tom: That's a lovely way to use your pottery skills.",
  "Maya: Thanks! Talk to you soon?",
  "Tom: Sure, talk soon! Say hi to Miso for me.",
  "Maya: I will. Bye Tom!",
  "Tom: Bye!",
];

/** Turns of {@link CHAT} stored again, as a chat client or a retry might (case, punctuation). */
const NEAR_COPIES: Array<[index: number, copy: string]> = [
  [19, "Tom: yes, the Lisbon half marathon in October, I run three times a week!"],
  [6, "Maya: yes she moved to Lisbon in March, and works at a bakery now"],
  [15, "Tom: I'm leading the backend team - five people - mostly Python"],
];

function item(id: string, content: string, embedding: number[]): ForgetItem {
  const record: MemoryRecord = {
    id,
    scope: { userId: "u" },
    kind: "episode",
    content,
    importance: 0.5,
    createdAt: NOW - DAY,
    updatedAt: NOW - DAY,
    lastAccessedAt: NOW - DAY,
    source: { messageIds: [id] },
    metadata: {},
  };
  return { record, embedding };
}

describe("forget's near-duplicate merging with StaticEmbeddings, on real text", () => {
  const embeddings = new StaticEmbeddings();

  it("merges no two different turns of a conversation at the default threshold", async () => {
    const vectors = await embeddings.embedDocuments(CHAT);
    const plan = planForget(
      CHAT.map((text, i) => item(`t${i}`, text, vectors[i]!)),
      {},
      NOW,
    );
    expect(DEFAULT_FORGET_RULES.dedupeThreshold).toBe(0.95);
    expect(plan.removals).toEqual([]);
    // The closest pair is the two goodbyes ("Maya: I will. Bye Tom!" / "Tom: Bye!", 0.94): a bag of
    // pieces sees the same names and words. Every other pair is far below.
    const cos = (i: number, j: number) => vectors[i]!.reduce((s, x, d) => s + x * vectors[j]![d]!, 0);
    let others = -1;
    for (let i = 0; i < vectors.length; i += 1) for (let j = i + 1; j < vectors.length; j += 1) if (i < 28) others = Math.max(others, cos(i, j));
    expect(others).toBeLessThan(0.8);
  });

  it("merges a turn stored again with other case and punctuation into its original, and nothing else", async () => {
    const texts = [...CHAT, ...NEAR_COPIES.map(([, copy]) => copy)];
    const vectors = await embeddings.embedDocuments(texts);
    // The originals were accessed last, so forget keeps them and merges the copies into them.
    const items = texts.map((text, i) => item(`t${i}`, text, vectors[i]!));
    items.forEach((it, i) => (it.record.lastAccessedAt = i < CHAT.length ? NOW - DAY / 2 : NOW - DAY));
    const plan = planForget(items, {}, NOW);
    expect(plan.removals.map((r) => [r.record.id, r.reason, r.mergedInto]).sort()).toEqual(
      NEAR_COPIES.map(([index], k) => [`t${CHAT.length + k}`, "dedupe", `t${index}`]).sort(),
    );
  });
});
