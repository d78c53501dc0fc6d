import { describe, expect, it } from "@jest/globals";
import { factModel, promptKind, type RecordingChatModel } from "../tests/fake_chat.js";
import { testMemories } from "../tests/memories.js";

// `createdAt` is when an exchange was said (docs/memory.md): the records' time, and what
// "yesterday" in it resolves against. A fact learned from it became true then (docs/facts.md:
// `validFrom` is the exchange's time), however long after the exchange is added (an import of
// old conversations, a late session end).
const memories = testMemories();
let suite = 0;

const extracted = (...texts: string[]): string => JSON.stringify({ facts: texts.map((text) => ({ text, entities: [] })) });
const decide = (...decisions: object[]): string => JSON.stringify({ decisions });

const extractionPrompts = (model: RecordingChatModel): string[] =>
  model.calls.filter((messages) => promptKind(messages) === "extract").map((messages) => messages.map((m) => m.text).join("\n"));

function open(model: RecordingChatModel) {
  const name = `said${(suite += 1)}`;
  return memories.open(name, { prefix: name, model, facts: { debounceMs: 60_000 } });
}

describe("facts of an exchange added with createdAt", () => {
  it("add: the extraction's today is the exchange's day, and the fact is valid from its time", async () => {
    const model = factModel({ extract: [extracted("User adopted a cat named Miso on 2023-05-01")] });
    const m = open(model);
    const said = Date.UTC(2023, 4, 2, 9, 30);
    await m.add([{ role: "user", content: "Yesterday I adopted a cat named Miso!" }, { role: "assistant", content: "Congratulations!" }], {
      userId: "uma",
      threadId: "t",
      createdAt: said,
    });
    await m.flush();
    expect(extractionPrompts(model)[0]).toContain("Today's date: 2023-05-02.");
    const [fact] = await m.getAll({ userId: "uma", kind: "fact" });
    expect(fact).toMatchObject({ content: "User adopted a cat named Miso on 2023-05-01", metadata: { validFrom: said } });
  });

  it("addMany: a move imported from an old conversation ends the earlier fact at the move's time, not the import's", async () => {
    const model = factModel({
      extract: [extracted("User lives in Paris"), extracted("User lives in Berlin")],
      reconcile: [decide({ fact: 0, event: "INVALIDATE", id: "0" })],
    });
    const m = open(model);
    const paris = Date.UTC(2022, 0, 10);
    const berlin = Date.UTC(2023, 6, 1);
    await m.addMany([{ content: "I live in Paris", role: "user", createdAt: paris, threadId: "a" }], { userId: "ugo" });
    await m.flush();
    await m.addMany([{ content: "I moved to Berlin", role: "user", createdAt: berlin, threadId: "b" }], { userId: "ugo" });
    await m.flush();
    expect(extractionPrompts(model)).toEqual([expect.stringContaining("Today's date: 2022-01-10."), expect.stringContaining("Today's date: 2023-07-01.")]);
    const all = await m.getAll({ userId: "ugo", kind: "fact", includeInvalid: true });
    const byText = new Map(all.map((fact) => [fact.content, fact]));
    expect(byText.get("User lives in Paris")!.metadata).toMatchObject({ validFrom: paris, validUntil: berlin });
    expect(byText.get("User lives in Berlin")!.metadata).toMatchObject({ validFrom: berlin });
  });
});
