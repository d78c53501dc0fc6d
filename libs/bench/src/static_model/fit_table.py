"""Variants of the static model's table (issue 13), fitted on the distillation corpus only
(`corpus.ts`: node_modules READMEs, /usr/share/doc, generated word sequences; never LoCoMo).

  python3 fit_table.py --model <static-use-lite.bin> --corpus <dir> --variant fit --lam 1 --out <table.npy>

Variants (each is a new table of piece vectors; the encoder stays the SIF-weighted mean, then L2):
- orig:    the shipped table (each piece embedded alone by USE-Lite).
- center:  the corpus mean of the texts' weighted means subtracted from every piece vector. The
           encoder is linear before its L2 step, so this is exactly "subtract the mean sentence
           vector": it removes the direction that crowds the original's cosines into 0.77-0.91.
- fit:     tokenlearn's idea by ridge regression: pieces' vectors W minimizing
           ||X W - Y||^2 + lam * ||W - W0||^2 over the corpus, X[i, t] = the SIF weight share of
           piece t in text i, Y = the teacher's (USE-Lite's) unit sentence vectors, W0 the
           original table (pieces never seen keep it). lam is chosen on a held-out tenth of the
           corpus (mean cosine to the teacher), never on LoCoMo.
--pca k keeps the top k principal directions of the corpus' sentence vectors (after centering),
for a smaller table.
"""
import argparse
import json
import struct
import sys

import numpy as np
import scipy.sparse as sp


def load_model(path):
    raw = open(path, "rb").read()
    assert raw[:8] == b"ENGRAMS1"
    n = struct.unpack("<I", raw[8:12])[0]
    header = json.loads(raw[12:12 + n].decode("utf8"))
    start = 12 + n + ((4 - ((12 + n) % 4)) % 4)
    v, d = header["vocabSize"], header["dimensions"]
    weights = np.frombuffer(raw, dtype="<f4", count=v, offset=start).astype(np.float64)
    vectors = np.frombuffer(raw, dtype="<f2", count=v * d, offset=start + 4 * v).astype(np.float64).reshape(v, d)
    return header, weights, vectors


def load_ids(prefix):
    ids = np.fromfile(prefix + ".ids.i32", dtype="<i4")
    offsets = np.fromfile(prefix + ".offsets.i32", dtype="<i4")
    return ids, offsets


def load_corpus(folder):
    """A distillation corpus (corpus.ts, then tokenize.ts): its texts' piece ids and offsets, and USE-Lite's vector of each."""
    ids, offsets = load_ids(folder + "/corpus")
    teacher = np.fromfile(folder + "/teacher.f32", dtype="<f4").astype(np.float64).reshape(-1, 512)
    return ids, offsets, teacher


def design(ids, offsets, weights, vocab):
    """X[i, t]: weight share of piece t in text i (rows sum to 1 when the text has weight)."""
    rows = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    w = weights[ids]
    x = sp.csr_matrix((w, (rows, ids)), shape=(len(offsets) - 1, vocab))
    totals = np.asarray(x.sum(axis=1)).ravel()
    totals[totals == 0] = 1
    return sp.diags(1 / totals) @ x


def unit(m):
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return m / norms


def mean_cos(a, b):
    return float(np.mean(np.sum(unit(a) * unit(b), axis=1)))


def ridge(x, y, w0, lam):
    gram = (x.T @ x).toarray()
    rhs = x.T @ y + lam * w0
    gram[np.diag_indices_from(gram)] += lam
    return np.linalg.solve(gram, rhs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--variant", choices=["orig", "center", "fit"], required=True)
    p.add_argument("--lam", default="auto")
    p.add_argument("--center-teacher", action="store_true", help="fit: targets are the teacher's vectors minus their corpus mean (for a centered table)")
    p.add_argument("--center-after", action="store_true", help="fit: also center the fitted table on the corpus")
    p.add_argument("--pca", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    header, weights, w0 = load_model(a.model)
    vocab = header["vocabSize"]
    ids, offsets, teacher = load_corpus(a.corpus)
    x = design(ids, offsets, weights, vocab)
    n = x.shape[0]
    n = min(n, teacher.shape[0])
    x, teacher = x[:n], teacher[:n]
    if a.center_teacher:
        teacher = teacher - teacher.mean(axis=0)
    print(f"corpus: {n} texts, {len(ids)} pieces, {int((np.asarray(x.sum(axis=0)).ravel() > 0).sum())} distinct pieces", file=sys.stderr)
    print(f"orig: mean cosine to teacher {mean_cos(x @ w0, teacher):.4f}", file=sys.stderr)

    table = w0
    if a.variant == "center":
        table = w0 - (x @ w0).mean(axis=0)
    elif a.variant == "fit":
        # Every tenth text held out to choose lam; the final fit uses every text.
        held = np.arange(n) % 10 == 0
        xt, yt, xh, yh = x[~held], teacher[~held], x[held], teacher[held]
        lams = [0.01, 0.03, 0.1, 0.3, 1.0] if a.lam == "auto" else [float(a.lam)]
        best = None
        for lam in lams:
            score = mean_cos(xh @ ridge(xt, yt, w0, lam), yh)
            print(f"lam {lam}: held-out mean cosine to teacher {score:.4f}", file=sys.stderr)
            if best is None or score > best[1]:
                best = (lam, score)
        print(f"lam chosen: {best[0]}", file=sys.stderr)
        table = ridge(x, teacher, w0, best[0])
        print(f"fit (all): mean cosine to teacher {mean_cos(x @ table, teacher):.4f}", file=sys.stderr)
        if a.center_after:
            table = table - (x @ table).mean(axis=0)
    if a.pca:
        sent = x @ table
        mu = sent.mean(axis=0)
        _, _, vt = np.linalg.svd(sent - mu, full_matrices=False)
        table = (table - mu) @ vt[: a.pca].T
    np.save(a.out, table.astype(np.float32))
    print(f"wrote {a.out}: {table.shape}", file=sys.stderr)


if __name__ == "__main__":
    main()
