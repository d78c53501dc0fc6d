/**
 * Type-level checks: this file passes only if `tsc` rejects each line marked `@ts-expect-error`
 * (an unused directive is itself an error), and accepts the others. The tests below only make
 * Jest load it; the checks are tsc's (.ci/test.mjs type-checks before Jest runs).
 */
import { expect, it } from "@jest/globals";
import { Annotation, MessagesAnnotation, MessagesValue, StateGraph, StateSchema } from "@langchain/langgraph";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import { createRecallNode } from "./nodes/recall.js";
import { createScoreNode } from "./nodes/score.js";
import { createConsolidateNode } from "./nodes/consolidate.js";
import { EngramAnnotation, engramStateFields, MemoryState } from "./state.js";
import type { GraphMemory } from "./types.js";

function typeChecks(memory: GraphMemory) {
  const score = createScoreNode({ scorer: new HeuristicImportanceScorer() });
  const recall = createRecallNode({ memory });
  const consolidate = createConsolidateNode({ memory });

  // A state without Engram's channels is rejected where LangGraph checks a node against the state.
  // @ts-expect-error MessagesAnnotation has no `recalled`, `importance`
  new StateGraph(MessagesAnnotation).addNode({ score });
  // @ts-expect-error MessagesAnnotation has no `recalled`, `procedures`
  new StateGraph(MessagesAnnotation).addSequence({ recall });
  // @ts-expect-error a plain messages state has no `summary`, `turnsSinceForget`
  void consolidate({ messages: [] });

  // With Engram's channels merged in, the same lines compile.
  new StateGraph(Annotation.Root({ ...MessagesAnnotation.spec, ...EngramAnnotation.spec })).addNode({ score, recall, consolidate });
  new StateGraph(new StateSchema({ messages: MessagesValue, ...engramStateFields })).addSequence({ recall, score });
  new StateGraph(MemoryState).addNode({ score, recall, consolidate });
  void consolidate({ messages: [], summary: "", turnsSinceForget: 0 });
}

it("type-level checks compile (see tsc)", () => {
  expect(typeof typeChecks).toBe("function");
});
