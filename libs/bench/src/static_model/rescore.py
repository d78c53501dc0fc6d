"""Re-scores the LoCoMo tune samples (`tune.ts`'s tune-samples.json) with a static table variant:
replaces each turn's `cosStatic` with the cosine under the table (rounded to float16 as shipped),
so `tune.ts --samples <out>` cross-validates the ranker on it. Also prints the cosine spread and
how many turn pairs of each conversation sit above forget's near-duplicate threshold.

  python3 rescore.py --model <bin> --table <npy|orig> --samples tune-samples.json --texts <dir>/locomo --cos cos.json
"""
import argparse
import json
import sys

import numpy as np

from fit_table import design, load_ids, load_model, unit

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--table", required=True)
p.add_argument("--samples", required=True)
p.add_argument("--texts", required=True, help="prefix of tokenize.ts' output for <prefix>.json")
p.add_argument("--out", help="samples file with cosStatic replaced (for tune.ts --samples)")
p.add_argument("--cos", help="just the cosines, one list per sample (for static_cv.ts --variants)")
a = p.parse_args()

header, weights, w0 = load_model(a.model)
table = w0 if a.table == "orig" else np.load(a.table).astype(np.float64)
table = table.astype(np.float16).astype(np.float64)
texts = json.load(open(a.texts + ".json"))
ids, offsets = load_ids(a.texts)
vec = unit(design(ids, offsets, weights, header["vocabSize"]) @ table)
index = {t: i for i, t in enumerate(texts)}
samples = json.load(open(a.samples))
for s in samples:
    q = vec[index[s["query"]]]
    for t in s["turns"]:
        t["cosStatic"] = float(vec[index[t["content"]]] @ q)
if a.out:
    json.dump(samples, open(a.out, "w"))
if a.cos:
    json.dump([[round(t["cosStatic"], 6) for t in s["turns"]] for s in samples], open(a.cos, "w"))

# Cosine spread between turns of one conversation, and pairs above thresholds.
by_conv = {}
for s in samples:
    by_conv.setdefault(s["conv"], set()).update(t["content"] for t in s["turns"])
for conv in sorted(by_conv):
    m = vec[[index[t] for t in sorted(by_conv[conv])]]
    c = m @ m.T
    iu = np.triu_indices(len(m), 1)
    vals = c[iu]
    pct = np.percentile(vals, [5, 50, 95, 99.9])
    print(f"{conv}: {len(vals)} pairs, cos p5/p50/p95/p99.9 {' / '.join(f'{x:.3f}' for x in pct)}, "
          f">0.95: {(vals > 0.95).sum()}, >0.9: {(vals > 0.9).sum()}", file=sys.stderr)
