import { describe, expect, it } from "@jest/globals";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { isEngramError } from "../core/errors.js";
import { withCurrentNames } from "./options.js";

describe("Memory's option names: one name per thing, the old names still accepted", () => {
  it("extractionModel and recallIndex reach the parts under the names they read; the deprecated names still work", () => {
    const model = new FakeListChatModel({ responses: ["{}"] });
    const index = { maxRecords: 10 };
    expect(withCurrentNames({ extractionModel: model, recallIndex: index })).toMatchObject({ model, recallCache: index });
    expect(withCurrentNames({ model, recallCache: index })).toMatchObject({ model, recallCache: index });
    expect(withCurrentNames({ extractionModel: model, model })).toMatchObject({ model });
    expect(withCurrentNames({})).toEqual({});
  });

  it("two different values under the new and the old name are refused", () => {
    const one = new FakeListChatModel({ responses: ["{}"] });
    const two = new FakeListChatModel({ responses: ["{}"] });
    for (const options of [{ extractionModel: one, model: two }, { recallIndex: { maxRecords: 1 }, recallCache: { maxRecords: 2 } }]) {
      let code: string | undefined;
      try {
        withCurrentNames(options);
      } catch (error) {
        code = isEngramError(error) ? error.code : "other";
      }
      expect(code).toBe("INVALID_OPTIONS");
    }
  });
});
