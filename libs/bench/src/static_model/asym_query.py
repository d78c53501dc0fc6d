"""Asymmetric use of both models (issue 13's "keep both vectors", query side cheap): memories keep
USE-Lite's vectors (embedded off the caller's path), the query gets the static vector mapped into
USE-Lite's space by a ridge map M (512 x 512) fitted on the distillation corpus (corpus.ts: package
documentation and generated text, never LoCoMo; lambda chosen on a held-out tenth of it). Writes a
lab.ts vector cache: turns -> USE-Lite's cached vectors, questions -> unit(static(q) @ M).

  python3 asym_query.py --model ../../../engram/models/static-use-lite.bin --corpus <corpus dir> \
    --static ../../bench-results/lab-vectors-static.json --use-lite ../../bench-results/lab-vectors-use-lite.json \
    --questions questions.json --turns turns.json --out ../../bench-results/lab-vectors-asym.json
  node --import tsx src/locomo/lab.ts --model use-lite --vectors bench-results/lab-vectors-asym.json --name asym --variants final

Measured: the map reaches mean cosine 0.77 with the teacher on held-out corpus sentences but only
0.35 on LoCoMo questions (0.39 for the unmapped static vector), and the held-out R@10 is 71.2.
"""
import argparse
import json

import numpy as np

from fit_table import design, load_corpus, load_model, unit

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--corpus", required=True, help="corpus.ts output: corpus.ids.i32/offsets (tokenize.ts) and teacher.f32")
p.add_argument("--static", required=True)
p.add_argument("--use-lite", required=True)
p.add_argument("--questions", required=True, help="JSON array of the question texts")
p.add_argument("--turns", required=True, help="JSON array of the turn texts")
p.add_argument("--out", required=True)
a = p.parse_args()

header, weights, table = load_model(a.model)
ids, offsets, y = load_corpus(a.corpus)
x = unit(design(ids, offsets, weights, header["vocabSize"]) @ table)
n = min(len(x), len(y))
x, y = x[:n], y[:n]
held = np.arange(n) % 10 == 0
best = None
for lam in [0.01, 0.1, 1, 10]:
    m = np.linalg.solve(x[~held].T @ x[~held] + lam * np.eye(512), x[~held].T @ y[~held])
    score = float(np.mean(np.sum(unit(x[held] @ m) * y[held], axis=1)))
    print(f"lambda {lam}: held-out mean cosine to the teacher {score:.4f}")
    if best is None or score > best[1]:
        best = (lam, score)
m = np.linalg.solve(x.T @ x + best[0] * np.eye(512), x.T @ y)
static = dict(json.load(open(a.static)))
use_lite = dict(json.load(open(a.use_lite)))
questions = json.load(open(a.questions))
out = {t: use_lite[t] for t in json.load(open(a.turns))}
mapped = unit(np.array([static[q] for q in questions]) @ m)
for q, v in zip(questions, mapped):
    out[q] = [round(float(v_), 6) for v_ in v]
teacher_q = unit(np.array([use_lite[q] for q in questions]))
print(f"LoCoMo questions: mean cosine to USE-Lite's own vector {np.mean(np.sum(mapped * teacher_q, axis=1)):.3f} mapped, "
      f"{np.mean(np.sum(unit(np.array([static[q] for q in questions])) * teacher_q, axis=1)):.3f} unmapped")
json.dump(list(out.items()), open(a.out, "w"))
