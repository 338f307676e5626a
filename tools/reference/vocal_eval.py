#!/usr/bin/env python3
"""Where the vocal track's frame errors lie, against dev reels' truth (development aid; numpy).

    python3 tools/reference/vocal_eval.py REELS REPORTS [REELS REPORTS ...] [--dump DIR ...]

REPORTS/DEVn/report.json per reel of REELS (truth in REELS/DEVn/truth.json). Frames are score.py's:
10 ms, only inside truth music cues, positive = truth sung vocals. Printed over all reels given:
- F1 / precision / recall and the seconds of true positives, false positives, false negatives;
- missed: false-negative seconds in truth phrases that no reported segment touches ("whole phrase"),
  and false-negative seconds within 0.5 s / 1 s of a truth phrase edge;
- false: false-positive seconds in reported segments that touch no truth phrase ("whole segment"),
  on truth score cues vs truth song cues, and within 0.5 s / 1 s of a truth edge;
- truth gaps: seconds between consecutive truth phrases less than 3 s apart inside one song cue (the
  truth merges gaps under 0.6 s), and the reported voice in them;
- edge bias: for each truth phrase start (end), the nearest reported segment start (end) within
  1.5 s, reported minus truth (negative = early).
--dump DIR (one per REELS, in the same order): DIR/DEVn/vocal_p.tsv as written by
`cargo run --release --example vocal_dump -- REEL DIR/DEVn`; adds the calibration of the window
probabilities: the share of windows (centre inside a truth music cue) whose centre is sung, per
probability bin, over all music and inside truth song cues.
"""
import json, pathlib, sys

import numpy as np

FR = 0.01


def mask(iv, n):
    m = np.zeros(n, bool)
    for a, b in iv:
        i0, i1 = max(0, int(round(a / FR))), max(0, min(n, int(round(b / FR))))
        if i1 > i0:
            m[i0:i1] = True
    return m


def runs(m):
    d = np.diff(np.concatenate([[0], m.astype(int), [0]]))
    return list(zip(np.where(d == 1)[0], np.where(d == -1)[0]))


def main(argv):
    dumps = [argv[i + 1] for i, a in enumerate(argv) if a == '--dump']
    pos = [a for i, a in enumerate(argv) if a != '--dump' and (i == 0 or argv[i - 1] != '--dump')]
    if len(pos) < 2 or len(pos) % 2 or (dumps and len(dumps) != len(pos) // 2):
        sys.exit(__doc__)
    c = dict(tp=0, fp=0, fn=0, tn=0, fn_whole=0, fn05=0, fn1=0, fp_whole=0, fp_score=0, fp_song=0,
             fp05=0, fp1=0, gap=0, gap_voice=0)
    on, off, calib = [], [], []
    for si in range(len(pos) // 2):
        reels, reports = pathlib.Path(pos[2 * si]), pathlib.Path(pos[2 * si + 1])
        for tpath in sorted(reels.glob('*/truth.json')):
            name = tpath.parent.name
            t = json.loads(tpath.read_text())
            rpath = reports / name / 'report.json'
            rep = json.loads(rpath.read_text()) if rpath.exists() else {}
            n = int(round(float(t['duration_s']) / FR))
            music = mask([(q['start_s'], q['end_s']) for q in t['cues']], n)
            song = mask([(q['start_s'], q['end_s']) for q in t['cues'] if q['kind'] == 'song'], n)
            tv = mask(t['vocals'], n)
            pv = mask([(v['start_s'], v['end_s']) for v in rep.get('vocals', [])], n)
            edges = np.array([e for r in runs(tv) for e in r] or [10 ** 9])
            dist = np.abs(np.arange(n)[:, None] - edges[None, :]).min(1)
            fnm, fpm = tv & ~pv & music, ~tv & pv & music
            c['tp'] += (tv & pv & music).sum(); c['fp'] += fpm.sum(); c['fn'] += fnm.sum()
            c['tn'] += (~tv & ~pv & music).sum()
            c['fn05'] += (fnm & (dist <= 50)).sum(); c['fn1'] += (fnm & (dist <= 100)).sum()
            c['fp05'] += (fpm & (dist <= 50)).sum(); c['fp1'] += (fpm & (dist <= 100)).sum()
            c['fp_score'] += (fpm & ~song).sum(); c['fp_song'] += (fpm & song).sum()
            tr, pr = runs(tv), runs(pv)
            for a, b in tr:
                if not pv[a:b].any():
                    c['fn_whole'] += music[a:b].sum()
            for a, b in pr:
                if not tv[a:b].any():
                    c['fp_whole'] += music[a:b].sum()
            for (_, b0), (a1, _) in zip(tr, tr[1:]):
                if (a1 - b0) * FR < 3.0 and song[b0:a1].all():
                    c['gap'] += a1 - b0; c['gap_voice'] += pv[b0:a1].sum()
            starts, ends = np.array([a for a, _ in pr]), np.array([b for _, b in pr])
            for a, b in tr:
                for truth_edge, reported, out in ((a, starts, on), (b, ends, off)):
                    if len(reported):
                        d = reported - truth_edge
                        j = np.abs(d).argmin()
                        if abs(d[j]) <= 150:
                            out.append(d[j] * FR)
            if dumps:
                tsv = pathlib.Path(dumps[si]) / name / 'vocal_p.tsv'
                d = np.loadtxt(tsv, ndmin=2)
                ci = np.clip(((d[:, 0] + 0.5) / FR).round().astype(int), 0, n - 1)
                keep = music[ci]
                calib += list(zip(d[keep, 1], tv[ci[keep]], song[ci[keep]]))
    s = lambda k: f"{c[k] * FR:.1f} s"
    tp, fp, fn = c['tp'], c['fp'], c['fn']
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    print(f"F1 {2 * p * r / max(p + r, 1e-9):.3f}  P {p:.3f}  R {r:.3f}  TP {s('tp')}  FP {s('fp')}  FN {s('fn')}")
    print(f"missed: whole phrases {s('fn_whole')}; within 0.5 s of a truth edge {s('fn05')}, within 1 s {s('fn1')}")
    print(f"false: whole segments {s('fp_whole')}; on truth score cues {s('fp_score')}, on song cues {s('fp_song')}; "
          f"within 0.5 s of a truth edge {s('fp05')}, within 1 s {s('fp1')}")
    print(f"truth gaps (< 3 s, inside a song cue) {s('gap')}, reported voice in them {s('gap_voice')}")
    for label, xs in (('starts', on), ('ends', off)):
        if xs:
            print(f"edge bias, {label}: n={len(xs)} median {np.median(xs):+.2f} s, mean {np.mean(xs):+.2f} s")
    if calib:
        pr_ = np.array([x[0] for x in calib]); y = np.array([x[1] for x in calib]); sg = np.array([x[2] for x in calib])
        print("calibration: p bin, windows, share sung (all music), share sung (truth song cues)")
        bins = [0, .05, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1.0001]
        for a, b in zip(bins, bins[1:]):
            m = (pr_ >= a) & (pr_ < b)
            ms = m & sg
            print(f"  [{a:.2f}, {min(b, 1):.2f})  {m.sum():5d}  {y[m].mean() if m.any() else 0:.2f}  "
                  f"{y[ms].mean() if ms.any() else 0:.2f}")


if __name__ == '__main__':
    main(sys.argv[1:])
