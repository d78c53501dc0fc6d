/**
 * The LLM-judge path against a local server that speaks OpenAI's chat-completions API (node:http):
 * ChatOpenAI really calls it; the test asserts on what the server received (the retrieved memories
 * reach the reader, the gold and generated answers reach the judge) and on J from its replies.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { judgeAll, judgeConfig, openJudgeModels, parseLabel, scoreJudged, type JudgeItem } from "./judge.js";

interface ChatRequest {
  path: string;
  body: { model: string; temperature?: number; response_format?: { type: string }; messages: Array<{ role: string; content: string }> };
}

/** The fake reader's answers, by question. */
const ANSWERS: Record<string, string> = {
  "When did Caroline go to the LGBTQ support group?": "7 May 2023",
  "What does Melanie like to make?": "Paintings of sunsets",
  "Where did Caroline move from?": "Sweden, four years ago",
};

const ITEMS: JudgeItem[] = [
  {
    question: "When did Caroline go to the LGBTQ support group?",
    gold: "7 May 2023",
    category: 2,
    memories: [
      { time: "1:56 pm on 8 May, 2023", text: "Caroline: I went to a LGBTQ support group yesterday and it was so powerful." },
      { time: "1:56 pm on 8 May, 2023", text: "Melanie: That's great, Caroline!" },
    ],
  },
  {
    question: "What does Melanie like to make?",
    gold: "pottery",
    category: 4,
    memories: [{ time: "7:55 pm on 9 June, 2023", text: "Melanie: I just finished a pottery class, we made our own plates!" }],
  },
  {
    question: "Where did Caroline move from?",
    gold: "Sweden",
    category: 4,
    memories: [{ time: "10:37 am on 27 June, 2023", text: "Caroline: I moved here from Sweden four years ago." }],
  },
];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (data += chunk));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

/** The fake judge: CORRECT when the generated answer contains the gold one (as JSON, or once as prose). */
function judgeReply(prompt: string): string {
  const gold = /^Gold answer: (.*)$/m.exec(prompt)?.[1] ?? "";
  const generated = /^Generated answer: (.*)$/m.exec(prompt)?.[1] ?? "";
  const label = generated.toLowerCase().includes(gold.toLowerCase()) ? "CORRECT" : "WRONG";
  return gold === "Sweden" ? `The place is the same. ${label}` : JSON.stringify({ label });
}

describe("LLM judge (J) over an OpenAI-compatible server", () => {
  let server: Server;
  let baseURL: string;
  const requests: ChatRequest[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((raw) => {
        const body = JSON.parse(raw) as ChatRequest["body"];
        requests.push({ path: req.url ?? "", body });
        const first = body.messages[0]!;
        const content =
          first.role === "system"
            ? (ANSWERS[/Question: (.*)\n/.exec(body.messages[1]!.content)?.[1] ?? ""] ?? "I do not know")
            : judgeReply(first.content);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `chatcmpl-${requests.length}`,
            object: "chat.completion",
            created: 1_700_000_000,
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
            usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });

  afterAll(async () => {
    // The client keeps its connections alive: end them, or the test's process lingers.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("the memories reach the reader, the gold answer reaches the judge, and J counts the judge's labels", async () => {
    const config = judgeConfig({ OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: "test-key" }, "reader-model", "judge-model")!;
    const models = await openJudgeModels(config);
    const judged = await judgeAll(ITEMS, models, { concurrency: 1 });

    expect(requests).toHaveLength(6);
    expect(requests.every((r) => r.path === "/v1/chat/completions")).toBe(true);
    const reads = requests.filter((r) => r.body.model === "reader-model");
    const judgings = requests.filter((r) => r.body.model === "judge-model");
    expect(reads).toHaveLength(3);
    expect(judgings).toHaveLength(3);

    // Each reader prompt holds the question and every retrieved memory with its time, and nothing of the gold answer's.
    ITEMS.forEach((item, i) => {
      const prompt = reads[i]!.body.messages.map((m) => m.content).join("\n");
      expect(prompt).toContain(`Question: ${item.question}`);
      for (const memory of item.memories) expect(prompt).toContain(`[${memory.time}] ${memory.text}`);
      expect(reads[i]!.body.temperature).toBe(0);
    });
    expect(reads[1]!.body.messages[1]!.content).not.toContain("Gold answer");

    // Each judge prompt holds the question, the gold answer and the reader's answer, in JSON mode.
    ITEMS.forEach((item, i) => {
      const prompt = judgings[i]!.body.messages[0]!.content;
      expect(prompt).toContain(`Question: ${item.question}`);
      expect(prompt).toContain(`Gold answer: ${item.gold}`);
      expect(prompt).toContain(`Generated answer: ${ANSWERS[item.question]}`);
      expect(judgings[i]!.body.response_format).toEqual({ type: "json_object" });
      expect(judgings[i]!.body.temperature).toBe(0);
    });

    expect(judged.map((j) => j.answer)).toEqual(ITEMS.map((item) => ANSWERS[item.question]));
    expect(judged.map((j) => j.label)).toEqual(["CORRECT", "WRONG", "CORRECT"]);
    const scores = scoreJudged(ITEMS, judged);
    expect(scores.overall).toEqual({ questions: 3, j: 2 / 3 });
    expect(scores.byCategory[2]).toEqual({ questions: 1, j: 1 });
    expect(scores.byCategory[4]).toEqual({ questions: 2, j: 0.5 });
    expect(scores.byCategory[1]).toEqual({ questions: 0, j: Number.NaN });
    expect(scores.unreadable).toBe(0);
  });
});

describe("judge helpers", () => {
  test("parseLabel reads JSON, a single label word, and refuses both or neither", () => {
    expect(parseLabel('{"label": "CORRECT"}')).toBe("CORRECT");
    expect(parseLabel('Reasoning first. {"label":"wrong"}')).toBe("WRONG");
    expect(parseLabel("Same date in another format: CORRECT")).toBe("CORRECT");
    expect(parseLabel("CORRECT or WRONG, hard to say")).toBeUndefined();
    expect(parseLabel("no idea")).toBeUndefined();
  });

  test("an unreadable judge reply counts as WRONG and is counted", () => {
    const scores = scoreJudged(ITEMS.slice(0, 2), [
      { answer: "7 May 2023", label: "CORRECT" },
      { answer: "pots", label: "WRONG", unreadable: true },
    ]);
    expect(scores.overall.j).toBe(0.5);
    expect(scores.unreadable).toBe(1);
  });

  test("the judge runs only when a model is named, and then needs a server", () => {
    expect(judgeConfig({ OPENAI_BASE_URL: "http://127.0.0.1:1/v1" }, undefined)).toBeUndefined();
    expect(() => judgeConfig({}, "some-model")).toThrow(/OPENAI_BASE_URL/);
    expect(judgeConfig({ OPENAI_BASE_URL: "http://127.0.0.1:1/v1" }, "m")).toEqual({
      baseURL: "http://127.0.0.1:1/v1",
      apiKey: "none",
      model: "m",
      judgeModel: "m",
    });
  });
});
