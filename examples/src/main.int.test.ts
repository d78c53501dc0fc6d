import { expect, it } from "@jest/globals";
import { runMainJob } from "./main_job.js";
import { suiteTempDir } from "./tests/temp_dir.js";

const dir = suiteTempDir("engram-main-");

it("the main job: each question's first memory is the user's answer, not the assistant's reply; no leak; bob erased", async () => {
  // The embedded default in a temporary data folder: a real local Chroma server, the default model.
  const lines: string[] = [];
  const { asked, leaks, bobAfterDelete } = await runMainJob({ dataDir: dir.path }, (line) => lines.push(line));
  expect(asked.map((a) => [a.question, a.recalled[0]?.content])).toEqual([
    ["What programming language does she like?", "Mostly Python with pandas. I really prefer Python over R for data work."],
    ["Does she have any pets?", "I adopted a grey cat this weekend, her name is Miso."],
    ["Which race is she training for?", "I signed up for the Lisbon half marathon in October."],
    ["What programming language does he like?", "I'm a backend engineer and I write everything in Go these days."],
    ["Does he have any pets?", "My dog Rex, a border collie, turned five today."],
    ["What instrument is he learning?", "I'm also learning to play the cello, lessons every Thursday."],
  ]);
  expect(asked.every((a) => a.right && a.recalled[0]?.role === "user")).toBe(true);
  expect(lines).toContain("\nFirst memory is the answer for 6 of 6 questions.");
  expect(leaks).toEqual([]);
  expect(bobAfterDelete).toEqual({ memories: 0, recalled: 0 });
});
