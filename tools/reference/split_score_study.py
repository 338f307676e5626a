#!/usr/bin/env python3
"""Fits the segue split score of `novelty::change_points` and measures it leaving reel sets out
(development aid; numpy).

    for each set NAME with reels in DIR (build_dev_reels.sh reels, or film_music_runs.py music runs):
        for d in DIR/DEV*/; do target/release/examples/novelty_dump $d rule > DUMPS/NAME/$(basename $d).tsv; done
        for d in DIR/DEV*/; do stemscope analyze $d -o REPORTS/NAME/$(basename $d); done
    python3 tools/reference/split_score_study.py DUMPS REPORTS dev=/tmp/dev-reels b=/tmp/dev-reels-b ... \\
        --disjoint m=/tmp/music-runs

Every local maximum of a run's 12 s novelty curve (`novelty_dump rule`) is a candidate, labelled a
segue when it lies within 3 s of a truth crossfade's middle. A logistic score over three inputs:
  * ln(ratio / required), the novelty ratio over the beat rule's `novelty::required_ratio`,
  * ln(max(d20, 0.02)), the pitch-class distance over 20 s windows,
  * whether the candidate is a peak (tops the curve within 12 s) or a secondary maximum,
is fitted by Newton's method, and its threshold is the one that makes the fewest (false splits -
segues found) on the sets it was fitted on; candidates the same-piece veto removes are left out, as in
the detector. Splits are replayed as the detector takes them (strongest score first, none within 8 s
of another), each run is cut there with the 2 s segue overlap, and cues are matched to the truth as
score.py does (one-to-one, IoU >= 0.5).

It prints, per reel set, cue F1 and (segues found within 3 s / false splits) for the peaks-only
rule (the detector before session 23) and for the score fitted on the other reel sets (leave one set
out); then the score fitted on all reel sets, on the --disjoint sets (music the reels never use);
then that fit as `NoveltyConfig` factors: `key_exponent` = w_key / w_ratio, `peak_factor` =
exp(-(b + w_peak) / w_ratio), `secondary_factor` = exp(-b / w_ratio), b the bias less the threshold.

`--extra COL` (before the sets) adds the natural log of the dump's column COL (0-based; 0 where the
column is -1 or absent) as a fourth input, to screen candidate evidence: session 24 screened the
20 s novelty, `--extra 13` (docs/music-cues.md).
"""
import glob
import os
import sys

import numpy as np

import split_rule_generalisation as generalisation

SPACING = 8.0  # `NoveltyConfig::min_segment_s`
PEAK_RADIUS = 12.0  # `NoveltyConfig::window_s`
EXTRA = None  # a dump column read as a fourth input (`--extra COL`)


def required(p):
    """`novelty::required_ratio` with the shipped beat weight 7.5, pivot 0.875, floor 1.2."""
    if p["beat"] < 0 or min(p["sb"], p["sa"]) < 5.0:
        return 1.5
    return max(1.2, 1.5 + 7.5 * (p["beat"] - 0.875))


def vetoed(p):
    return 0 <= p["near"] < 0.1 or (0 <= p["near"] < 0.15 and 0 <= p["far"] < 0.15)


def features(p):
    far = p["far"] if p["far"] >= 0 else 0.5
    x = [np.log(p["ratio"] / required(p)), np.log(max(far, 0.02)), float(p["radius"] > PEAK_RADIUS)]
    if EXTRA is not None:
        x.append(np.log(p["extra"]) if p["extra"] > 0 else 0.0)
    return x


def load(dumps, reports, name, reels):
    """The reels of one set as `split_rule_generalisation.load` reads them, the vetoed candidates
    left out and each kept one given its features."""
    out = {}
    names = [os.path.basename(os.path.dirname(t)) for t in sorted(glob.glob(f"{reels}/DEV*/truth.json"))]
    for k, (truth, mids, runs, peaks) in enumerate(generalisation.load(dumps, reports, name, reels)):
        if EXTRA is not None:
            rows = [line.split() for line in open(f"{dumps}/{name}/{names[k]}.tsv")]
            peaks = [dict(p, extra=float(r[EXTRA]) if len(r) > EXTRA else -1.0) for p, r in zip(peaks, rows)]
        kept = [dict(p, x=features(p)) for p in peaks if not vetoed(p)]
        out[(name, k)] = dict(truth=truth, mids=mids, runs=runs, peaks=kept)
    return out


def pick(peaks, score):
    """Candidates scoring 0 or over, strongest first, none within SPACING of one kept before."""
    kept = []
    for s, p in sorted(((score(p), p) for p in peaks), key=lambda c: -c[0]):
        if s >= 0 and all(abs(p["t"] - q["t"]) >= SPACING for q in kept):
            kept.append(p)
    return [p["t"] for p in kept]


def measure(reels, score):
    """(cue F1, segues found within 3 s, false splits, segues) over `reels` when `score` picks."""
    fp = fn = n = found = false = segues = 0
    for r in reels:
        picked = pick(r["peaks"], score)
        false_cues, missed_cues = generalisation.cut_and_match(r["truth"], r["runs"], picked)
        fp += false_cues
        fn += missed_cues
        n += len(r["truth"])
        found += sum(1 for m in r["mids"] if any(abs(t - m) <= 3 for t in picked))
        false += sum(1 for t in picked if all(abs(t - m) > 3 for m in r["mids"]))
        segues += len(r["mids"])
    tp = n - fn
    f1 = 2 * tp / (2 * tp + fp + fn) if n else 0.0
    return f1, found, false, segues


def fit(reels, steps=50):
    """Weights (w_ratio, w_key, w_peak) and bias less the fitted threshold."""
    rows = [p for r in reels for p in r["peaks"]]
    X = np.array([p["x"] for p in rows])
    y = np.array([p["segue"] for p in rows], float)
    Z = np.c_[X, np.ones(len(X))]
    w = np.zeros(Z.shape[1])
    ridge = np.diag([1e-3] * X.shape[1] + [0.0])
    for _ in range(steps):
        pr = 1 / (1 + np.exp(-Z @ w))
        grad = Z.T @ (pr - y) / len(y) + ridge @ w
        hess = (Z * (pr * (1 - pr))[:, None]).T @ Z / len(y) + ridge + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    best = None
    for thr in np.linspace(-4, 3, 141):
        res = [measure([r], lambda p: np.dot(w[:-1], p["x"]) + w[-1] - thr) for r in reels]
        err = sum(x[2] - x[1] for x in res)
        if best is None or err < best[0]:
            best = (err, thr)
    return w[:-1], w[-1] - best[1]


def scorer(w, b):
    return lambda p: float(np.dot(w, p["x"]) + b)


def peaks_only(p):
    """The rule before session 23: a peak whose ratio reaches the beat rule's requirement."""
    return np.log(p["ratio"] / required(p)) if p["radius"] > PEAK_RADIUS else -1.0


def parse_sets(args):
    """`NAME=REELS ... [--disjoint NAME=REELS ...]` as two dicts of name -> reel folder, in order."""
    sets, disjoint, target = {}, {}, None
    for a in args:
        if a == "--disjoint":
            target = disjoint
            continue
        name, reels = a.split("=", 1)
        (target if target is not None else sets)[name] = reels
    return sets, disjoint


def main():
    global EXTRA
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--extra":
        EXTRA = int(args[1])
        args = args[2:]
    if len(args) < 3:
        print(__doc__)
        sys.exit(2)
    dumps, reports = args[0], args[1]
    sets, disjoint = parse_sets(args[2:])
    sets = {name: load(dumps, reports, name, reels) for name, reels in sets.items()}
    disjoint = {name: load(dumps, reports, name, reels) for name, reels in disjoint.items()}
    line = "{:10s} cue F1 {:.3f} -> {:.3f}   found/false {}/{} -> {}/{} of {}"
    tot = np.zeros(4)
    for name, reels in sets.items():
        rest = [r for other, rr in sets.items() if other != name for r in rr.values()]
        w, b = fit(rest)
        before = measure(reels.values(), peaks_only)
        after = measure(reels.values(), scorer(w, b))
        tot += [before[1], before[2], after[1], after[2]]
        print(line.format(name, before[0], after[0], before[1], before[2], after[1], after[2], before[3]))
    print("left out, all reel sets: found/false {:.0f}/{:.0f} -> {:.0f}/{:.0f}".format(*tot))
    w, b = fit([r for rr in sets.values() for r in rr.values()])
    for name, reels in disjoint.items():
        before = measure(reels.values(), peaks_only)
        after = measure(reels.values(), scorer(w, b))
        print(line.format(name + " (disjoint)", before[0], after[0], before[1], before[2], after[1], after[2],
                          before[3]))
    print(f"fit on all reel sets: w_ratio {w[0]:.3f} w_key {w[1]:.3f} w_peak {w[2]:.3f} b {b:.3f}" + (f" w_extra {w[3]:.3f}" if len(w) > 3 else ""))
    print(f"key_exponent {w[1] / w[0]:.3f} peak_factor {np.exp(-(b + w[2]) / w[0]):.3f} "
          f"secondary_factor {np.exp(-b / w[0]):.3f}")


if __name__ == "__main__":
    main()
