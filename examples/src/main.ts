/**
 * The main job, offline: a short multi-session conversation for two users goes into Engram's
 * embedded default (a local Chroma server in ./.engram and the default embedding model, USE-Lite,
 * in worker threads); each user's
 * questions come out with what was recalled; alice's questions never recall bob's memories; and
 * `deleteAll` forgets a user.
 */
import { readFile } from "node:fs/promises";
import { Memory, type ScoredMemory } from "engram";

interface Fixture {
  users: Array<{
    userId: string;
    sessions: Array<{ threadId: string; date: string; messages: Array<{ role: string; content: string }> }>;
    questions: string[];
  }>;
}

const fixture = JSON.parse(await readFile(new URL("./fixtures/conversations.json", import.meta.url), "utf8")) as Fixture;
const memory = new Memory(); // embedded default: nothing to configure, nothing downloaded

const show = (hit: ScoredMemory) => `    ${hit.score.toFixed(2)}  [${hit.scope.userId}/${hit.scope.threadId}] ${hit.content}`;

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
    console.log(`Stored ${stored} messages of ${user.sessions.length} sessions for ${user.userId}.`);
  }

  const leaks: string[] = [];
  for (const user of fixture.users) {
    console.log(`\n${user.userId} asks:`);
    for (const question of user.questions) {
      const hits = await memory.search(question, { userId: user.userId, limit: 3 });
      console.log(`  ${question}`);
      hits.forEach((hit) => console.log(show(hit)));
      leaks.push(...hits.filter((hit) => hit.scope.userId !== user.userId).map((hit) => hit.id));
    }
  }
  console.log(`\nRecalled memories of another user: ${leaks.length}`);
  if (leaks.length > 0) throw new Error(`isolation broken: ${leaks.join(", ")}`);

  const before = (await memory.getAll({ userId: "bob" })).length;
  const removed = await memory.deleteAll({ userId: "bob" });
  const after = (await memory.getAll({ userId: "bob" })).length;
  const stillThere = (await memory.getAll({ userId: "alice" })).length;
  console.log(
    `deleteAll(bob): ${before} memories before, removed ${removed.deleted} records and ${removed.history} history entries, ` +
      `${after} left; alice still has ${stillThere}.`,
  );
  const probe = await memory.search("Does he have any pets?", { userId: "bob" });
  console.log(`bob asks again "Does he have any pets?": ${probe.length} memories recalled.`);
  if (after !== 0 || probe.length !== 0) throw new Error("deleteAll left memories behind");
} finally {
  await memory.close();
}
