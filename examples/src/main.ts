/**
 * The main job, offline: a short multi-session conversation for two users goes into Engram's
 * embedded default (a local Chroma server in ./.engram and the default embedding model); each
 * user's questions come out with what was recalled, and whether the first memory is the answer;
 * alice's questions never recall bob's memories; and `deleteAll` forgets a user (main_job.ts).
 * Exits with an error when any of these fails.
 */
import { runMainJob } from "./main_job.js";

const { asked, leaks, bobAfterDelete } = await runMainJob();
const wrong = asked.filter((a) => !a.right);
if (leaks.length > 0) throw new Error(`isolation broken: ${leaks.join(", ")}`);
if (bobAfterDelete.memories !== 0 || bobAfterDelete.recalled !== 0) throw new Error("deleteAll left memories behind");
if (wrong.length > 0) throw new Error(`a wrong memory came first for: ${wrong.map((a) => `"${a.question}"`).join(", ")}`);
