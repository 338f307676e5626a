#!/usr/bin/env python3
"""Screens the music stem's stereo image as evidence for a segue (development aid; numpy, soundfile).

    python3 tools/reference/stereo_image_study.py DUMPS NAME REELS OUT
    python3 tools/reference/split_score_study.py --extra 15 OUT REPORTS NAME=REELS ...

DUMPS/NAME/DEVn.tsv are `novelty_dump REEL rule` dumps (one row per candidate, its time in column
2); the same rows are written to OUT/NAME/DEVn.tsv with five columns added (each 1 + the value, so
that `split_score_study.py --extra COL` can take its logarithm; -1 where the stem has no front pair
or a side has fewer than 2 s):

    14  mean over four bands of |change of side/mid, dB| between the 11 s either side (1 s guard)
    15  the same, each band weighted by its share of the mid energy
    16  |change of surround/front energy, dB| (5.1 stems; 0 otherwise)
    17  band-weighted |change of left/right balance, dB|
    18  10 x band-weighted |change of the left-right correlation|

Why: two recordings rarely share a stereo image, while sections of one recording usually do, so a
change of image could tell a segue from a change inside a piece. Session 25 measured it and did not
keep it (docs/music-cues.md, "Session 25").
"""
import glob
import os
import sys

import numpy as np
import soundfile as sf

BANDS = [(60, 250), (250, 1000), (1000, 4000), (4000, 12000)]
BLOCK_S = 0.25  # the texture hop
WINDOW_S, GUARD_S = 12.0, 1.0  # `NoveltyConfig::window_s`, `guard_s`


def blocks(path):
    """Per 0.25 s block and band: mid, side, left, right energy and the left-right cross term, and
    the surround and front energy (5.1)."""
    info = sf.info(path)
    n = int(BLOCK_S * info.samplerate)
    nfft = 1 << (n - 1).bit_length()
    freqs = np.fft.rfftfreq(nfft, 1 / info.samplerate)
    idx = [(freqs >= a) & (freqs < b) for a, b in BANDS]
    win = np.hanning(n)
    rows = []
    for x in sf.blocks(path, blocksize=n, dtype="float32", always_2d=True):
        if len(x) < n:
            break
        left, right = x[:, 0], x[:, 1]
        spec = {k: np.fft.rfft(v * win, nfft) for k, v in
                (("m", (left + right) / np.sqrt(2)), ("s", (left - right) / np.sqrt(2)), ("l", left), ("r", right))}
        band = lambda z: [float(z[i].sum()) for i in idx]
        row = (band(np.abs(spec["m"]) ** 2) + band(np.abs(spec["s"]) ** 2) + band(np.abs(spec["l"]) ** 2)
               + band(np.abs(spec["r"]) ** 2) + band(np.real(spec["l"] * np.conj(spec["r"]))))
        surround = float((x[:, 4] ** 2 + x[:, 5] ** 2).sum()) if x.shape[1] >= 6 else 0.0
        rows.append(row + [surround, float((left ** 2 + right ** 2).sum())])
    return np.array(rows)


def image(b, start_s, end_s):
    """Side/mid (dB), surround/front (dB), mid-energy band weights, balance (dB) and correlation of
    the blocks in [start_s, end_s); None under 2 s."""
    i, j = max(0, round(start_s / BLOCK_S)), round(end_s / BLOCK_S)
    if j - i < 8:
        return None
    k = len(BANDS)
    s = b[i:j].sum(0)
    mid, side, left, right, cross = (s[q * k:(q + 1) * k] for q in range(5))
    side_mid = np.clip(10 * np.log10((side + 1e-12) / (mid + 1e-12)), -40, 20)
    surround = max(10 * np.log10((s[5 * k] + 1e-12) / (s[5 * k + 1] + 1e-12)), -40)
    balance = np.clip(10 * np.log10((left + 1e-12) / (right + 1e-12)), -20, 20)
    corr = cross / np.sqrt(left * right + 1e-24)
    return side_mid, surround, mid / (mid.sum() + 1e-20), balance, corr


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        sys.exit(2)
    dumps, name, reels, out = sys.argv[1:5]
    os.makedirs(f"{out}/{name}", exist_ok=True)
    for d in sorted(glob.glob(f"{reels}/DEV*/")):
        reel = os.path.basename(d.rstrip("/"))
        rows = [line.rstrip("\n").split("\t") for line in open(f"{dumps}/{name}/{reel}.tsv")]
        mx = [f for f in os.listdir(d) if "_MX" in f]
        b = blocks(d + mx[0]) if len(mx) == 1 and sf.info(d + mx[0]).channels >= 2 else None
        with open(f"{out}/{name}/{reel}.tsv", "w") as f:
            for r in rows:
                t = float(r[2])
                a = b is not None and image(b, t - WINDOW_S, t - GUARD_S)
                c = b is not None and image(b, t + GUARD_S, t + WINDOW_S)
                if not a or not c:
                    f.write("\t".join(r + ["-1"] * 5) + "\n")
                    continue
                w = (a[2] + c[2]) / 2
                dsm = np.abs(a[0] - c[0])
                extra = [dsm.mean(), (dsm * w).sum(), abs(a[1] - c[1]), (np.abs(a[3] - c[3]) * w).sum(),
                         10 * (np.abs(a[4] - c[4]) * w).sum()]
                f.write("\t".join(r + ["%.4f" % (1 + float(v)) for v in extra]) + "\n")


if __name__ == "__main__":
    main()
