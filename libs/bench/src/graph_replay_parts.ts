/**
 * The moving parts of the graph replay benchmark (src/graph_replay.ts): the scripted model that
 * stands in for an LLM, the timer of the graph's nodes, and the embeddings of the replays.
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type { Serialized } from "@langchain/core/load/serializable";
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

/** The graph's nodes, as `createMemoryGraph` names them. */
export const NODES = ["recall", "model", "score", "remember", "consolidate"] as const;
export type NodeName = (typeof NODES)[number];

/**
 * Times each node of one graph run from LangGraph's callbacks: a node is a chain run whose parent
 * is the graph's own run and whose name is a node's. Handlers are awaited (`awaitHandlers`), so
 * the clock is read when the node starts and ends, not when a background queue gets to it.
 */
export class NodeTimer extends BaseCallbackHandler {
  name = "graph-replay-node-timer";

  override awaitHandlers = true;

  private graphRun: string | undefined;

  private readonly started = new Map<string, { node: NodeName; at: number; cpu: NodeJS.CpuUsage }>();

  /** Milliseconds per node in the current run (a node that did not run is absent). */
  times: Partial<Record<NodeName, number>> = {};

  /** CPU milliseconds of this process (user + system, all its threads) per node in the current run. */
  cpu: Partial<Record<NodeName, number>> = {};

  /** Call before each run. */
  reset(): void {
    this.graphRun = undefined;
    this.started.clear();
    this.times = {};
    this.cpu = {};
  }

  override handleChainStart(
    _chain: Serialized,
    _inputs: unknown,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): void {
    const at = performance.now();
    if (parentRunId === undefined) {
      this.graphRun = runId;
      return;
    }
    if (parentRunId === this.graphRun && runName !== undefined && (NODES as readonly string[]).includes(runName)) {
      this.started.set(runId, { node: runName as NodeName, at, cpu: process.cpuUsage() });
    }
  }

  override handleChainEnd(_outputs: unknown, runId: string): void {
    const start = this.started.get(runId);
    if (!start) return;
    this.started.delete(runId);
    this.times[start.node] = (this.times[start.node] ?? 0) + performance.now() - start.at;
    const cpu = process.cpuUsage(start.cpu);
    this.cpu[start.node] = (this.cpu[start.node] ?? 0) + (cpu.user + cpu.system) / 1000;
  }

  override handleChainError(_error: unknown, runId: string): void {
    this.started.delete(runId);
  }
}

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
