#!/usr/bin/env python3
"""Cue boundary errors against dev reels' truth (development aid, standard library only).

    python3 tools/reference/cue_eval.py /tmp/dev-reels REPORTS   # REPORTS/DEVn/report.json

Truth cues are matched one-to-one to reported cues (greedy by IoU, at least 0.5). For each matched
cue the start and end errors are measured; a boundary is a "segue" side when the truth cue segues
in (start) or out (end), else a plain start or end. Segue middles: for each truth segue, the distance
from the middle of its crossfade to the nearest reported change point (the middle of a reported cue
end and the next cue's start, when those are less than 0.5 s apart or overlap); change points more
than 3 s from every truth segue are false splits. Cue P/R/F1 counts the one-to-one matches as
`../shared/tools/score.py` does, so reels whose truth holds only music cues (film_music_runs.py) are
scored too.
"""
import json, pathlib, statistics, sys


def iou(a, b):
    i = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    u = max(a[1], b[1]) - min(a[0], b[0])
    return i / u if u > 0 else 0.0


def summary(xs):
    if not xs:
        return "n=0"
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))]
    within = sum(1 for x in xs if x <= 0.5)
    return (f"n={len(xs)} within 0.5 s {within} ({100 * within / len(xs):.0f}%) "
            f"median {statistics.median(xs):.2f} p90 {p90:.2f} max {xs[-1]:.2f}")


reels, reports = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
errs = {"start": [], "end": [], "segue": []}
segue_errs, false_splits, unmatched, matched, reported = [], 0, 0, 0, 0
for truth_path in sorted(reels.glob("DEV*/truth.json")):
    rep_path = reports / truth_path.parent.name / "report.json"
    if not rep_path.exists():
        continue
    truth = json.load(open(truth_path))["cues"]
    rep = [(c["start_s"], c["end_s"]) for c in json.load(open(rep_path))["cues"]]
    tc = [(c["start_s"], c["end_s"]) for c in truth]
    pairs = sorted(((iou(a, b), i, j) for i, a in enumerate(tc) for j, b in enumerate(rep)), reverse=True)
    used_t, used_r = set(), set()
    for v, i, j in pairs:
        if v < 0.5:
            break
        if i in used_t or j in used_r:
            continue
        used_t.add(i); used_r.add(j)
        errs["segue" if truth[i]["segue_in"] else "start"].append(abs(tc[i][0] - rep[j][0]))
        errs["segue" if truth[i]["segue_out"] else "end"].append(abs(tc[i][1] - rep[j][1]))
    unmatched += len(tc) - len(used_t)
    matched += len(used_t)
    reported += len(rep)
    mids = [(a["end_s"] + b["start_s"]) / 2 for a, b in zip(truth, truth[1:]) if b["segue_in"]]
    splits = [(a[1] + b[0]) / 2 for a, b in zip(rep, rep[1:]) if b[0] - a[1] < 0.5]
    segue_errs += [min((abs(s - m) for s in splits), default=99.0) for m in mids]
    false_splits += sum(1 for s in splits if all(abs(s - m) > 3.0 for m in mids))
print(f"unmatched truth cues {unmatched}")
p = matched / reported if reported else 0.0
r = matched / (matched + unmatched) if matched + unmatched else 0.0
print(f"cue P/R/F1 {p:.3f}/{r:.3f}/{2 * p * r / (p + r) if p + r else 0.0:.3f}")
print(f"all boundaries: {summary(errs['start'] + errs['end'] + errs['segue'])}")
for k, v in errs.items():
    print(f"  {k:6s}: {summary(v)}")
found = [e for e in segue_errs if e <= 3.0]
print(f"segue middles: {len(segue_errs)} segues, found (within 3 s) {len(found)}, within 1 s "
      f"{sum(1 for e in found if e <= 1.0)}, within 0.5 s {sum(1 for e in found if e <= 0.5)}, "
      f"error of found mean {statistics.mean(found) if found else 0:.2f} max {max(found, default=0):.2f} s; "
      f"false splits {false_splits}")
