import { describe, expect, it } from "@jest/globals";
import { LexicalIndex } from "./lexical_index.js";
import { tokenize } from "./tokenize.js";

describe("tokenize", () => {
  it("drops accents, so a name typed without them matches", () => {
    expect(tokenize("Zoë's café in München")).toEqual(tokenize("Zoe cafe Munchen"));
    expect(tokenize("José")).toEqual(["jose"]);
  });

  it("keeps letters of every script: Cyrillic, Greek, Arabic words whole", () => {
    expect(tokenize("Моя сестра живёт в Москве")).toEqual(["моя", "сестра", "живет", "в", "москве"]);
    expect(tokenize("Η Αθήνα")).toEqual(["η", "αθηνα"]);
    expect(tokenize("مرحبا بالعالم")).toEqual(["مرحبا", "بالعالم"]);
  });

  it("cuts Chinese and Japanese, written without spaces, into pairs of neighbouring characters", () => {
    expect(tokenize("我喜欢喝绿茶")).toEqual(["我喜", "喜欢", "欢喝", "喝绿", "绿茶"]);
    expect(tokenize("茶")).toEqual(["茶"]);
    expect(tokenize("東京タワー")).toEqual(["東京", "京タ", "タワ", "ワー"]);
  });

  it("reads English as before: stop words out, Porter stems, digits", () => {
    expect(tokenize("She MOVED to the Berlin office")).toEqual(["move", "berlin", "offic"]);
    expect(tokenize("I take the 7:40 train")).toEqual(["take", "7", "40", "train"]);
    expect(tokenize("🎵 !!! ...")).toEqual([]);
  });
});

describe("LexicalIndex over other scripts", () => {
  it("finds a memory by a word of it in Russian, Chinese, or a name without its accent", () => {
    const index = new LexicalIndex();
    index.upsert([
      { id: "ru", text: "Моя сестра живёт в Москве" },
      { id: "zh", text: "我喜欢喝绿茶" },
      { id: "name", text: "Zoë's birthday is on 12 May" },
      { id: "other", text: "I walked the dog in the park" },
    ]);
    expect(index.query("Москве", 10).map((hit) => hit.id)).toEqual(["ru"]);
    expect(index.query("绿茶", 10).map((hit) => hit.id)).toEqual(["zh"]);
    expect(index.query("Zoe", 10).map((hit) => hit.id)).toEqual(["name"]);
  });
});
