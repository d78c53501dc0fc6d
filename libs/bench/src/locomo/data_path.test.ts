import { describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEV_SAMPLE_IDS, MISSING_DATA_HELP, devConversations, findLocomoData } from "./data_path.js";

describe("LoCoMo data location", () => {
  it("takes the first default place that exists, and none is undefined (a skip)", () => {
    const dir = mkdtempSync(join(tmpdir(), "locomo-path-"));
    try {
      const [a, b, c] = ["a.json", "b.json", "c.json"].map((f) => join(dir, f)) as [string, string, string];
      expect(findLocomoData(undefined, [a, b, c])).toBeUndefined();
      writeFileSync(c, "[]");
      expect(findLocomoData(undefined, [a, b, c])).toBe(c);
      writeFileSync(b, "[]");
      expect(findLocomoData(undefined, [a, b, c])).toBe(b);
      // An explicit path wins over every default, and a missing explicit path is not replaced by one.
      expect(findLocomoData(c, [a, b])).toBe(c);
      expect(findLocomoData(a, [b, c])).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("scores the dev conversations only, whichever file is read", () => {
    const publisherFile = ["conv-26", "conv-44", "conv-30", "conv-47", "conv-41", "conv-42", "conv-43", "conv-48"].map((sampleId) => ({ sampleId }));
    expect(devConversations(publisherFile).map((c) => c.sampleId)).toEqual([...DEV_SAMPLE_IDS]);
    // A file of the format holding none of them (custom data) is kept whole.
    expect(devConversations([{ sampleId: "mine-1" }, { sampleId: "mine-2" }]).map((c) => c.sampleId)).toEqual(["mine-1", "mine-2"]);
  });

  it("tells a user the one command that fetches the data", () => {
    expect(MISSING_DATA_HELP).toMatch(/skipping/);
    expect(MISSING_DATA_HELP).toContain("curl -fL -o libs/bench/data/locomo/locomo10.json");
    expect(MISSING_DATA_HELP).toContain("CC BY-NC 4.0");
  });
});
