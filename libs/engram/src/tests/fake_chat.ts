import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

/** A canned reply: text, or a function of the prompt (to answer by what was asked). */
export type CannedReply = string | ((messages: BaseMessage[]) => string);

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
    const text = typeof canned === "function" ? canned(messages) : canned;
    return { generations: [{ text, message: new AIMessage(text) }] };
  }
}
