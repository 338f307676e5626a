#!/usr/bin/env python3
"""Fits the source-music score (src/detect/source_music.rs, MusicScore::FITTED): an L1-penalised
logistic regression of dialogue- and effects-stem texture windows with corpus music mixed in against
the same stems' windows without it (development aid; needs numpy and scikit-learn).

    # training copies (development reels, development music files only) and evaluation copies
    S=tools/reference/source_music_eval.py
    python3 $S make --reels /tmp/dev-reels      --out /tmp/srcmusic/tr-dev --music dev --seed 11 --per-reel 3
    python3 $S make --reels /tmp/cues2/reels-c  --out /tmp/srcmusic/tr-c   --music dev --seed 12 --per-reel 3
    python3 $S make --reels /tmp/dev-reels-e    --out /tmp/srcmusic/tr-e   --music dev --seed 13 --per-reel 3
    (and sm-dev/sm-c/sm-e with seeds 1, 2, 3 and the default 2 placements a reel, for evaluation)
    cargo build --release --example source_music_dump
    target/release/examples/source_music_dump /tmp/srcmusic/dump/tr-dev /tmp/srcmusic/tr-dev/DEV*
    ... likewise tr-c, tr-e, sm-*, and plain-dev/plain-c/plain-e from the unmodified reels
    stemscope demo --seconds 180 --seed 11 /tmp/srcmusic/synth/DEV11   (likewise seeds 12-14; dumped to dump/plain-synth)
    python3 tools/reference/source_music_fit.py /tmp/srcmusic 0.03 plain-synth

Training windows: tr-* and plain-* (label 1 inside a mixed-in interval, 0.5 s clear of its ends;
windows at the ends are left out, so are windows under the stem's 10th-percentile level + 6 dB,
which the detector does not score). Evaluation: window AUC on sm-* per stem, all windows and those
under speech (the dialogue detector's spans). Prints the Rust terms (feature, mean, spread, weight)
and the bias. Features: the texture features without the single pitch classes (they name a key),
plus the pitch-class profile's peak and entropy (computed by the detector from chroma_0..11).
"""
import glob
import json
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

ROOT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/srcmusic"
C = float(sys.argv[2]) if len(sys.argv) > 2 else 0.03
# More negatives, e.g. "plain-synth": `stemscope demo` titles (formant-synthesised voices) dumped likewise.
EXTRA = sys.argv[3:]


def load(setname, stem):
    kind, name = setname.split("-")
    rows = []
    for f in sorted(glob.glob(f"{ROOT}/dump/{setname}/*_{stem}.json")):
        d = json.load(open(f))
        names = d["features"]
        floor = np.quantile(np.array(d["frame_levels_db"]), 0.1)
        st = np.array([w[0] for w in d["windows"]])
        lev = np.array([w[1] for w in d["windows"]])
        X = np.array([[np.nan if v is None else v for v in w[2]] for w in d["windows"]], dtype=float)
        L = d["texture_len_s"]
        sp = np.zeros(len(st))
        for s in d["speech"]:
            sp += np.clip(np.minimum(st + L, s["end_s"]) - np.maximum(st, s["start_s"]), 0, None)
        truth = []
        if kind in ("sm", "tr"):
            tf = os.path.join(ROOT, setname, d["reel"], "source_music_truth.json")
            truth = [t for t in json.load(open(tf))["source_music"] if t["stem"] == stem]
        y = np.zeros(len(st))
        for t in truth:
            inside = (st >= t["start_s"] + 0.5) & (st + L <= t["end_s"] - 0.5)
            y[(st + L > t["start_s"]) & (st < t["end_s"])] = -1
            y[inside] = 1
        c0 = names.index("chroma_0")
        ch = np.nan_to_num(X[:, c0:c0 + 12])
        keep = [i for i in range(len(names)) if not c0 <= i < c0 + 12]
        F = np.column_stack([X[:, keep], ch.max(1), -(ch * np.log(ch + 1e-9)).sum(1)])
        fn = [names[i] for i in keep] + ["chroma_peak", "chroma_entropy"]
        rows.append(dict(F=F, fn=fn, y=y, sp=sp / L, ok=lev >= floor + 6))
    return rows


def stack(sets, stem=None):
    R = [r for s in sets for st in ("dialogue", "effects") if stem in (None, st) for r in load(s, st)]
    return (np.vstack([r["F"] for r in R]), np.concatenate([r["y"] for r in R]),
            np.concatenate([r["sp"] for r in R]), np.concatenate([r["ok"] for r in R]), R[0]["fn"])


X, y, _, ok, fn = stack(["tr-dev", "tr-c", "tr-e", "plain-dev", "plain-c", "plain-e"] + EXTRA)
m = (y >= 0) & ok
med = np.nanmedian(X[m], 0)
X = np.where(np.isfinite(X), X, med)
mu, sd = X[m].mean(0), X[m].std(0) + 1e-9
clf = LogisticRegression(C=C, penalty="l1", solver="liblinear", max_iter=2000).fit((X[m] - mu) / sd, y[m])
w = clf.coef_[0]
for stem in ("dialogue", "effects"):
    Xt, yt, spt, okt, _ = stack(["sm-dev", "sm-c", "sm-e"], stem)
    p = clf.predict_proba((np.where(np.isfinite(Xt), Xt, med) - mu) / sd)[:, 1]
    for lab, mm in (("all", yt >= 0), ("speech", (yt >= 0) & (spt > 0.3))):
        mm &= okt
        print(f"{stem} {lab}: {mm.sum()} windows, {int(yt[mm].sum())} music, AUC {roc_auc_score(yt[mm], p[mm]):.3f}")
nz = np.flatnonzero(np.abs(w) >= 0.005)
for i in nz[np.argsort(-np.abs(w[nz]))]:
    print(f'            ("{fn[i]}", {mu[i]:.4f}, {sd[i]:.4f}, {w[i]:.4f}),')
print(f"bias: {clf.intercept_[0]:.4f}")
