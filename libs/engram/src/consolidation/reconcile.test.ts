import { describe, expect, it } from "@jest/globals";
import { isEngramError } from "../core/errors.js";
import { RecordingChatModel } from "../tests/fake_chat.js";
import { extractFacts } from "./extract.js";
import { reconcileFacts } from "./reconcile.js";

const paris = { id: "3f1c0b1e-aaaa-5bbb-8ccc-000000000001", content: "User lives in Paris" };
const pizza = { id: "3f1c0b1e-aaaa-5bbb-8ccc-000000000002", content: "User likes pizza" };

describe("extractFacts", () => {
  it("sends the exchange to the model and reads its facts, dropping repeats", async () => {
    const model = new RecordingChatModel({
      replies: ['Here you go:\n```json\n{"facts": [{"text": "User lives in Paris", "entities": ["Paris"]}, {"text": "user lives in paris."}]}\n```'],
    });
    const facts = await extractFacts({ model, messages: [{ role: "user", text: "I live in Paris" }, { role: "assistant", text: "Nice!" }], at: Date.UTC(2025, 4, 1) });
    expect(facts).toEqual([{ text: "User lives in Paris", entities: ["Paris"] }]);
    expect(model.prompts[0]).toContain("user: I live in Paris\nassistant: Nice!");
    expect(model.prompts[0]).toContain("Today's date: 2025-05-01");
  });

  it("reads a fact with no named things given as null, as many models write it, without asking again", async () => {
    const model = new RecordingChatModel({ replies: ['{"facts": [{"text": "User has a cat", "entities": null}]}'] });
    const facts = await extractFacts({ model, messages: [{ role: "user", text: "I have a cat" }], at: Date.UTC(2025, 4, 1) });
    expect(facts).toEqual([{ text: "User has a cat", entities: [] }]);
    expect(model.calls).toHaveLength(1);
  });
});

describe("reconcileFacts", () => {
  it("adds without a model call when nothing similar is stored", async () => {
    const model = new RecordingChatModel({ replies: ["unused"] });
    const decisions = await reconcileFacts({ model, facts: [{ text: "User has a cat", neighbours: [] }] });
    expect(decisions).toEqual([{ event: "ADD", fact: 0, text: "User has a cat" }]);
    expect(model.calls).toHaveLength(0);
  });

  it("shows stored facts under short ids only and maps the decisions back to real ids", async () => {
    const model = new RecordingChatModel({
      replies: [
        JSON.stringify({
          decisions: [
            { fact: 0, event: "INVALIDATE", id: "0" },
            { fact: 1, event: "UPDATE", id: 1, text: "User loves pepperoni pizza" },
            { fact: 2, event: "NONE", id: "0" },
            { fact: 3, event: "ADD" },
          ],
        }),
      ],
    });
    const decisions = await reconcileFacts({
      model,
      facts: [
        { text: "User lives in Berlin", neighbours: [paris] },
        { text: "User loves pepperoni pizza", neighbours: [pizza, paris] },
        { text: "User has lived in Paris", neighbours: [paris] },
        { text: "User has a cat", neighbours: [] },
      ],
    });
    expect(decisions).toEqual([
      { event: "INVALIDATE", fact: 0, id: paris.id, text: "User lives in Berlin" },
      { event: "UPDATE", fact: 1, id: pizza.id, text: "User loves pepperoni pizza" },
      { event: "NONE", fact: 2, id: paris.id },
      { event: "ADD", fact: 3, text: "User has a cat" },
    ]);
    const prompt = model.prompts[0]!;
    expect(prompt).toContain('"text": "User lives in Paris"');
    expect(prompt).toContain('"id": "1"');
    expect(prompt).not.toContain(paris.id);
    expect(prompt).not.toContain(pizza.id);
  });

  it("refuses an invented id, asks once more, and gives up with MODEL_OUTPUT_INVALID", async () => {
    const invented = JSON.stringify({ decisions: [{ fact: 0, event: "INVALIDATE", id: "7" }] });
    const model = new RecordingChatModel({ replies: [invented, invented] });
    const error = await reconcileFacts({ model, facts: [{ text: "User lives in Berlin", neighbours: [paris] }] }).catch((e: unknown) => e);
    expect(isEngramError(error, "MODEL_OUTPUT_INVALID")).toBe(true);
    expect(model.calls).toHaveLength(2);
    expect(model.prompts[1]).toContain('must be one of the stored fact ids "0" to "0"');
  });

  it("refuses a batch that changes one stored fact twice, then takes the corrected one", async () => {
    const model = new RecordingChatModel({
      replies: [
        JSON.stringify({ decisions: [{ fact: 0, event: "UPDATE", id: "0", text: "a" }, { fact: 1, event: "INVALIDATE", id: "0" }] }),
        JSON.stringify({ decisions: [{ fact: 0, event: "UPDATE", id: "0", text: "User lives in central Paris" }, { fact: 1, event: "ADD" }] }),
      ],
    });
    const decisions = await reconcileFacts({
      model,
      facts: [
        { text: "User lives in central Paris", neighbours: [paris] },
        { text: "User has a cat", neighbours: [paris] },
      ],
    });
    expect(model.prompts[1]).toContain('stored fact "0" is changed by more than one decision');
    expect(decisions.map((d) => d.event)).toEqual(["UPDATE", "ADD"]);
  });
});
