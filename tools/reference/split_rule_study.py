#!/usr/bin/env python3
"""Cue-split rule study: novelty ratio against beat continuity at every novelty peak (development
aid, standard library only).

    for d in /tmp/dev-reels-c/DEV*/; do
        target/release/examples/novelty_dump $d local > DUMP/c/$(basename $d).tsv
    done   # likewise for each set
    python3 tools/reference/split_rule_study.py DUMP dev=/tmp/dev-reels c=/tmp/dev-reels-c ...

Only the dump's rows with a dominance radius over 12 s (the novelty peaks) are studied here;
secondary_peak_study.py studies the rest. (Before session 19 a `peaks` dump mode wrote those rows
alone; its output gave this study's figures byte for byte as `local` does.)

Each peak is a true segue when it lies within 3 s of a truth segue middle (the middle of the
earlier cue's end and the later one's start, as tools/reference/cue_eval.py has it). The rule under
study is the detector's: a peak splits when its ratio reaches
`max(MIN, 1.5 + W * (continuity - PIVOT))`, or 1.5 when a side's beat strength is under FLOOR (no
evidence); the same-piece veto and the 8 s spacing (strongest first) apply as in
`novelty::change_points`. Prints the peaks, the AUCs, the rule with W = 0 (today's) per set, then
leave-one-set-out: (W, PIVOT) fitted on the other sets (most segues found less false splits; the
middle of the tied grid points), scored on the one left out.
"""
import glob, json, os, sys
from collections import defaultdict

FLOOR, MIN, SPACING = 5.0, 1.2, 8.0


def middles(truth):
    cues = json.load(open(truth))["cues"]
    out = []
    for c in cues:
        if not c.get("segue_in"):
            continue
        prev = [p for p in cues if p is not c and p.get("segue_out")
                and p["end_s"] > c["start_s"] - 0.5 and p["start_s"] < c["start_s"]]
        if prev:
            p = min(prev, key=lambda p: abs(p["end_s"] - c["start_s"]))
            out.append((p["end_s"] + c["start_s"]) / 2)
    return out


def load(dump, sets):
    rows = []
    for name, reels in sets.items():
        for f in sorted(glob.glob(f"{dump}/{name}/*.tsv")):
            reel = os.path.basename(f)[:-4]
            mids = middles(f"{reels}/{reel}/truth.json")
            for line in open(f):
                a = line.split("\t")
                t = float(a[2])
                rows.append(dict(set=name, run=(reel, a[0]), t=t, ratio=float(a[3]), veto=a[4] == "1",
                                 beat=float(a[5]), sb=float(a[6]), sa=float(a[7]),
                                 radius=float(a[8]) if len(a) > 8 else 999.0,
                                 segue=any(abs(m - t) <= 3 for m in mids)))
    return rows


def required(r, w, pivot, floor=FLOOR):
    if w == 0 or r["beat"] < 0 or min(r["sb"], r["sa"]) < floor:
        return 1.5
    return max(MIN, 1.5 + w * (r["beat"] - pivot))


def spaced(candidates, key=lambda r: -r["ratio"]):
    """The candidates `novelty::change_points` keeps: in `key` order (strongest first), none within
    SPACING seconds of one kept before."""
    picked = []
    for r in sorted(candidates, key=key):
        if all(abs(p["t"] - r["t"]) >= SPACING for p in picked):
            picked.append(r)
    return picked


def count_splits(rows, admitted, key=lambda r: -r["ratio"]):
    """(segues found, false splits) when each run keeps the `spaced` peaks that `admitted` passes."""
    runs = defaultdict(list)
    for r in rows:
        runs[(r["set"], r["run"])].append(r)
    found = false = 0
    for peaks in runs.values():
        picked = spaced((r for r in peaks if admitted(r)), key)
        found += sum(p["segue"] for p in picked)
        false += sum(not p["segue"] for p in picked)
    return found, false


def simulate(rows, w, pivot, floor=FLOOR):
    return count_splits(rows, lambda r: not r["veto"] and r["ratio"] >= required(r, w, pivot, floor))


def auc(pos, neg, key):
    s = sum(1 if key(p) > key(n) else 0.5 if key(p) == key(n) else 0 for p in pos for n in neg)
    return s / max(1, len(pos) * len(neg))


def fit(by, names, grid):
    best, ties = None, []
    for w, pivot in grid:
        score = sum(a - b for a, b in (simulate(by[s], w, pivot) for s in names))
        if best is None or score > best:
            best, ties = score, [(w, pivot)]
        elif score == best:
            ties.append((w, pivot))
    ties.sort()
    return ties[len(ties) // 2], best, len(ties)


def main():
    dump = sys.argv[1]
    sets = dict(a.split("=", 1) for a in sys.argv[2:])
    rows = [r for r in load(dump, sets) if r["radius"] > 12.0]
    for r in sorted(rows, key=lambda r: (r["segue"], r["beat"])):
        print(r["set"], *r["run"], f'{r["t"]:.1f} ratio {r["ratio"]:.2f} veto {int(r["veto"])} '
              f'beat {r["beat"]:.3f} strength {r["sb"]:.2f}/{r["sa"]:.2f}', "SEGUE" if r["segue"] else "-")
    seg = [r for r in rows if r["segue"]]
    non = [r for r in rows if not r["segue"]]
    strong = lambda r: min(r["sb"], r["sa"]) >= FLOOR
    print(f"{len(seg)} segue peaks, {len(non)} others; AUC ratio {auc(seg, non, lambda r: r['ratio']):.2f}, "
          f"continuity {auc(seg, non, lambda r: -r['beat']):.2f}, continuity where both sides have a beat "
          f"{auc([r for r in seg if strong(r)], [r for r in non if strong(r)], lambda r: -r['beat']):.2f}")
    by = {s: [r for r in rows if r["set"] == s] for s in sets}
    grid = [(w / 4, p / 100) for w in range(1, 41) for p in range(70, 101)]
    tot = [0, 0, 0, 0]
    for held in sets:
        (w, pivot), score, ties = fit(by, [s for s in sets if s != held], grid)
        before, after = simulate(by[held], 0, 0), simulate(by[held], w, pivot)
        print(f"left out {held}: fitted W {w} PIVOT {pivot} ({ties} tied at {score}); "
              f"segues found / false splits {before} -> {after}")
        tot = [x + y for x, y in zip(tot, before + after)]
    print(f"leave-one-set-out total: found / false {tot[:2]} -> {tot[2:]}")
    (w, pivot), score, ties = fit(by, list(sets), grid)
    print(f"all sets: W {w} PIVOT {pivot} ({ties} tied at {score})")


if __name__ == "__main__":
    main()
