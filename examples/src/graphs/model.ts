import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { ChatOpenAI } from "@langchain/openai";
import { ScriptedChatModel } from "./scripted_model.js";

/**
 * The examples' chat model, from the environment:
 * - `OPENAI_API_KEY` and/or `ENGRAM_MODEL` set: `ChatOpenAI` with model `ENGRAM_MODEL`
 *   (default "gpt-4o-mini"); `OPENAI_BASE_URL` points it at any OpenAI-compatible server, such as
 *   a local Ollama (`OPENAI_BASE_URL=http://localhost:11434/v1 ENGRAM_MODEL=llama3.2`).
 * - neither set: the plainly labelled `ScriptedChatModel`, so everything runs offline.
 */
export function exampleModel(env: NodeJS.ProcessEnv = process.env): BaseChatModel {
  const apiKey = env.OPENAI_API_KEY;
  const model = env.ENGRAM_MODEL;
  if (!apiKey && !model) return new ScriptedChatModel({});
  return new ChatOpenAI({
    model: model ?? "gpt-4o-mini",
    // Local OpenAI-compatible servers ignore the key, but the client insists on one.
    apiKey: apiKey ?? "not-needed",
    configuration: env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : undefined,
  });
}
