#!/usr/bin/env python3
"""How far each effects hit of a dev reel rises above its local ambience bed, measured on the stems
(development aid; needs numpy scipy soundfile pyloudnorm, e.g. the venv build_dev_reels.sh makes).

    fx_hit_levels.py REELS [--corpus DIR] > levels.tsv      # then: fx_eval.py REELS OUT_DIR levels.tsv

Independent of stemscope: each hit is rebuilt from its corpus source as build_dev_reels.py makes it
(window, fades, peak gain; constant-power pan leaves its loudness unchanged) and metered alone
(BS.1770 K-weighting, 400 ms blocks every 100 ms). The bed is the FX stem's momentary loudness within
5 s of the hit, in the same scene, leaving out every block that touches any hit. `above_median_lu` =
the hit's loudest block minus the bed's median; `above_p10_lu` minus the bed's 10th percentile.
"""
import argparse, json, pathlib
from math import gcd

import numpy as np
import pyloudnorm as pyln
import soundfile as sf
from scipy.signal import resample_poly

SR = 48000  # the reel builder's working rate


def k_weight(x, sr):
    for f in pyln.Meter(sr)._filters.values():
        x = f.apply_filter(x)
    return x


def momentary(power, sr):
    """(block end times, LUFS) of 400 ms blocks every 100 ms of a K-weighted power signal."""
    step, blk = int(0.1 * sr), int(0.4 * sr)
    power = np.concatenate([power, np.zeros(max(0, blk - len(power)))])  # a sound under 400 ms: one block
    c = np.concatenate([[0.0], np.cumsum(power)])
    ends = np.arange(blk, len(power) + 1, step)
    return ends / sr, -0.691 + 10 * np.log10((c[ends] - c[ends - blk]) / blk + 1e-20)


def load_mono(path, cache={}):
    if path not in cache:
        x, sr = sf.read(path, dtype='float64', always_2d=True)
        x = x.mean(axis=1)
        if sr != SR:
            g = gcd(SR, sr)
            x = resample_poly(x, SR // g, sr // g)
        cache[path] = x
    return cache[path]


def fade(x, fin, fout):
    n = len(x); g = np.ones(n)
    a, b = min(int(round(fin * SR)), n), min(int(round(fout * SR)), n)
    if a > 0:
        g[:a] = np.linspace(0, 1, a) ** 2
    if b > 0:
        g[n - b:] = np.minimum(g[n - b:], np.linspace(1, 0, b) ** 2)
    return x * g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('reels')
    ap.add_argument('--corpus', default=str(pathlib.Path(__file__).resolve().parents[3] / 'shared' / 'corpus'))
    a = ap.parse_args()
    corpus = pathlib.Path(a.corpus)
    print('reel\tstart_s\tdur_s\tsource\tpeak_dbfs\tloud\thit_lufs\tbed_p10\tbed_median\tbed_p90\tabove_median_lu\tabove_p10_lu')
    for truth_path in sorted(pathlib.Path(a.reels).glob('DEV*/truth.json')):
        t = json.load(open(truth_path)); name = truth_path.parent.name
        x, sr = sf.read(sorted(truth_path.parent.glob(f'{name}_FX.*'))[0], dtype='float64', always_2d=True)
        w = [1, 1, 1, 0, 1.41, 1.41] if x.shape[1] == 6 else [1] * x.shape[1]  # BS.1770 channel weights
        tt, L = momentary(sum(w[c] * k_weight(x[:, c], sr) ** 2 for c in range(x.shape[1])), sr)
        hits = t['fx_hits']
        touched = np.zeros(len(tt), bool)
        for h in hits:
            touched |= (tt > h['start_s']) & (tt - 0.4 < h['end_s'])
        for h in hits:
            y = load_mono(str(corpus / h['source'].split(':', 1)[1]))[int(h['source_offset_s'] * SR):]
            y = y[:int(round((h['end_s'] - h['start_s']) * SR))]
            y = fade(y, 0.01, min(0.3, len(y) / SR / 4))
            y = y / (np.abs(y).max() + 1e-12) * 10 ** (h['peak_dbfs'] / 20)
            hit = momentary(k_weight(y, SR) ** 2, SR)[1].max()
            sc = next(s for s in t['scenes'] if s['start_s'] <= h['start_s'] < s['end_s'])
            near = (~touched) & (tt - 0.4 >= max(sc['start_s'], h['start_s'] - 5)) & (tt <= min(sc['end_s'], h['end_s'] + 5))
            if near.sum() < 5:  # a hit with too little bed next to it: the whole scene's bed
                near = (~touched) & (tt - 0.4 >= sc['start_s']) & (tt <= sc['end_s'])
            b10, b50, b90 = np.percentile(L[near], [10, 50, 90]) if near.any() else (np.nan,) * 3
            print(f"{name}\t{h['start_s']}\t{h['end_s'] - h['start_s']:.3f}\t{pathlib.Path(h['source']).name}\t"
                  f"{h['peak_dbfs']}\t{int(h['loud'])}\t{hit:.1f}\t{b10:.1f}\t{b50:.1f}\t{b90:.1f}\t{hit - b50:.1f}\t{hit - b10:.1f}")


if __name__ == '__main__':
    main()
