#!/usr/bin/env python3
"""Fits the learned segue placement (`src/detect/music/placement.rs`) and measures it leaving reel
sets out (development aid; numpy).

    for each set NAME with reels in DIR (build_dev_reels.sh reels, or film_music_runs.py music runs):
        for d in DIR/DEV*/; do target/release/examples/novelty_dump $d placement > DUMPS/NAME/$(basename $d).tsv; done
    python3 tools/reference/segue_placement_fit.py DUMPS dev=/tmp/dev-reels b=/tmp/dev-reels-b ... \\
        m=/tmp/music-runs2 mp=/tmp/music-runs --disjoint ml=/tmp/music-runs-long

`novelty_dump placement` lists, for every change point the detector finds with the learned placement
off, the candidates one texture hop apart within 2 s and the model's inputs at each. A change point
within 3 s of a truth crossfade's middle is a found segue; its label is the candidate nearest that
middle, and segues whose middle lies more than a quarter second beyond the candidates are left out
of the fit (they are scored), as are segues next to a cue whose licence does not allow training a
shipped model (non-commercial or research-use items of ../shared/corpus). The model is a conditional logit (softmax of a linear score over one
change point's candidates), fitted by Newton's method with an L2 penalty (`--l2`, default 1);
`--columns 0,1,...` fits only those inputs (0-based), to screen one.

It prints, per set, the found segues' middles within 1 s and within 0.5 s and the segue sides within
0.5 s (the earlier cue's end and the later one's start at the point +-1 s, the assumed 2 s
crossfade, against the truth's fade ends) for the change point as found and as placed by the model
fitted on the other sets (the sets before --disjoint; leave one set out); then the model fitted on
all of those, scored on the --disjoint sets; then its weights as JSON for
`models/segue-placement-v2.json`.
"""
import glob
import json
import os
import sys

import numpy as np

from split_score_study import parse_sets

HALF_CROSSFADE = 1.0  # `CueConfig::segue_overlap_s` / 2
FOUND_S = 3.0
# Licences that do not allow training a shipped model (non-commercial, research use, unstated).
NOT_TRAINABLE = ("-NC", "research use", "exact variant not stated")


# Input columns to fit (--columns, 0-based over the dump's inputs); all when None.
COLUMNS = None


def trainable(cue):
    return not any(mark in cue.get("license", "") for mark in NOT_TRAINABLE)


def load(dumps, name, reels):
    """The found segues of one set: dicts of the change point, truth middle and crossfade length,
    candidate times and input matrix."""
    out = []
    for path in sorted(glob.glob(os.path.join(dumps, name, "DEV*.tsv"))):
        reel = os.path.splitext(os.path.basename(path))[0]
        truth = json.load(open(os.path.join(reels, reel, "truth.json")))["cues"]
        crossfades = [((a["end_s"] + b["start_s"]) / 2, a["end_s"] - b["start_s"],
                       trainable(a) and trainable(b))
                      for a, b in zip(truth, truth[1:]) if b["segue_in"]]
        rows = np.loadtxt(path, ndmin=2)
        if rows.size == 0 or not crossfades:
            continue
        for t in np.unique(rows[:, 0]):
            block = rows[rows[:, 0] == t]
            middle, length, licensed = min(crossfades, key=lambda c: abs(c[0] - t))
            if abs(middle - t) > FOUND_S:
                continue
            x = block[:, 2:] if COLUMNS is None else block[:, 2:][:, COLUMNS]
            out.append(dict(t=t, middle=middle, length=length, trainable=licensed,
                            times=block[:, 1], x=x))
    return out


def fit(segues, l2):
    usable = []
    for s in segues:
        if not s["trainable"]:
            continue
        y = int(np.argmin(np.abs(s["times"] - s["middle"])))
        if abs(s["times"][y] - s["middle"]) <= 0.25:
            usable.append((s["x"], y))
    w = np.zeros(segues[0]["x"].shape[1])
    for _ in range(50):
        g, h = -2 * l2 * w, -2 * l2 * np.eye(len(w))
        for x, y in usable:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            mean = p @ x
            g += x[y] - mean
            h -= (x * p[:, None]).T @ x - np.outer(mean, mean)
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def score(segues, place):
    """(middles within 1 s, within 0.5 s, sides within 0.5 s)."""
    w1 = w05 = sides = 0
    for s in segues:
        c = place(s)
        e = abs(c - s["middle"])
        w1 += e <= 1.0
        w05 += e <= 0.5
        half = s["length"] / 2
        sides += (abs(c - HALF_CROSSFADE - (s["middle"] - half)) <= 0.5)
        sides += (abs(c + HALF_CROSSFADE - (s["middle"] + half)) <= 0.5)
    return int(w1), int(w05), int(sides)


def by_model(w):
    return lambda s: s["times"][int(np.argmax(s["x"] @ w))]


def main():
    global COLUMNS
    args = sys.argv[1:]
    l2 = 1.0
    while len(args) >= 2 and args[0] in ("--l2", "--columns"):
        if args[0] == "--l2":
            l2 = float(args[1])
        else:
            COLUMNS = [int(c) for c in args[1].split(",")]
        args = args[2:]
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    dumps = args[0]
    sets, disjoint = parse_sets(args[1:])
    sets = {n: load(dumps, n, r) for n, r in sets.items()}
    disjoint = {n: load(dumps, n, r) for n, r in disjoint.items()}
    found = lambda s: s["t"]
    line = "{:8s} {:4d} found   as found {:3d} / {:3d} / {:3d}   placed {:3d} / {:3d} / {:3d}"
    print("set      segues         middles within 1 s / 0.5 s / sides within 0.5 s")
    total = np.zeros(6, int)
    for name, segues in sets.items():
        w = fit([s for n, ss in sets.items() if n != name for s in ss], l2)
        row = score(segues, found) + score(segues, by_model(w))
        total += row
        print(line.format(name, len(segues), *row))
    print(line.format("left out", sum(len(s) for s in sets.values()), *total))
    w = fit([s for ss in sets.values() for s in ss], l2)
    for name, segues in disjoint.items():
        print(line.format(name, len(segues), *(score(segues, found) + score(segues, by_model(w)))))
    fitted = sum(s["trainable"] for ss in sets.values() for s in ss)
    print(f"fitted on {fitted} segues whose cues' licences allow it")
    print(json.dumps([round(float(x), 4) for x in w]))


if __name__ == "__main__":
    main()
