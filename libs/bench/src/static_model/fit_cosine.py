"""tokenlearn with a cosine loss (issue 13): the piece vectors W trained so that each corpus text's
SIF-weighted mean of pieces points where USE-Lite's sentence vector points (centered on the
corpus mean, as the shipped table is centered), by full-batch Adam on
mean(1 - cos(X W, Y)) + lam * mean ||W - W0||^2, W0 the shipped table; lam and the step count are
chosen on a held-out tenth of the corpus (never on LoCoMo). Writes a lab.ts vector cache of the
LoCoMo dev texts encoded with the trained table (as recipe.py does).

  python3 fit_cosine.py --corpus /tmp/sd/m --texts alltexts.json --ids /tmp/m8/locomo --out cache.json
"""
import argparse
import json
import sys

import numpy as np

from fit_table import design, load_corpus, load_ids, load_model, unit


def train(x, y, w0, lam, steps, lr=2e-3, held=None):
    w = w0.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    xt = x.T.tocsr()
    history = []
    for step in range(1, steps + 1):
        s = x @ w
        norm = np.linalg.norm(s, axis=1, keepdims=True) + 1e-9
        cos = np.sum(s * y, axis=1, keepdims=True) / norm
        g = -(y / norm - cos * s / norm**2) / len(y)
        grad = xt @ g + 2 * lam * (w - w0) / len(w)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        if held is not None and step % 50 == 0:
            hx, hy = held
            history.append((step, float(np.mean(np.sum(unit(hx @ w) * hy, axis=1)))))
    return w, history


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="../../../engram/models/static-use-lite.bin")
    p.add_argument("--corpus", required=True)
    p.add_argument("--texts", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    header, weights, w0 = load_model(a.model)
    vocab = header["vocabSize"]
    ids, offsets, y = load_corpus(a.corpus)
    x = design(ids, offsets, weights, vocab)
    n = min(x.shape[0], len(y))
    x, y = x[:n], y[:n]
    y = unit(y - y.mean(axis=0))
    held = np.arange(n) % 10 == 0
    base = float(np.mean(np.sum(unit(x[held] @ w0) * y[held], axis=1)))
    print(f"corpus {n} texts; shipped table: held-out mean cosine to the centered teacher {base:.4f}", file=sys.stderr)
    best = None
    for lam in [0.0, 1.0, 10.0]:
        _, hist = train(x[~held], y[~held], w0, lam, a.steps, held=(x[held], y[held]))
        print(f"lam {lam}: {hist}", file=sys.stderr)
        for step, score in hist:
            if best is None or score > best[2]:
                best = (lam, step, score)
    print(f"chosen: lam {best[0]}, {best[1]} steps (held-out {best[2]:.4f})", file=sys.stderr)
    w, _ = train(x, y, w0, best[0], best[1])
    w = w.astype(np.float16).astype(np.float64)
    texts = json.load(open(a.texts))
    lids, loffsets = load_ids(a.ids)
    vec = unit(design(lids, loffsets, weights, vocab) @ w)
    json.dump([[t, row.round(6).tolist()] for t, row in zip(texts, vec)], open(a.out, "w"))
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
