#!/usr/bin/env python3
"""Does the cue-split rule carry over to music it was not tuned on? (development aid; numpy)

    python3 tools/reference/film_music_runs.py /tmp/stemscope-train /tmp/music-runs
    for each set NAME with reels in DIR:
        for d in DIR/DEV*/; do target/release/examples/novelty_dump $d rule > DUMPS/NAME/$(basename $d).tsv; done
        for d in DIR/DEV*/; do stemscope analyze $d -o REPORTS/NAME/$(basename $d); done
    python3 tools/reference/split_rule_generalisation.py DUMPS REPORTS m=/tmp/music-runs \\
        dev=/tmp/dev-reels c=/tmp/dev-reels-c e=/tmp/dev-reels-e f=/tmp/dev-reels-f [b=... d=...]

The first set named is the disjoint one (music the dev reels never use, film_music_runs.py); the rest
are dev reel sets. From the inputs at each local maximum of the novelty curve (`novelty_dump rule`:
ratio to the run median, beat continuity and strengths, pitch-class distances over 12 and 20 s,
dominance radius; a peak is one whose radius exceeds 12 s) the detector's choice of
change points is replayed (`novelty::change_points`: the required ratio, the same-piece vetoes, the
8 s spacing, strongest first), each audible run (taken from the reports: overlapping cues joined) is
cut there with the 2 s segue overlap, and the cues are matched to the truth as score.py does
(one-to-one, IoU >= 0.5). Per set it prints cue F1 (false / missed cues), segues found within 3 s
and false splits, for:
  * the shipped rule (until session 23; since then `split_score_study.py` measures the split score)
    and variants of its beat weight W and same-key threshold;
  * the required ratio also scaled by the 20 s pitch-class distance, (far / F0) ** -k;
  * secondary peaks (local maxima that a higher point within 12 s outranks, but none within R)
    admitted when they pass the rule with `extra` more ratio;
  * a logistic score over the same inputs, fitted on the disjoint set alone and on it plus the dev
    sets, splitting at the threshold that makes the fewest errors on what it was fitted on.
The replay reproduces score.py's cue counts on the dev reels; the pipeline's cues differ only where
the short-window refinement moves a change point.
"""
import glob, json, os, sys

import numpy as np

from split_rule_study import spaced

PEAK_RADIUS = 12.0  # `NoveltyConfig::window_s`: a peak tops the curve within this either side
SHIPPED = dict(P=1.5, W=7.5, pivot=0.875, MIN=1.2, floor=5.0, same=0.1, key=0.15, k=0.0, F0=0.5)


def iou(a, b):
    i = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    u = max(a[1], b[1]) - min(a[0], b[0])
    return i / u if u > 0 else 0.0


def load(dumps, reports, name, reels):
    out = []
    for tp in sorted(glob.glob(f"{reels}/DEV*/truth.json")):
        reel = os.path.basename(os.path.dirname(tp))
        truth = json.load(open(tp))["cues"]
        mids = [(a["end_s"] + b["start_s"]) / 2 for a, b in zip(truth, truth[1:]) if b["segue_in"]]
        runs = []
        for c in json.load(open(f"{reports}/{name}/{reel}/report.json"))["cues"]:
            if runs and c["start_s"] < runs[-1][1] + 0.5:
                runs[-1][1] = max(runs[-1][1], c["end_s"])
            else:
                runs.append([c["start_s"], c["end_s"]])
        peaks = []
        for line in open(f"{dumps}/{name}/{reel}.tsv"):
            a = [float(x) for x in line.split()]
            peaks.append(dict(run=(a[0], a[1]), t=a[2], ratio=a[3], beat=a[4], sb=a[5], sa=a[6], near=a[7], far=a[8],
                              radius=a[9] if len(a) > 9 else 999.0, segue=any(abs(a[2] - m) <= 3 for m in mids)))
        out.append(([(c["start_s"], c["end_s"]) for c in truth], mids, runs, peaks))
    return out


def required(p, q):
    if q["W"] == 0 or p["beat"] < 0 or min(p["sb"], p["sa"]) < q["floor"]:
        r = q["P"]
    else:
        r = max(q["MIN"], q["P"] + q["W"] * (p["beat"] - q["pivot"]))
    if q["k"] and p["far"] >= 0:
        r *= (max(p["far"], 0.05) / q["F0"]) ** -q["k"]
    return r


def vetoed(p, q):
    return 0 <= p["near"] < q["same"] or (0 <= p["near"] < q["key"] and 0 <= p["far"] < q["key"])


def cut_and_match(truth, runs, picked):
    """(false cues, missed cues) when the audible `runs` are cut at the `picked` change points with
    the 2 s segue overlap and matched to the `truth` cues as score.py does (one-to-one, IoU >= 0.5)."""
    cues = []
    for a, b in runs:
        s = a
        for t in sorted(t for t in picked if a < t < b):
            cues.append((s, t + 1.0))
            s = t - 1.0
        cues.append((s, b))
    pairs = sorted(((iou(x, y), i, j) for i, x in enumerate(truth) for j, y in enumerate(cues)), reverse=True)
    ut, ur = set(), set()
    for v, i, j in pairs:
        if v < 0.5:
            break
        if i not in ut and j not in ur:
            ut.add(i)
            ur.add(j)
    return len(cues) - len(ur), len(truth) - len(ut)


def replay(reels, splits):
    """(false cues, missed cues, segues found, false splits, truth cues) when `splits(peaks)` picks."""
    fp = fn = found = false = n = 0
    for tc, mids, runs, peaks in reels:
        by_run = {}
        for p in peaks:
            by_run.setdefault(p["run"], []).append(p)
        picked = [p["t"] for ps in by_run.values() for p in spaced(splits(ps))]
        false_cues, missed_cues = cut_and_match(tc, runs, picked)
        fp += false_cues
        fn += missed_cues
        n += len(tc)
        found += sum(1 for m in mids if any(abs(t - m) <= 3 for t in picked))
        false += sum(1 for t in picked if all(abs(t - m) > 3 for m in mids))
    return fp, fn, found, false, n


def by_rule(q, radius=PEAK_RADIUS, extra=0.0):
    """The rule on the peaks (dominance radius over 12 s); with `radius` under that, local maxima
    dominating over `radius` are candidates too if they pass with `extra` more ratio."""
    def pick(ps):
        return [p for p in ps if not vetoed(p, q) and (
            (p["radius"] > PEAK_RADIUS and p["ratio"] >= required(p, q))
            or (radius < p["radius"] <= PEAK_RADIUS and p["ratio"] >= required(p, q) + extra))]
    return pick


def features(p):
    beat = p["beat"] >= 0 and min(p["sb"], p["sa"]) >= 5.0
    near = p["near"] if p["near"] >= 0 else 0.5
    far = p["far"] if p["far"] >= 0 else near
    return [np.log(p["ratio"]), (p["beat"] if beat else 0.875) - 0.875, float(beat), np.log(near + 0.02),
            np.log(far + 0.02), min(p["sb"], p["sa"]) / 10 if p["sb"] >= 0 else 0.0]


def fit_logistic(reels_list, l2=1e-2, steps=3000):
    rows = [p for reels in reels_list for r in reels for p in r[3] if p["radius"] > PEAK_RADIUS]
    X = np.array([features(p) for p in rows])
    y = np.array([p["segue"] for p in rows], float)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z, w, b = (X - mu) / sd, np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        e = 1 / (1 + np.exp(-(Z @ w + b))) - y
        w -= 0.5 * (Z.T @ e / len(y) + l2 * w)
        b -= 0.5 * e.mean()
    return lambda ps: 1 / (1 + np.exp(-((np.array([features(p) for p in ps]) - mu) / sd @ w + b))) if ps else []


def by_score(model, th):
    def pick(ps):
        ps = [p for p in ps if p["radius"] > PEAK_RADIUS]
        return [p for p, s in zip(ps, model(ps)) if s >= th]
    return pick


def main():
    dumps, reports = sys.argv[1], sys.argv[2]
    sets = [a.split("=", 1) for a in sys.argv[3:]]
    data = {name: load(dumps, reports, name, reels) for name, reels in sets}
    names = [n for n, _ in sets]

    def line(tag, splits):
        cells = []
        for n in names:
            fp, fn, found, false, total = replay(data[n], splits)
            tp = total - fn
            f1 = 2 * tp / (2 * tp + fp + fn) if total else 0.0
            cells.append(f"{n} {f1:.3f} ({fp}+{fn}) {found}/{false}")
        print(f"{tag:28s} " + "  ".join(cells))

    print("cue F1 (false + missed cues) segues found / false splits")
    for W in (5.0, 7.5, 10.0, 12.5, 20.0):
        for key in (0.15, 0.25):
            q = dict(SHIPPED, W=W, key=key)
            line(f"W {W} key {key}{' (shipped)' if q == SHIPPED else ''}", by_rule(q))
    for k, F0 in ((0.2, 0.8), (0.3, 0.8)):
        line(f"W 7.5, (far/{F0})^-{k}", by_rule(dict(SHIPPED, k=k, F0=F0)))
    for radius in (5.0, 7.0, 9.0):
        for extra in (0.0, 0.2):
            line(f"+ secondary r>{radius} +{extra}", by_rule(SHIPPED, radius, extra))
    for fitted_on in ([names[0]], names[:5]):
        model = fit_logistic([data[n] for n in fitted_on])
        errs = {th: sum(sum(replay(data[n], by_score(model, th))[:2]) for n in fitted_on)
                for th in np.arange(0.2, 0.81, 0.05)}
        th = min(errs, key=lambda t: (errs[t], t))
        line(f"logistic on {'+'.join(fitted_on)} th {th:.2f}", by_score(model, th))


if __name__ == "__main__":
    main()
