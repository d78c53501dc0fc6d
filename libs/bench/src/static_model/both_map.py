"""Both vectors, query side cheap (issue 13): memories keep USE-Lite's vectors (embedded off the
turn's path), the question keeps only its static vector, mapped into USE-Lite's space by a linear
(ridge) map. Writes a second-vector cache for `lab.ts --second`: turns -> USE-Lite's vectors,
questions -> unit(static(q) @ M). lab.ts then mixes (1 - w) x static cosine + w x this cosine,
with w chosen by its cross-validation (w = 0 in the grid).

Where the map is fitted (--fit):
- corpus: the distillation corpus (corpus.ts: package documentation and generated text, never
  LoCoMo), lambda chosen on a held-out tenth of it; the shippable design.
- none: no map, the question's static vector as it is (the table was made of USE-Lite's vectors).
- turns-cv: a diagnostic of what an in-domain map could give at best: for each conversation, the
  map is fitted on the *other four* conversations' turns (their static and USE-Lite vectors, no
  question, no label), so the held-out conversation's questions are mapped by a map that never
  saw it. Not shippable as such (LoCoMo text), but it bounds the approach.

  python3 both_map.py --fit corpus --model /tmp/m9/static-unmapped.bin --corpus /tmp/m9/corpus --texts texts.json \
    --static <the unmapped table's vector cache> --use-lite ../../bench-results/lab-vectors-use-lite.json \
    --out both-corpus.json [--save-map ../../../engram/build-inputs/static-map.f32]
  (docs/embeddings.md, "The map into USE-Lite's space", has the whole sequence)
  (texts.json: `lab.ts --dump-texts texts.json`; corpus: corpus.ts + tokenize.ts output)
"""
import argparse
import json
import sys

import numpy as np

from fit_table import design, load_corpus, load_model, unit


def ridge_map(x, y, lam):
    return np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ y)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fit", choices=["corpus", "turns-cv", "none"], required=True)
    p.add_argument("--model", help="the static table WITHOUT the map (node libs/engram/scripts/build_static_model.mjs --unmapped <file>); --fit corpus needs it")
    p.add_argument("--corpus", help="corpus folder (corpus.ids.i32/offsets.i32 and teacher.f32)")
    p.add_argument("--texts", required=True)
    p.add_argument("--static", required=True)
    p.add_argument("--use-lite", required=True)
    p.add_argument("--lam", type=float, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--memories", choices=["use-lite", "mapped"], default="use-lite",
                   help="the turns' vectors: USE-Lite's own, or their static vector through the same map (a draft)")
    p.add_argument("--save-map", help="writes the fitted map (float32, 512 x 512, row-major)")
    a = p.parse_args()

    texts = json.load(open(a.texts))
    static = dict(json.load(open(a.static)))
    use_lite = dict(json.load(open(a.use_lite)))
    S = lambda ts: unit(np.array([static[t] for t in ts], dtype=np.float64))
    U = lambda ts: unit(np.array([use_lite[t] for t in ts], dtype=np.float64))
    out = {t: use_lite[t] for t in texts["turns"]}
    report = []
    if a.fit == "none":
        q = texts["questions"]
        for t, v in zip(q, S(q)):
            out[t] = v.round(6).tolist()
        report.append(("all", S(q), U(q), S(q)))
    elif a.fit == "corpus":
        if not a.model:
            sys.exit("--fit corpus needs --model <the unmapped table>")
        header, weights, table = load_model(a.model)
        ids, offsets, y = load_corpus(a.corpus)
        x = unit(design(ids, offsets, weights, header["vocabSize"]) @ table)
        n = min(len(x), len(y))
        x, y = x[:n], unit(y[:n])
        held = np.arange(n) % 10 == 0
        lams = [a.lam] if a.lam else [0.01, 0.1, 1, 10]
        best = max(lams, key=lambda lam: float(np.mean(np.sum(unit(x[held] @ ridge_map(x[~held], y[~held], lam)) * y[held], axis=1))))
        m = ridge_map(x, y, best)
        print(f"corpus: {n} texts, lambda {best}", file=sys.stderr)
        if a.save_map:
            m.astype(np.float32).tofile(a.save_map)
        q = texts["questions"]
        mapped = unit(S(q) @ m)
        for t, v in zip(q, mapped):
            out[t] = v.round(6).tolist()
        if a.memories == "mapped":
            turns = texts["turns"]
            for t, v in zip(turns, unit(S(turns) @ m)):
                out[t] = v.round(6).tolist()
            report.append(("turns", unit(S(turns) @ m), U(turns), S(turns)))
        report.append(("all", mapped, U(q), S(q)))
    else:
        for conv in texts["convs"]:
            train = [t for c in texts["convs"] if c["id"] != conv["id"] for t in c["turns"]]
            x, y = S(train), U(train)
            # lambda chosen on every tenth training turn, still inside the four conversations.
            held = np.arange(len(train)) % 10 == 0
            lams = [a.lam] if a.lam else [0.01, 0.1, 1, 10]
            best = max(lams, key=lambda lam: float(np.mean(np.sum(unit(x[held] @ ridge_map(x[~held], y[~held], lam)) * y[held], axis=1))))
            m = ridge_map(x, y, best)
            q = conv["questions"]
            mapped = unit(S(q) @ m)
            for t, v in zip(q, mapped):
                out[t] = v.round(6).tolist()
            report.append((f"{conv['id']} (lambda {best})", mapped, U(q), S(q)))
    for name, mapped, teacher, raw in report:
        print(f"{name}: questions' mean cosine to USE-Lite's own vector {np.mean(np.sum(mapped * teacher, axis=1)):.3f} mapped, "
              f"{np.mean(np.sum(raw * teacher, axis=1)):.3f} unmapped", file=sys.stderr)
    json.dump(list(out.items()), open(a.out, "w"))


if __name__ == "__main__":
    main()
