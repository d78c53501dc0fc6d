/**
 * `EngramRetriever`: a user's memories as LangChain Documents, in an LCEL chain and as an agent
 * tool. Quoted by docs/retriever.md and run by retriever.int.test.ts.
 */
import type { DocumentInterface } from "@langchain/core/documents";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import type { Memory } from "engram";
import { EngramRetriever } from "engram/retriever";
import { z } from "zod";

/** One line per memory, with its date: what the model reads. */
function formatMemories(docs: DocumentInterface[]): string {
  return docs.map((d) => `- [${new Date(d.metadata.createdAt).toISOString().slice(0, 10)}] ${d.pageContent}`).join("\n");
}

export function buildRecallChain(memory: Memory, model: BaseChatModel) {
  const retriever = new EngramRetriever({
    memory,
    k: 4, // at most 4 memories
    maxTokens: 300, // and at most 300 tokens of them
    dedupeThreshold: 0.75, // drop a memory that repeats a better one
    ranker: { recency: 0.1 }, // this chain leans a little more on recent memories
  });
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You are a helpful assistant. What you remember about the user:\n{memories}"],
    ["human", "{question}"],
  ]);
  return RunnableSequence.from([
    { memories: retriever.pipe(formatMemories), question: new RunnablePassthrough() },
    prompt,
    model,
    new StringOutputParser(),
  ]);
}

/** The same retriever as a tool an agent calls when it decides to; the run's config names the user. */
export function recallTool(memory: Memory) {
  const retriever = new EngramRetriever({ memory, k: 3 });
  return tool(async ({ query }, config) => formatMemories(await retriever.invoke(query, config)) || "Nothing remembered about that.", {
    name: "recall",
    description: "Look up what you remember about the user, by meaning.",
    schema: z.object({ query: z.string().min(1).describe("What to look for.") }),
  });
}
