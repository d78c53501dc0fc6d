/**
 * The moving parts of the graph replay benchmark (src/graph_replay.ts): the scripted model that
 * stands in for an LLM, the timer of the graph's nodes, and the embeddings of the replays.
 */
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { performance } from "node:perf_hooks";
import { countTokens } from "engram/working";
import { replyMessageId } from "./graph_replay_metric.js";
import type { TextEmbedder } from "./locomo/embeddings.js";

/** The scripted model's answer to every turn. */
export const SCRIPTED_REPLY = "OK.";

/**
 * A chat model with no LLM: it answers every turn with `SCRIPTED_REPLY` and counts the tokens of
 * the prompt it received (system prompt + messages, `countTokens` of engram). The reply's id is
 * derived from the human message's, so the replay knows which turn a stored reply belongs to.
 */
export class ScriptedModel extends BaseChatModel {
  /** Prompt tokens of the last call. */
  lastPromptTokens = 0;

  /** The messages of the last call (for checks). */
  lastMessages: BaseMessage[] = [];

  constructor() {
    super({});
  }

  _llmType(): string {
    return "scripted-replay";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.lastMessages = messages;
    this.lastPromptTokens = countTokens(messages);
    const human = [...messages].reverse().find((m) => m.getType() === "human");
    const id = typeof human?.id === "string" ? replyMessageId(human.id) : undefined;
    const message = new AIMessage({ content: SCRIPTED_REPLY, ...(id ? { id } : {}) });
    return { generations: [{ text: SCRIPTED_REPLY, message }] };
  }
}

export { NODES, NodeTimer, type NodeName } from "./node_timer.js";

/**
 * The local embeddings of the replays. Every vector is kept by text; whether a call is served
 * from what is kept is a switch. The timed replay runs with it off, so each text is embedded when
 * the graph asks, as in production (recall's query and remember's message are the same text,
 * embedded twice); later replays (other thresholds, questions) turn it on and cost seconds.
 */
export class ReplayEmbeddings implements TextEmbedder {
  private readonly kept = new Map<string, number[]>();

  /** Serve kept vectors (true) or always call the model (false). */
  reuse = false;

  readonly stats = { embedded: 0, reused: 0 };

  /** Milliseconds spent in the model and texts it embedded since the last `resetTurn()`. */
  turn = { modelMs: 0, texts: 0 };

  constructor(private readonly inner: TextEmbedder) {}

  resetTurn(): void {
    this.turn = { modelMs: 0, texts: 0 };
  }

  private async model(texts: string[]): Promise<number[][]> {
    const start = performance.now();
    const vectors = await this.inner.embedDocuments(texts);
    this.turn.modelMs += performance.now() - start;
    this.turn.texts += texts.length;
    this.stats.embedded += texts.length;
    texts.forEach((text, i) => this.kept.set(text, vectors[i]!));
    return vectors;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (!this.reuse) return this.model(texts);
    const missing = [...new Set(texts.filter((text) => !this.kept.has(text)))];
    if (missing.length > 0) await this.model(missing);
    this.stats.reused += texts.length - missing.length;
    return texts.map((text) => this.kept.get(text)!);
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([text]);
    return vector!;
  }
}
