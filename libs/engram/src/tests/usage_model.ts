import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

/** Words in a text: the fake's token count, so a test can compute the expected usage itself. */
export function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => word !== "").length;
}

/**
 * A fake chat model that reports token usage the way providers do (`usage_metadata` on the
 * AIMessage): input tokens = words of the prompt, output tokens = words of the reply. It records
 * every prompt so the test asserts on what reached the model.
 */
export class UsageChatModel extends BaseChatModel {
  readonly calls: BaseMessage[][] = [];

  constructor(
    private readonly reply: (messages: BaseMessage[]) => string,
    private readonly withUsage = true,
    params: BaseChatModelParams = {},
  ) {
    super(params);
  }

  _llmType(): string {
    return "usage-fake";
  }

  /** The usage the fake reported for call `index`. */
  usageOf(index: number): { input: number; output: number } {
    const messages = this.calls[index]!;
    return { input: wordCount(messages.map((m) => m.text).join("\n")), output: wordCount(this.reply(messages)) };
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.calls.push(messages);
    const text = this.reply(messages);
    const input = wordCount(messages.map((m) => m.text).join("\n"));
    const output = wordCount(text);
    const message = new AIMessage({
      content: text,
      ...(this.withUsage ? { usage_metadata: { input_tokens: input, output_tokens: output, total_tokens: input + output } } : {}),
    });
    return { generations: [{ text, message }] };
  }
}
