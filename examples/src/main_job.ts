/**
 * The main job (`npm run main`, src/main.ts), as a function so that main.int.test.ts runs the same
 * code: a short multi-session conversation for two users goes into Engram; each user's questions
 * come out with what was recalled, and whether the first memory is the one that answers; alice's
 * questions never recall bob's memories; and `deleteAll` forgets a user.
 */
import { readFile } from "node:fs/promises";
import { Memory, type MemoryOptions, type ScoredMemory } from "engram";

interface Fixture {
  users: Array<{
    userId: string;
    sessions: Array<{ threadId: string; date: string; messages: Array<{ role: string; content: string }> }>;
    /** `answer`: words of the stored message that answers the question, which should come first. */
    questions: Array<{ question: string; answer: string }>;
  }>;
}

export interface Asked {
  userId: string;
  question: string;
  /** The message that answers it, as the fixture names it. */
  answer: string;
  /** What came back, best first. */
  recalled: Array<{ content: string; role: string | undefined; score: number }>;
  /** Whether the first memory recalled is the answer. */
  right: boolean;
}

export interface MainJobResult {
  asked: Asked[];
  /** Ids of another user's memories recalled for a user's question (none, or isolation broke). */
  leaks: string[];
  /** bob's memories after `deleteAll`, and what his question recalls then (both 0). */
  bobAfterDelete: { memories: number; recalled: number };
}

export async function runMainJob(options: MemoryOptions = {}, log: (line: string) => void = console.log): Promise<MainJobResult> {
  const fixture = JSON.parse(await readFile(new URL("./fixtures/conversations.json", import.meta.url), "utf8")) as Fixture;
  const memory = new Memory(options); // with no options, the embedded default: nothing to configure, nothing downloaded
  const show = (hit: ScoredMemory) => `${hit.score.toFixed(2)}  [${hit.scope.userId}/${hit.scope.threadId}, ${hit.role ?? "no role"}] ${hit.content}`;
  try {
    // A clean slate for the demo users, so every run prints the same story.
    for (const { userId } of fixture.users) await memory.deleteAll({ userId });

    for (const user of fixture.users) {
      let stored = 0;
      for (const session of user.sessions) {
        const result = await memory.add(session.messages, {
          userId: user.userId,
          threadId: session.threadId,
          metadata: { sessionDate: session.date },
        });
        stored += result.results.length;
      }
      log(`Stored ${stored} messages of ${user.sessions.length} sessions for ${user.userId}.`);
    }

    const asked: Asked[] = [];
    const leaks: string[] = [];
    for (const user of fixture.users) {
      log(`\n${user.userId} asks:`);
      for (const { question, answer } of user.questions) {
        const hits = await memory.search(question, { userId: user.userId, limit: 3 });
        const right = hits[0]?.content.includes(answer) ?? false;
        log(`  ${question}  ${right ? "(first memory: the answer)" : `(WRONG: the answer, "${answer}...", is not first)`}`);
        hits.forEach((hit) => log(`    ${show(hit)}`));
        asked.push({ userId: user.userId, question, answer, recalled: hits.map((hit) => ({ content: hit.content, role: hit.role, score: hit.score })), right });
        leaks.push(...hits.filter((hit) => hit.scope.userId !== user.userId).map((hit) => hit.id));
      }
    }
    log(`\nFirst memory is the answer for ${asked.filter((a) => a.right).length} of ${asked.length} questions.`);
    log(`Recalled memories of another user: ${leaks.length}`);

    const before = (await memory.getAll({ userId: "bob" })).length;
    const removed = await memory.deleteAll({ userId: "bob" });
    const after = (await memory.getAll({ userId: "bob" })).length;
    const stillThere = (await memory.getAll({ userId: "alice" })).length;
    log(
      `deleteAll(bob): ${before} memories before, removed ${removed.deleted} records and ${removed.history} history entries, ` +
        `${after} left; alice still has ${stillThere}.`,
    );
    const probe = await memory.search("Does he have any pets?", { userId: "bob" });
    log(`bob asks again "Does he have any pets?": ${probe.length} memories recalled.`);
    return { asked, leaks, bobAfterDelete: { memories: after, recalled: probe.length } };
  } finally {
    await memory.close();
  }
}
