#!/usr/bin/env python3
"""Segue placement study: today's change point against the one the two beat grids date
(development aid, standard library only).

    for d in /tmp/dev-reels-c/DEV*/; do
        target/release/examples/novelty_dump $d date > DUMP/c/$(basename $d).tsv
    done   # likewise for each set
    python3 tools/reference/beat_date_study.py DUMP dev=/tmp/dev-reels c=/tmp/dev-reels-c ...

A change point is a found segue when its refined time lies within 3 s of a truth segue middle (the
middle of the earlier cue's end and the later one's start, as tools/reference/cue_eval.py has it).
Prints each found segue's error today and beat-dated (gap 1.5 s), the errors' medians and counts
within 1 / 0.5 s per gap (the step split, and the sliding 2.5 s window's crossing), the counts within 1 s per set under the confidence gates (the beat date
used only where continuity <= C, both combs' strengths >= 5, the split's gain >= G and the two
periods differ by 5% or more), and leave-one-set-out: (gap, C, G) fitted on the other sets (most
within 1 s; ties to the stricter gate), scored on the one left out.
"""
import glob, itertools, json, os, statistics, sys

GAPS = (1.5, 3.0, 4.5)
FLOOR, DISTINCT = 5.0, 0.05


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
    for name, reels in sets:
        for f in sorted(glob.glob(os.path.join(dump, name, "*.tsv"))):
            reel = os.path.basename(f)[:-4]
            mids = middles(os.path.join(reels, reel, "truth.json"))
            for line in open(f):
                v = [float(x) for x in line.split()]
                if not mids:
                    continue
                m = min(mids, key=lambda m: abs(m - v[1]))
                if abs(m - v[1]) <= 3.0:
                    rows.append((name, reel, m, v))
    return rows


def beat(v, gi):
    return v[5 + 6 * gi: 11 + 6 * gi]  # time, period A, period B, strength A, strength B, gain


def placed(v, gi, cmax, gmin):
    tb, pa, pb, za, zb, gain = beat(v, gi)
    c = v[2]
    ok = (tb > 0 and 0 <= c <= cmax and za >= FLOOR and zb >= FLOOR and gain >= gmin
          and abs(pa - pb) / min(pa, pb) >= DISTINCT)
    return tb if ok else v[1]


def within(rows, names, gate, tol=1.0):
    return sum(abs(placed(v, *gate) - m) <= tol for s, _, m, v in rows if s in names)


def main():
    dump = sys.argv[1]
    sets = [a.split("=", 1) for a in sys.argv[2:]]
    names = [n for n, _ in sets]
    rows = load(dump, sets)
    print(f"{len(rows)} found segues")
    for s, reel, m, v in rows:
        print(f"{s}\t{reel}\tmiddle {m:.2f}\ttoday {v[1] - m:+.2f}\tbeat {beat(v, 0)[0] - m:+.2f}"
              f"\tcontinuity {v[2]:.3f}\tgain {beat(v, 0)[5]:.2f}")
    today = [abs(v[1] - m) for *_, m, v in rows]

    def line(e):
        return (f"median {statistics.median(e):.2f} s, within 1 s {sum(x <= 1 for x in e)}, "
                f"within 0.5 s {sum(x <= 0.5 for x in e)} of {len(e)}")

    print("today:", line(today))
    for gi, gap in enumerate(GAPS):
        print(f"beat, gap {gap}:", line([abs(beat(v, gi)[0] - m) for *_, m, v in rows]))
        # The sliding-window crossing (-1: none; then today's time stands).
        cross = [abs((v[23 + gi] if v[23 + gi] > 0 else v[1]) - m) for *_, m, v in rows]
        none = sum(v[23 + gi] <= 0 for *_, v in rows)
        print(f"crossing, gap {gap} ({none} without one, kept today's):", line(cross))
    grid = list(itertools.product(range(len(GAPS)), (0.75, 0.8, 0.85, 0.9, 0.95),
                                  (0.0, 0.5, 1.0, 1.5, 2.0)))
    never = (0, -1.0, 0.0)
    for g in grid:
        print(f"gap {GAPS[g[0]]} C {g[1]} G {g[2]}: " + " ".join(
            f"{n} {within(rows, [n], never)}->{within(rows, [n], g)}" for n in names))
    before = after = 0
    for out in names:
        train = [n for n in names if n != out]
        fit = max(grid, key=lambda g: (within(rows, train, g), g[2], -g[1]))
        a, b = within(rows, [out], never), within(rows, [out], fit)
        before, after = before + a, after + b
        print(f"left out {out}: fit gap {GAPS[fit[0]]} C {fit[1]} G {fit[2]}, "
              f"within 1 s {a} -> {b}")
    print(f"left out, all sets: {before} -> {after}")


if __name__ == "__main__":
    main()
