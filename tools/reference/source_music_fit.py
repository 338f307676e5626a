#!/usr/bin/env python3
"""Fits the source-music score (src/detect/source_music.rs, MusicScore::FITTED): a logistic
regression of music-stem texture windows against dialogue- and effects-stem windows (development aid).

    cargo build --release --example cue_dump
    for r in DEV1 DEV2 DEV3 DEV4; do
        target/release/examples/cue_dump /tmp/dev-reels/$r /tmp/dump/$r
    done
    python3 tools/reference/source_music_fit.py /tmp/dump DEV1 DEV2 DEV3 DEV4

Windows whose mean frame level is under the stem's 10th-percentile level + 6 dB are left out (the
detector does not score them either). Needs numpy, scipy and scikit-learn. Prints leave-one-reel-out
AUC and the terms (feature, mean, spread, weight) and bias to paste into the Rust table.
"""
import re, sys, pathlib
import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression

FEATS = ['contrast_mean_3', 'melgrp_std_7', 'contrast_mean_4', 'voiced_fraction',
         'peakiness_mean', 'flatness_mean', 'pitch_std_st']
src = (pathlib.Path(__file__).resolve().parents[2] / 'src/features/texture.rs').read_text()
NAMES = re.findall(r'^    "(\w+)",', src, re.M)
COLS = [NAMES.index(f) for f in FEATS]


def windows(d):
    X, y = [], []
    for stem, label in [('music', 1), ('dialogue', 0), ('effects', 0)]:
        fr = np.fromfile(d / f'{stem}_frames.f32', dtype='<f4').reshape(-1, 8)
        w = np.fromfile(d / f'{stem}_windows.f32', dtype='<f4').reshape(-1, len(NAMES))
        db = fr[:, 0]
        floor = np.sort(db)[int(round((len(db) - 1) * 0.1))]
        for k in range(len(w)):
            if db[k * 25:k * 25 + 100].mean() >= floor + 6:  # 0.25 s hop, 1 s window, 10 ms frames
                X.append(w[k, COLS]); y.append(label)
    return np.nan_to_num(np.array(X)), np.array(y)


def auc(p, y):
    r = rankdata(p); n1 = y.sum(); n0 = len(y) - n1
    return (r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


root, reels = pathlib.Path(sys.argv[1]), sys.argv[2:]
data = {r: windows(root / r) for r in reels}
X = np.concatenate([data[r][0] for r in reels]); y = np.concatenate([data[r][1] for r in reels])
mu, sd = X.mean(0), X.std(0)
for r in reels:
    tr = np.concatenate([data[q][0] for q in reels if q != r])
    ty = np.concatenate([data[q][1] for q in reels if q != r])
    m = LogisticRegression(C=1.0, max_iter=1000).fit((tr - mu) / sd, ty)
    print(f'{r}: held-out window AUC {auc(m.predict_proba((data[r][0] - mu) / sd)[:, 1], data[r][1]):.3f}')
m = LogisticRegression(C=1.0, max_iter=1000).fit((X - mu) / sd, y)
print(f'{len(y)} windows, {y.mean():.0%} music')
for f, a, s, c in zip(FEATS, mu, sd, m.coef_[0]):
    print(f'("{f}", {a:.4f}, {s:.4f}, {c:.4f}),')
print(f'bias: {m.intercept_[0]:.4f}')
