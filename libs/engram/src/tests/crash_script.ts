/**
 * What the crash tests (memory/crash.int.test.ts) and their application process (crash_child.ts)
 * share: the child's configuration, the exchanges it writes and the scripted chat model.
 */
import { factModel } from "./fake_chat.js";

export interface CrashChildConfig {
  dataDir: string;
  chromaUrl: string;
  /** "drain": background writes of messages; "facts": exchanges with fact extraction. */
  mode: "drain" | "facts";
  userId: string;
  /** How many `add` calls at most. */
  count: number;
  /** facts: the extraction of this exchange never answers (the crash comes while it waits). */
  hangAt?: number;
}

/** Exchange i of the crash scenarios: a user message and a reply, with stable message ids. */
export function exchange(i: number): Array<{ id: string; role: string; content: string }> {
  return [
    { id: `u${i}`, role: "user", content: `My plant number ${i} is a fern I keep on shelf ${i % 7}` },
    { id: `a${i}`, role: "assistant", content: `Noted: fern ${i} lives on shelf ${i % 7}.` },
  ];
}

/** The fact the scripted model extracts from exchange i. */
export function factOf(i: number): string {
  return `User keeps fern number ${i} on shelf ${i % 7}`;
}

/**
 * The scripted model: extraction names the fact of every exchange in the prompt (a job may cover
 * several exchanges of a thread); reconciliation adds every new fact.
 */
export function scriptedFactModel(onExtract: (exchanges: number[]) => Promise<void> | void = () => undefined) {
  return factModel({
    extract: [
      async (messages) => {
        const text = messages.map((m) => m.text).join("\n");
        const exchanges = [...text.matchAll(/plant number (\d+)/g)].map((match) => Number(match[1]));
        await onExtract(exchanges);
        return JSON.stringify({ facts: exchanges.map((i) => ({ text: factOf(i), entities: [] })) });
      },
    ],
    reconcile: [
      (messages) => {
        const text = messages.at(-1)?.text ?? "";
        const facts = new Set([...text.matchAll(/"fact":\s*(\d+)/g)].map((match) => Number(match[1])));
        return JSON.stringify({ decisions: [...facts].map((fact) => ({ fact, event: "ADD" })) });
      },
    ],
  });
}

