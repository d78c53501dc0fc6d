"""Model2Vec's recipe details on the static table (issue 13), as lab.ts vector caches: every
LoCoMo dev text (questions and turns) encoded with a variant of the shipped table or its weights,
then `lab.ts --model static --vectors <cache> --variants final` cross-validates the ranker on it.
Nothing here is fitted on LoCoMo: the variants use the table and the vocabulary's ranks only.

  node --import tsx src/static_model/tokenize.ts alltexts.json /tmp/m8/locomo   # texts of lab.ts --dump-texts
  python3 recipe.py --texts alltexts.json --ids /tmp/m8/locomo --variant pca256 --out cache.json

Variants:
- shipped: the table as shipped (a check: must equal StaticEmbeddings' vectors).
- pcaK: the table's rows (centered on their plain mean, as Model2Vec's PCA does) projected on
  their top K principal directions, then the SIF-weighted mean as shipped.
- unit: each centered piece vector scaled to unit length before the weighted mean.
- zipflog: weight log(1 + rank) instead of SIF (Model2Vec's earlier "apply_zipf").
- sifsqrt: the square root of SIF's weight (a softer down-weighting of frequent pieces).
- unit-pcaK: both.
- smoothK-A: each piece's vector moved towards the mean of its K nearest pieces (cosine of the
  centered vectors, among pieces with a weight): v + A x mean(neighbours), "retrofitting" the
  table towards its own neighbourhoods, so that a text's vector reads less like its exact pieces.
"""
import argparse
import json
import re
import sys

import numpy as np

from fit_table import design, load_ids, load_model, unit


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="../../../engram/models/static-use-lite.bin")
    p.add_argument("--texts", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--variant", required=True)
    p.add_argument("--check", help="a lab.ts cache of the shipped model, to compare the 'shipped' variant against")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    header, weights, table = load_model(a.model)
    vocab = header["vocabSize"]
    texts = json.load(open(a.texts))
    ids, offsets = load_ids(a.ids)
    assert len(offsets) - 1 == len(texts)
    v = a.variant
    w = weights.copy()
    if "zipflog" in v:
        # Rank 1 = the most frequent piece: SIF's weight grows with rank, so sort by it.
        rank = np.empty(vocab)
        rank[np.argsort(weights, kind="stable")] = np.arange(1, vocab + 1)
        w = np.where(weights > 0, np.log1p(rank), 0)
    if "sifsqrt" in v:
        w = np.sqrt(weights)
    if "unit" in v:
        table = unit(table)
    sm = re.search(r"smooth(\d+)-([0-9.]+)", v)
    if sm:
        k, alpha = int(sm.group(1)), float(sm.group(2))
        u = unit(table)
        live = np.where(weights > 0)[0]
        smoothed = table.copy()
        for start in range(0, len(live), 1024):
            rows = live[start:start + 1024]
            sims = u[rows] @ u[live].T
            sims[np.arange(len(rows)), start + np.arange(len(rows))] = -np.inf
            nn = np.argpartition(-sims, k, axis=1)[:, :k]
            smoothed[rows] = table[rows] + alpha * table[live[nn]].mean(axis=1)
        table = smoothed
    m = re.search(r"pca(\d+)", v)
    if m:
        k = int(m.group(1))
        rows = table[weights > 0]
        mu = rows.mean(axis=0)
        _, s, vt = np.linalg.svd(rows - mu, full_matrices=False)
        table = (table - mu) @ vt[:k].T
        print(f"pca {k}: {100 * np.sum(s[:k] ** 2) / np.sum(s ** 2):.1f}% of the variance kept", file=sys.stderr)
    vec = unit(design(ids, offsets, w, vocab) @ table)
    if a.check:
        cache = dict(json.load(open(a.check)))
        ref = unit(np.array([cache[t] for t in texts]))
        print(f"check against {a.check}: min cosine {np.min(np.sum(ref * vec, axis=1)):.5f}", file=sys.stderr)
    json.dump([[t, x.round(6).tolist()] for t, x in zip(texts, vec)], open(a.out, "w"))
    print(f"wrote {a.out}: {vec.shape}", file=sys.stderr)


if __name__ == "__main__":
    main()
