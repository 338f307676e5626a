#!/usr/bin/env python3
"""Secondary novelty peaks study (development aid, standard library only): could a local maximum of
the 12 s novelty that is not the top within ±window_s (12 s), but is within a shorter radius, be
admitted as a split where the beat grid clearly breaks?

    for d in /tmp/dev-reels-c/DEV*/; do
        target/release/examples/novelty_dump $d local > DUMP/c/$(basename $d).tsv
    done   # likewise for each set
    python3 tools/reference/secondary_peak_study.py DUMP dev=/tmp/dev-reels c=/tmp/dev-reels-c ...

`local` rows carry each local maximum's dominance radius (distance to the nearest higher point);
those over 12 s are `novelty::peaks`, split by the detector's rule as session 18 had it (required
ratio `max(1.2, 1.5 + 5 * (continuity - 0.875))`, 1.5 without beat evidence; the weight is 7.5
since session 19, and this study's figures are session 18's). The rule studied adds the
secondary peaks with radius >= R whose continuity is under C with both sides' strength >= 5 and
whose ratio passes the same required ratio; vetoes and the 8 s spacing (strongest first, over
primary and secondary together) as in `novelty::change_points`. Labels: within 3 s of a truth segue
middle (split_rule_study.middles). Prints the secondary peaks, the local maxima near each truth
segue no primary peak reaches, the rule per (R, C) on all sets, and leave-one-set-out over (R, C),
with candidates taken strongest first (the detector's order) or by margin over the required ratio.
"""
import glob
import os
import sys

from split_rule_study import FLOOR, count_splits, load, middles
from split_rule_study import required as rule_required

W, PIVOT = 5.0, 0.875  # session 18's rule (7.5 since session 19)


def required(r):
    """The detector's required ratio at the shipped weight and pivot."""
    return rule_required(r, W, PIVOT)


def admitted(r, rad, cmax):
    if r["veto"] or r["ratio"] < required(r):
        return False
    if r["radius"] > 12.0:
        return True
    return (rad is not None and r["radius"] >= rad and 0 <= r["beat"] < cmax
            and min(r["sb"], r["sa"]) >= FLOOR)


def simulate(rows, rad, cmax, margin=False):
    key = (lambda r: -r["ratio"] / required(r)) if margin else (lambda r: -r["ratio"])
    return count_splits(rows, lambda r: admitted(r, rad, cmax), key)


GRID = [(rad, c / 100) for rad in (2, 3, 4, 5, 6, 8, 10) for c in range(70, 96)]


def fit(by, names, margin=False):
    best, ties = None, []
    for rad, c in GRID:
        score = sum(a - b for a, b in (simulate(by[s], rad, c, margin) for s in names))
        if best is None or score > best:
            best, ties = score, [(rad, c)]
        elif score == best:
            ties.append((rad, c))
    return ties[len(ties) // 2], best, len(ties)


def main():
    dump = sys.argv[1]
    sets = dict(a.split("=", 1) for a in sys.argv[2:])
    rows = load(dump, sets)
    sec = [r for r in rows if r["radius"] <= 12.0]
    print("secondary peaks (radius <= 12 s), by continuity:")
    for r in sorted(sec, key=lambda r: (r["segue"], r["beat"])):
        print(r["set"], *r["run"], f'{r["t"]:.1f} radius {r["radius"]:.1f} ratio {r["ratio"]:.2f} '
              f'(needs {required(r):.2f}) veto {int(r["veto"])} beat {r["beat"]:.3f} '
              f'strength {r["sb"]:.2f}/{r["sa"]:.2f}', "SEGUE" if r["segue"] else "-")
    by = {s: [r for r in rows if r["set"] == s] for s in sets}
    for name, reels in sets.items():
        for d in sorted(glob.glob(f"{reels}/DEV*/")):
            reel = os.path.basename(d.rstrip("/"))
            for m in middles(f"{d}/truth.json"):
                near = [r for r in by[name] if r["run"][0] == reel and abs(r["t"] - m) <= 3]
                if not any(r["radius"] > 12 for r in near):
                    print(f"{name} {reel} segue middle {m:.1f}: local maxima within 3 s:",
                          ", ".join(f'{r["t"]:.1f} r{r["radius"]:.1f} x{r["ratio"]:.2f} '
                                    f'b{r["beat"]:.2f} s{min(r["sb"], r["sa"]):.1f}' for r in near) or "none")
    print("per set found/false, today's rule:", {s: simulate(by[s], None, 0) for s in sets})
    for rad, margin in [(x, m) for m in (False, True) for x in (2, 3, 4, 5, 6, 8, 10)]:
        line = []
        for c in (0.75, 0.80, 0.85, 0.90):
            res = [simulate(by[s], rad, c, margin) for s in sets]
            line.append(f"C<{c:.2f} " + " ".join(f"{a}/{b}" for a, b in res))
        print(f"{'margin' if margin else 'ratio'} order R>={rad}: " + " | ".join(line))
    # Ordered strongest first (the detector's), or by margin over the required ratio (a secondary
    # peak where the grid breaks may then displace a stronger primary within 8 s).
    for margin in (False, True):
        tot = [0, 0, 0, 0]
        for held in sets:
            (rad, c), score, ties = fit(by, [s for s in sets if s != held], margin)
            before, after = simulate(by[held], None, 0), simulate(by[held], rad, c, margin)
            print(f"{'margin' if margin else 'ratio'} order, left out {held}: fitted R {rad} C {c} "
                  f"({ties} tied at {score}); found / false {before} -> {after}")
            tot = [x + y for x, y in zip(tot, before + after)]
        print(f"leave-one-set-out total: found / false {tot[:2]} -> {tot[2:]}")


if __name__ == "__main__":
    main()
