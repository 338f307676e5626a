#!/usr/bin/env python3
"""Song/score kind errors on the dev reels and what the song re-read makes of them (development aid; numpy).

    python3 tools/reference/kind_study.py REELS REPORTS DUMPS [REELS REPORTS DUMPS ...] [--sweep]

REPORTS/DEVn/report.json per reel of REELS (truth in REELS/DEVn/truth.json); DUMPS/DEVn/vocal_p.tsv
as written by `cargo run --release --example vocal_dump -- REEL DUMPS/DEVn`. A Python port of
`detect::vocals` (the confident-window cue rule, the confidence, the HMM smoothing (vocal_segments.py
next to this script) and the song re-read) re-derives every reported cue's kind and the vocal track
from the window probabilities; the script stops if they differ from the report (a port out of date).
Printed:
- every reported cue called song and every kind error (matched to the truth like score.py, IoU >= 0.5):
  confidence, seconds of windows at p >= 0.7 / 0.9, median and 90th percentile of p, phrase rises per
  minute (a run at p >= 0.7 preceded within 2 s by a window under 0.4), the largest autocorrelation of
  p at lags 2-10 s, and its false / found voice (10 ms frames inside the truth cue) with the re-read
  and with the context-free reading (reference 0.5 everywhere);
- with --sweep: score.py's kind_acc, voc_acc, voc_F1 per set for variants of the re-read (all song
  cues; none; only those whose confidence or rule margin reaches a threshold; a reference graded by
  confidence; the low reference only near confident windows)
  and of the kind rule (a higher minimum of confident seconds; song only above a confidence).
models/README.md, "Session 18", holds the figures.
"""
import json, math, pathlib, sys

import numpy as np

import vocal_segments  # the decoder shared with tools/cue_rule_study.py and tools/cnn_screen.py
from vocal_eval import mask  # the same 10 ms frame mask as the vocal error breakdown

FR, HOP, WLEN = 0.01, 0.25, 1.0
SM = dict(switch=0.02, prior=0.5, min_gap=0.6, min_seg=0.75, song_prior=0.2, end_pad=0.25)
RULE = dict(window_p=0.7, min_s=2.0, ratio=0.15, sure=15.0)


def smooth(p, starts, ref):
    """`smooth_with_reference` of src/detect/vocals.rs with the shipped settings (vocal_segments.py)."""
    return vocal_segments.smooth(p, starts, switch_prob=SM['switch'], prior=SM['prior'], min_gap_s=SM['min_gap'],
                                 min_segment_s=SM['min_seg'], end_pad_s=SM['end_pad'], ref=ref, win_len=WLEN)


def cue_stats(p, cen, a, b, min_s=RULE['min_s']):
    """The rule's decision, its margin m (>= 1: song) and the reported confidence of `classify_cue`."""
    d = b - a
    s = float(np.sum(p[(cen >= a) & (cen < b)] >= RULE['window_p'])) * HOP
    need = max(min(min_s, 0.5 * d), 1e-3)
    by = max((s / d) / RULE['ratio'], s / RULE['sure']) if d > 0 else 0.0
    m = by if s >= need else 0.0
    margin = abs(math.log(m)) if m > 0 else 3.0
    q = p[(cen >= a) & (cen <= b)].astype(np.float64)
    cert = float(np.mean(np.abs(2 * q - 1))) if len(q) else 0.0
    conf = min(max(0.5 * (0.5 + 0.5 * math.tanh(2 * margin)) + 0.5 * (0.5 + 0.5 * cert), 0.0), 1.0)
    return m >= 1.0, m, conf


def match(tc, pc):
    pairs = []
    for i, (a, b) in enumerate(tc):
        for j, (c, d) in enumerate(pc):
            inter, uni = max(0.0, min(b, d) - max(a, c)), max(b, d) - min(a, c)
            if uni > 0 and inter / uni >= 0.5:
                pairs.append((inter / uni, i, j))
    pairs.sort(reverse=True); ui, uj, out = set(), set(), []
    for _, i, j in pairs:
        if i not in ui and j not in uj:
            ui.add(i); uj.add(j); out.append((i, j))
    return out


def runs(b):
    d = np.diff(np.concatenate([[0], b.astype(int), [0]]))
    return list(zip(np.where(d == 1)[0], np.where(d == -1)[0]))


def reels(triples):
    for reels_dir, reports, dumps in triples:
        for tp in sorted(pathlib.Path(reels_dir).glob('*/truth.json')):
            name = tp.parent.name
            d = np.loadtxt(pathlib.Path(dumps) / name / 'vocal_p.tsv', ndmin=2)
            yield dict(set=reels_dir, name=name, truth=json.loads(tp.read_text()),
                       rep=json.loads((pathlib.Path(reports) / name / 'report.json').read_text()),
                       starts=d[:, 0], p=d[:, 1].astype(np.float32))


def decode(r, reread, kind=None):
    """Kinds and vocal segments: `kind(p, cen, a, b, stats)` decides song (default: the rule);
    `reread(stats)` gives the reference probability inside a song cue."""
    p, st = r['p'], r['starts']; cen = st + WLEN / 2
    pc = [(c['start_s'], c['end_s']) for c in r['rep']['cues']]
    stats = [cue_stats(p, cen, a, b) for a, b in pc]
    kinds = [kind(p, cen, a, b, s) if kind else s[0] for (a, b), s in zip(pc, stats)]
    ref = np.full(len(p), SM['prior'])
    for (a, b), k, s in zip(pc, kinds, stats):
        if k:
            m = (cen >= a) & (cen <= b)
            ref[m] = reread(s) if not callable(getattr(reread, 'windows', None)) else reread.windows(p, m)
    return pc, stats, kinds, smooth(p, st, ref)


def check(r):
    pc, stats, kinds, segs = decode(r, lambda s: SM['song_prior'])
    rk = [c['kind'] == 'song' for c in r['rep']['cues']]
    rv = [(v['start_s'], v['end_s']) for v in r['rep']['vocals']]
    same = kinds == rk and len(segs) == len(rv) and all(
        abs(x[0] - y[0]) < 1e-6 and abs(x[1] - y[1]) < 1e-6 for x, y in zip(segs, rv))
    if not same:
        sys.exit(f"{r['set']}/{r['name']}: the port does not reproduce the report (kinds or vocals)")


def table(all_reels):
    print('set/reel truth->reported start dur | conf  p>=.7 p>=.9  med  p90 rises/min acmax | '
          'false voice reread/ctxfree, found reread/ctxfree, truth voice | truth source')
    for r in all_reels:
        t, p = r['truth'], r['p']; cen = r['starts'] + WLEN / 2
        n = int(round(float(t['duration_s']) / FR)); tv = mask(t['vocals'], n)
        pc, stats, kinds, segs = decode(r, lambda s: SM['song_prior'])
        segs0 = smooth(p, r['starts'], np.full(len(p), SM['prior']))
        for i, j in match([(c['start_s'], c['end_s']) for c in t['cues']], pc):
            tq = t['cues'][i]; a, b = pc[j]; said = 'song' if kinds[j] else 'score'
            if said != 'song' and tq['kind'] == said:
                continue
            q = p[(cen >= a) & (cen < b)].astype(np.float64)
            dq = q - q.mean()
            ac = max(np.dot(dq[:-L], dq[L:]) / max(np.dot(dq, dq), 1e-9) for L in range(8, 41)) if len(q) > 41 else 0.0
            rises = sum(1 for x, _ in runs(q >= 0.7) if x > 0 and q[max(0, x - 8):x].min() < 0.4)
            cm = mask([(max(a, tq['start_s']), min(b, tq['end_s']))], n)
            fv = lambda s: float(np.sum(mask(s, n) & ~tv & cm)) * FR
            fd = lambda s: float(np.sum(mask(s, n) & tv & cm)) * FR
            flag = '**' if said != tq['kind'] else '  '
            print(f"{flag}{pathlib.Path(r['set']).name}/{r['name']} {tq['kind']:>5}->{said:<5} {a:6.1f} {b - a:5.1f} | "
                  f"{stats[j][2]:.3f} {np.sum(q >= 0.7) * HOP:5.2f} {np.sum(q >= 0.9) * HOP:5.2f} {np.median(q):.2f} "
                  f"{np.percentile(q, 90):.2f} {rises / ((b - a) / 60):5.1f} {ac:.2f} | {fv(segs):5.1f} {fv(segs0):5.1f}  "
                  f"{fd(segs):5.1f} {fd(segs0):5.1f}  {float(np.sum(tv & cm)) * FR:5.1f} | "
                  f"{tq.get('source', '?').split('/')[-1]} {tq.get('construction') or ''}")


def score(all_reels, reread, kind=None):
    out = {}
    for r in all_reels:
        k = out.setdefault(pathlib.Path(r['set']).name, [0, 0, 0, 0, 0, 0, 0])
        t = r['truth']; n = int(round(float(t['duration_s']) / FR))
        pc, _, kinds, segs = decode(r, reread, kind)
        tc = [(c['start_s'], c['end_s']) for c in t['cues']]
        for i, j in match(tc, pc):
            k[1] += 1; k[0] += t['cues'][i]['kind'] == ('song' if kinds[j] else 'score')
        mu = mask(tc, n); tv, pv = mask(t['vocals'], n)[mu], mask(segs, n)[mu]
        k[2] += np.sum(tv & pv); k[3] += np.sum(~tv & pv); k[4] += np.sum(tv & ~pv); k[5] += np.sum(tv == pv); k[6] += len(tv)
    return '  '.join(f"{s}: {k[0] / k[1]:.3f} {k[5] / k[6]:.3f} {2 * k[2] / (2 * k[2] + k[3] + k[4]):.3f}"
                     for s, k in out.items()) + \
        f"  | false {sum(k[3] for k in out.values()) * FR:.0f} s missed {sum(k[4] for k in out.values()) * FR:.0f} s"


def main(argv):
    sweep = '--sweep' in argv
    pos = [a for a in argv if a != '--sweep']
    if len(pos) < 3 or len(pos) % 3:
        sys.exit(__doc__)
    all_reels = list(reels([pos[i:i + 3] for i in range(0, len(pos), 3)]))
    for r in all_reels:
        check(r)
    table(all_reels)
    if not sweep:
        return
    lo = lambda v: math.log(v / (1 - v))
    variants = [('shipped: re-read every song cue (0.2)', lambda s: SM['song_prior'], None),
                ('no re-read (0.5)', lambda s: SM['prior'], None)]
    for th in (0.70, 0.72, 0.73, 0.75, 0.77, 0.78, 0.80, 0.85):
        variants.append((f're-read if confidence >= {th:.2f}',
                         lambda s, th=th: SM['song_prior'] if s[2] >= th else SM['prior'], None))
    def graded(a, b):
        def ref(s):
            x = min(max((s[2] - a) / (b - a), 0.0), 1.0)
            return 1 / (1 + math.exp(-(lo(SM['prior']) + x * (lo(SM['song_prior']) - lo(SM['prior'])))))
        return ref
    for a, b in ((0.7, 0.8), (0.6, 0.9)):
        variants.append((f'reference graded by confidence {a}-{b}', graded(a, b), None))
    class NearConfident:
        """Reference song_prior only within `w` seconds of a window at p >= 0.7 of the song cue."""
        def __init__(self, w):
            self.w = w

        def __call__(self, s):
            return SM['song_prior']

        def windows(self, p, m):
            idx = np.where(m)[0]; sure = idx[p[idx] >= RULE['window_p']]
            if not len(sure):
                return np.full(len(idx), SM['prior'])
            near = np.abs(idx[:, None] - sure[None, :]).min(1) * HOP <= self.w
            return np.where(near, SM['song_prior'], SM['prior'])
    variants.append(('reference 0.2 within 4 s of a p >= 0.7 window', NearConfident(4.0), None))
    variants.append(('re-read if the rule margin >= 1.5', lambda s: SM['song_prior'] if s[1] >= 1.5 else SM['prior'], None))
    for ms in (3.0, 4.0, 5.5):
        variants.append((f'kind: min confident s {ms}', lambda s: SM['song_prior'],
                         lambda p, cen, a, b, s, ms=ms: cue_stats(p, cen, a, b, ms)[0]))
    for th in (0.70, 0.75):
        variants.append((f'kind: song only if confidence >= {th:.2f}', lambda s: SM['song_prior'],
                         lambda p, cen, a, b, s, th=th: s[0] and s[2] >= th))
    print('\nvariant: per set kind_acc voc_acc voc_F1')
    for name, reread, kind in variants:
        print(f"{name:42} {score(all_reels, reread, kind)}")


if __name__ == '__main__':
    main(sys.argv[1:])
