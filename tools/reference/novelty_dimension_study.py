#!/usr/bin/env python3
"""Screens per-dimension weights of the 12 s novelty for the segue split score (development aid; numpy,
scipy).

    for each set NAME: novelty_dump REEL rule > DUMPS/NAME/DEVn.tsv, novelty_dump REEL desc > DESC/NAME/DEVn.tsv,
    stemscope analyze REEL -o REPORTS/NAME/DEVn (as for split_score_study.py)
    python3 tools/reference/novelty_dimension_study.py MODE DUMPS DESC REPORTS NAME=REELS ... --disjoint m=/tmp/music-runs2

The novelty test (`novelty::novelty_curve`) is rebuilt from the z-scored descriptors (`desc` dumps):
per dimension j, (mean before - mean after)^2 over the pooled spread, and the novelty is the root of
their mean, so uniform weights reproduce the dump's ratio (checked on every candidate). With weights
w the novelty is sqrt(sum w_j c_j / sum w_j) and a candidate's ratio is over the run's median of that
curve. The candidates stay those of the unweighted curve (a replay: the pipeline would move its local
maxima and its placement too). Each ratio then goes through split_score_study's three-input score,
fitted leaving each reel set out, and on the --disjoint sets fitted on all reel sets.

MODE `weights:LAM` learns nonnegative weights (a logistic fit of the candidates' label on the log of the
weighted novelty, an L2 pull of LAM towards uniform) leaving each reel set out, and on all reel sets for
the disjoint ones; `cross:LAM` learns them on the disjoint sets and scores the reel sets; `groups`
drops one group of descriptor columns at a time (frame statistics, MFCC means, ...). Session 25
(docs/music-cues.md) measured all three and kept nothing.
"""
import glob
import os
import sys

import numpy as np

import split_score_study as sss

HOP, LEN = 0.25, 1.0  # texture hop and window
W, G, MIN_SIDE = 48, 4, 8  # `window_s`, `guard_s`, `min_side_s` in hops
# Column groups of `novelty::Descriptors` (the frame statistics, then the texture shape columns).
GROUPS = dict(frame=(0, 5), mfcc_mean=(5, 24), mfcc_std=(24, 44), dmfcc_std=(44, 64), melgrp_mean=(64, 72),
              melgrp_std=(72, 80), shape=(80, 87), contrast=(87, 94), flux_zcr=(94, 99), dynamics=(99, 103),
              voice=(103, 112), peaky_mod=(112, 115))


def contributions(V, U, start, end):
    """Test times and per-dimension contributions of one run, as `novelty::novelty_curve`."""
    K = len(V)
    a0 = min(int(np.ceil(start / HOP)), K)
    a1 = max(min(int(np.floor((end - LEN) / HOP) + 1), K), a0)
    n = a1 - a0
    X = np.where(U[a0:a1, None], V[a0:a1], 0.0)
    cnt = np.concatenate([[0], np.cumsum(U[a0:a1])])
    s1 = np.vstack([np.zeros(X.shape[1]), np.cumsum(X, 0)])
    s2 = np.vstack([np.zeros(X.shape[1]), np.cumsum(X * X, 0)])
    T, C = [], []
    for i in range(n):
        b0, b1 = max(i - G - W, 0), max(i - G, 0)
        c0, c1 = min(i + G, n), min(i + G + W, n)
        nb, nc = cnt[b1] - cnt[b0], cnt[c1] - cnt[c0]
        if i < G or nb < MIN_SIDE or nc < MIN_SIDE:
            continue
        mb, mc = (s1[b1] - s1[b0]) / nb, (s1[c1] - s1[c0]) / nc
        vb = np.maximum((s2[b1] - s2[b0]) / nb - mb * mb, 0)
        vc = np.maximum((s2[c1] - s2[c0]) / nc - mc * mc, 0)
        C.append((mb - mc) ** 2 / (0.5 * (vb + vc) + 0.1))
        T.append((a0 + i) * HOP + (LEN - HOP) / 2)
    return np.array(T), np.array(C)


def load(dumps, desc, reports, name, reels):
    data = sss.load(dumps, reports, name, reels)
    names = [os.path.basename(os.path.dirname(t)) for t in sorted(glob.glob(f"{reels}/DEV*/truth.json"))]
    for (_, k), r in data.items():
        A = np.loadtxt(f"{desc}/{name}/{names[k]}.tsv", delimiter="\t", ndmin=2)
        V, U = A[:, 2:].astype(float), A[:, 1] > 0.5
        r["curves"] = {}
        for p in r["peaks"]:
            if p["run"] not in r["curves"]:
                r["curves"][p["run"]] = contributions(V, U, *p["run"])
            T, C = r["curves"][p["run"]]
            p["c"] = C[int(np.argmin(abs(T - p["t"])))]
    return data


def ratio(r, p, w):
    nov = np.sqrt(r["curves"][p["run"]][1] @ w / w.sum())
    return np.sqrt(p["c"] @ w / w.sum()) / np.sort(nov)[len(nov) // 2]


def apply(data, names, w):
    for n in names:
        for r in data[n].values():
            for p in r["peaks"]:
                p["ratio"] = ratio(r, p, w)
                p["x"] = sss.features(p)


def learn(data, names, lam, dims):
    from scipy.optimize import minimize
    X, y = [], []
    for n in names:
        for r in data[n].values():
            for p in r["peaks"]:
                C = r["curves"][p["run"]][1]
                X.append(p["c"] / np.sort(C.mean(1))[len(C) // 2])
                y.append(float(p["segue"]))
    X, y = np.array(X), np.array(y)

    def loss(theta):
        w = np.log1p(np.exp(theta[:dims]))
        z = theta[dims] * np.log(X @ w / w.sum() + 1e-9) + theta[dims + 1]
        pr = 1 / (1 + np.exp(-z))
        return -np.mean(y * np.log(pr + 1e-12) + (1 - y) * np.log(1 - pr + 1e-12)) + lam * np.mean((w - 1) ** 2) / 10

    theta0 = np.r_[np.full(dims, np.log(np.e - 1)), 3.0, -3.0]
    return np.log1p(np.exp(minimize(loss, theta0, method="L-BFGS-B", options=dict(maxiter=300)).x[:dims]))


def score_sets(data, reel_sets, test_sets, w, fit_on=None):
    """Found / false on `test_sets`: each reel set fitted on the others, any other set on `fit_on`."""
    apply(data, list(data), w)
    found = false = 0
    f1s = []
    for s in test_sets:
        rest = fit_on or [n for n in reel_sets if n != s]
        wf, b = sss.fit([r for n in rest for r in data[n].values()])
        f1, fo, fa, _ = sss.measure(data[s].values(), sss.scorer(wf, b))
        found, false = found + fo, false + fa
        f1s.append(f1)
    return found, false, float(np.mean(f1s))


def main():
    args = sys.argv[1:]
    if len(args) < 5:
        print(__doc__)
        sys.exit(2)
    mode, dumps, desc, reports = args[:4]
    sets, disjoint = sss.parse_sets(args[4:])
    data = {n: load(dumps, desc, reports, n, d) for n, d in {**sets, **disjoint}.items()}
    dims = next(p["c"] for r in next(iter(data.values())).values() for p in r["peaks"]).shape[0]
    uniform = np.ones(dims)
    worst = max(abs(ratio(r, p, uniform) / p["ratio"] - 1) for dd in data.values() for r in dd.values()
                for p in r["peaks"])
    print(f"uniform weights reproduce the dumps' ratios within {worst:.1e}")
    reel_sets = list(sets)
    line = "{:34s} reels left out {}/{} (mean cue F1 {:.3f}); disjoint {}/{} (cue F1 {:.3f})"
    base = score_sets(data, reel_sets, reel_sets, uniform), score_sets(data, reel_sets, list(disjoint), uniform, reel_sets)
    print(line.format("uniform", *base[0], *base[1]))
    if mode.startswith("weights:"):
        lam = float(mode.split(":")[1])
        found = false = 0
        f1s = []
        for s in reel_sets:
            w = learn(data, [n for n in reel_sets if n != s], lam, dims)
            fo, fa, f1 = score_sets(data, reel_sets, [s], w)
            found, false = found + fo, false + fa
            f1s.append(f1)
        w = learn(data, reel_sets, lam, dims)
        print(line.format(f"learned, L2 {lam:g}", found, false, np.mean(f1s),
                          *score_sets(data, reel_sets, list(disjoint), w, reel_sets)))
    elif mode.startswith("cross:"):
        w = learn(data, list(disjoint), float(mode.split(":")[1]), dims)
        print(line.format("learned on the disjoint sets", *score_sets(data, reel_sets, reel_sets, w),
                          *score_sets(data, reel_sets, list(disjoint), w, reel_sets)))
    elif mode == "groups":
        for g, (a, b) in GROUPS.items():
            w = uniform.copy()
            w[a:b] = 0.0
            print(line.format(f"without {g}", *score_sets(data, reel_sets, reel_sets, w),
                              *score_sets(data, reel_sets, list(disjoint), w, reel_sets)))
    else:
        sys.exit(f"unknown mode {mode}: weights:LAM, cross:LAM or groups")


if __name__ == "__main__":
    main()
