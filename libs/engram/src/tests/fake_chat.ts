import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

/** A canned reply: text, or a function of the prompt (to answer by what was asked, or to wait). */
export type CannedReply = string | ((messages: BaseMessage[]) => string | Promise<string>);

export interface RecordingChatModelOptions extends BaseChatModelParams {
  /** Replies in order; the last one repeats when the list runs out. */
  replies: CannedReply[];
  /** Milliseconds each call takes (a timer, not busy work). @default 0 */
  delayMs?: number;
  /** Never answer (until aborted): a model stuck mid-call, for crash tests. @default false */
  hang?: boolean;
}

/**
 * A fake chat model for tests: answers with canned text (no tool calls, like a model without tool
 * support) and records every prompt it received, so a test can assert on what reached the model.
 */
export class RecordingChatModel extends BaseChatModel {
  readonly calls: BaseMessage[][] = [];

  private readonly replies: CannedReply[];

  private readonly delayMs: number;

  private readonly hang: boolean;

  constructor(options: RecordingChatModelOptions) {
    super(options);
    this.replies = options.replies;
    this.delayMs = options.delayMs ?? 0;
    this.hang = options.hang ?? false;
  }

  _llmType(): string {
    return "recording-fake";
  }

  /** Every prompt as one string per call (message texts joined), for `toContain` assertions. */
  get prompts(): string[] {
    return this.calls.map((messages) => messages.map((message) => message.text).join("\n"));
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const index = this.calls.length;
    this.calls.push(messages);
    const signal = options.signal;
    if (this.hang || this.delayMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = this.hang ? undefined : setTimeout(resolve, this.delayMs);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new Error("aborted"));
        }, { once: true });
      });
    }
    const canned = this.replies[Math.min(index, this.replies.length - 1)];
    if (canned === undefined) throw new Error("RecordingChatModel has no replies");
    const text = typeof canned === "function" ? await canned(messages) : canned;
    return { generations: [{ text, message: new AIMessage(text) }] };
  }
}

/** Scripts for {@link factModel}: replies to extraction prompts and to reconciliation prompts, in order. */
export interface FactScript {
  extract: CannedReply[];
  reconcile?: CannedReply[];
}

/** Which memory prompt a call was: fact extraction or reconciliation. */
export function promptKind(messages: BaseMessage[]): "extract" | "reconcile" | "other" {
  const system = messages[0]?.text ?? "";
  if (system.startsWith("You extract durable facts")) return "extract";
  if (system.startsWith("You keep a user's memory of facts")) return "reconcile";
  return "other";
}

/**
 * A recording fake for fact extraction: extraction prompts get the next `extract` reply,
 * reconciliation prompts the next `reconcile` reply (the last one repeats). Retries within one
 * step take the next reply of that step's list.
 */
export function factModel(script: FactScript, options: Omit<RecordingChatModelOptions, "replies"> = {}): RecordingChatModel {
  const used = { extract: 0, reconcile: 0 };
  return new RecordingChatModel({
    ...options,
    replies: [
      (messages) => {
        const kind = promptKind(messages);
        if (kind === "other") throw new Error("factModel got a prompt that is neither extraction nor reconciliation");
        const list = kind === "extract" ? script.extract : script.reconcile ?? [];
        const reply = list[Math.min(used[kind], list.length - 1)];
        used[kind] += 1;
        if (reply === undefined) throw new Error(`factModel has no ${kind} reply`);
        return typeof reply === "function" ? reply(messages) : reply;
      },
    ],
  });
}
