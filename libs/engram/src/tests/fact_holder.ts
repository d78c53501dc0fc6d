/** What the fact-holding process (fact_holder_child.ts) and its tests share: its configuration and the scripted model's rules. */

export interface FactHolderConfig {
  dataDir: string;
  chromaUrl: string;
  prefix: string;
  userId: string;
  threadId: string;
  exchange: string;
  /** The model answers once this file exists. */
  release: string;
}

/** The facts a conversation asks to remember ("remember: <text>"): the scripted extraction of both processes. */
export function namedFacts(conversation: string): string[] {
  return [...conversation.matchAll(/remember: ([^\n]+)/g)].map((match) => match[1]!.trim());
}

/** Reconciliation of the scripted models: every new fact is added. */
export function addEveryFact(prompt: string): string {
  const facts = new Set([...prompt.matchAll(/"fact":\s*(\d+)/g)].map((match) => Number(match[1])));
  return JSON.stringify({ decisions: [...facts].map((fact) => ({ fact, event: "ADD" })) });
}
