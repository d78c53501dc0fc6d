import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

/**
 * A fake chat model for tests that keeps every list of messages it was called with, so a test can
 * assert on what reached the model (the system prompt with recalled memories, the window...).
 */
export class RecordingChatModel extends BaseChatModel {
  readonly calls: BaseMessage[][] = [];

  private readonly replyWith: (messages: BaseMessage[], call: number) => string;

  constructor(reply: string | ((messages: BaseMessage[], call: number) => string) = "Noted.") {
    super({});
    this.replyWith = typeof reply === "string" ? () => reply : reply;
  }

  _llmType(): string {
    return "recording-fake";
  }

  /** Agents (`createAgent`) bind their tools to the model; this fake never calls a tool, so it ignores them. */
  override bindTools(): this {
    return this;
  }

  /** The system prompt of the last call. */
  get lastSystem(): string {
    const last = this.calls[this.calls.length - 1] ?? [];
    return last.filter((m) => m.getType() === "system").map((m) => m.text).join("\n");
  }

  /** The non-system messages of the last call, as text. */
  get lastConversation(): string[] {
    const last = this.calls[this.calls.length - 1] ?? [];
    return last.filter((m) => m.getType() !== "system").map((m) => m.text);
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.calls.push([...messages]);
    const text = this.replyWith(messages, this.calls.length - 1);
    return { generations: [{ text, message: new AIMessage(text) }] };
  }
}
