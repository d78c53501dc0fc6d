"""Recovers the center that static_build.ts subtracted from the shipped table (the expected
sentence vector c): every piece's vector was a unit vector v before centering, so the centered
u = v - c satisfies |u + c|^2 = 1, i.e. 2 u.c + |c|^2 = 1 - |u|^2 for all 7,994 pieces: a linear
least-squares problem in (c, |c|^2). Exact up to float16 (the recovered |u + c| are 1 +- 2e-5).
Used by vocab_ext.ts to center rows it adds the same way.

  python3 center.py --model ../../../engram/models/static-use-lite.bin --out ../../bench-results/static-center.json
"""
import argparse
import json

import numpy as np

from fit_table import load_model

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--out", required=True)
a = p.parse_args()
_, _, u = load_model(a.model)
u = u[6:]  # control symbols have no vector of their own
A = np.hstack([2 * u, np.ones((len(u), 1))])
x, *_ = np.linalg.lstsq(A, 1 - np.sum(u * u, axis=1), rcond=None)
c = x[:-1]
print(f"|c|^2 {c @ c:.4f} (fitted {x[-1]:.4f}); |u + c| p1/p50/p99 {np.percentile(np.linalg.norm(u + c, axis=1), [1, 50, 99])}")
json.dump(c.tolist(), open(a.out, "w"))
