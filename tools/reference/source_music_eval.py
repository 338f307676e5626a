#!/usr/bin/env python3
"""Source music under dialogue: build an evaluation set from the dev reels, and score reports on it.

`make` writes a copy of every reel of a set with diegetic music (a radio, a band in the scene) mixed
into the DX stem (and on some reels into the FX stem): 10-40 s excerpts of corpus music (score and
song folders), placed over dialogue lines, 6-20 dB below the speech level (DX) or 3-12 dB below the
stem's own level over the span (FX), sometimes band-limited like a small speaker (300-3500 Hz),
sometimes with room reverb. The MX stem and truth.json are linked unchanged, so the whole pipeline
runs; the source-music intervals go to `source_music_truth.json` next to them.

The corpus music files are split by whole recording: `--music dev` (the development reels) never
uses a file of `--music heldout` (the held-out reels), and the split is a fixed function of the
sorted file list (every third file from the second one is held out).

`eval` scores the `source_music` segments of the reports (`OUT/REEL/report.json`) against the
truth: a truth interval is found when the reported segments of its stem cover at least 50% of it;
a reported segment is a false alarm when it overlaps no truth interval of its stem; time-level
precision/recall/F1 are over seconds. Reels without a truth file count false alarms only (the
unmodified reels: their DX/FX carry speech, noises, rain, whale song, dog howl and bird calls, none
of which is source music).

    python3 tools/reference/source_music_eval.py make --reels /tmp/dev-reels --out /tmp/srcmusic/sm-dev --music dev --seed 1
    python3 tools/reference/source_music_eval.py eval --reels /tmp/srcmusic/sm-dev --reports OUT
"""

import argparse
import csv
import json
import math
import os
import random
import sys

import numpy as np
import soundfile as sf
from scipy import signal

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus"))
STEM_NAME = {"DX": "dialogue", "FX": "effects"}


def music_files(corpus, which):
    """The score/song recordings of at least 20 s, split by whole recording."""
    rows = []
    with open(os.path.join(corpus, "MANIFEST.tsv")) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["class"] in ("score", "song") and float(row["duration_s"]) >= 20.0:
                rows.append(row["path"])
    rows.sort()
    held = [p for i, p in enumerate(rows) if i % 3 == 1]
    dev = [p for i, p in enumerate(rows) if i % 3 != 1]
    return {"dev": dev, "heldout": held}[which]


def load_mono(path, sr):
    x, fs = sf.read(path, always_2d=True, dtype="float64")
    x = x.mean(axis=1)
    if fs != sr:
        g = math.gcd(int(fs), int(sr))
        x = signal.resample_poly(x, sr // g, fs // g)
    return x


def rms_db(x):
    return 10.0 * math.log10(float(np.mean(x * x)) + 1e-20)


def spans_rms_db(x, sr, spans):
    parts = [x[int(a * sr) : int(b * sr)] for a, b in spans if b > a]
    parts = [p for p in parts if len(p)]
    if not parts:
        return rms_db(x)
    return rms_db(np.concatenate(parts))


def reverb(x, sr, rng):
    """A room: exponentially decaying noise tail (RT60 0.4-1.2 s) mixed 3-9 dB under the dry sound."""
    rt60 = rng.uniform(0.4, 1.2)
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    ir = np.random.default_rng(rng.randrange(1 << 30)).standard_normal(n) * np.exp(-6.91 * t / rt60)
    ir /= math.sqrt(float(np.sum(ir * ir)))
    wet = signal.fftconvolve(x, ir)[: len(x)]
    wet_db = -rng.uniform(3.0, 9.0)
    return x + wet * 10 ** (wet_db / 20.0) * math.sqrt(np.mean(x * x) / (np.mean(wet * wet) + 1e-20)), rt60


def radio(x, sr):
    sos = signal.butter(4, [300.0, 3500.0], btype="bandpass", fs=sr, output="sos")
    y = signal.sosfilt(sos, x)
    # A small speaker driven a little hard.
    peak = np.max(np.abs(y)) + 1e-12
    return np.tanh(1.5 * y / peak) * peak / np.tanh(1.5)


def place(rng, duration, speech, taken, length):
    """A start time that puts the excerpt over dialogue lines, clear of earlier placements."""
    for _ in range(200):
        a, _b = speech[rng.randrange(len(speech))] if speech else (rng.uniform(0, duration), 0)
        start = max(0.5, a - rng.uniform(0.0, 5.0))
        end = min(duration - 0.5, start + length)
        if end - start < 10.0:
            continue
        if all(end + 5.0 < s or start > e + 5.0 for s, e in taken):
            return start, end
    return None


def make(args):
    rng = random.Random(args.seed)
    files = music_files(args.corpus, args.music)
    cache = {}
    os.makedirs(args.out, exist_ok=True)
    for reel in sorted(os.listdir(args.reels)):
        src = os.path.join(args.reels, reel)
        if not os.path.isfile(os.path.join(src, "truth.json")):
            continue
        truth = json.load(open(os.path.join(src, "truth.json")))
        dst = os.path.join(args.out, reel)
        os.makedirs(dst, exist_ok=True)
        for name in os.listdir(src):
            link = os.path.join(dst, name)
            if not os.path.lexists(link):
                os.symlink(os.path.join(src, name), link)
        speech = [tuple(s) for s in truth.get("dialogue", [])]
        intervals = []
        plan = [("DX", n) for n in range(args.per_reel)]
        if rng.random() < 0.5:
            plan.append(("FX", 0))
        by_stem = {}
        for stem, _ in plan:
            by_stem.setdefault(stem, 0)
            by_stem[stem] += 1
        for stem in by_stem:
            path = os.path.join(src, truth["files"][stem])
            x, sr = sf.read(path, always_2d=True, dtype="float64")
            info = sf.info(path)
            mono = x.mean(axis=1)
            duration = len(mono) / sr
            taken = []
            for _ in range(by_stem[stem]):
                music = files[rng.randrange(len(files))]
                if music not in cache:
                    cache[music] = load_mono(os.path.join(args.corpus, music), sr)
                m = cache[music]
                length = min(rng.uniform(10.0, 40.0), len(m) / sr - 1.0)
                spot = place(rng, duration, speech, taken, length)
                if spot is None:
                    continue
                start, end = spot
                n = int((end - start) * sr)
                off = rng.randrange(max(1, len(m) - n))
                seg = m[off : off + n].copy()
                is_radio = rng.random() < 0.4
                is_reverb = rng.random() < 0.4
                rt60 = None
                if is_radio:
                    seg = radio(seg, sr)
                if is_reverb:
                    seg, rt60 = reverb(seg, sr, rng)
                fade = int(0.5 * sr)
                ramp = np.linspace(0.0, 1.0, fade)
                seg[:fade] *= ramp
                seg[-fade:] *= ramp[::-1]
                if stem == "DX":
                    ref = spans_rms_db(mono, sr, [(max(a, start), min(b, end)) for a, b in speech]
                                       if any(b > start and a < end for a, b in speech) else speech)
                    rel = -rng.uniform(6.0, 20.0)
                else:
                    ref = rms_db(mono[int(start * sr) : int(end * sr)])
                    rel = -rng.uniform(3.0, 12.0)
                gain = 10 ** ((ref + rel - rms_db(seg[fade:-fade])) / 20.0)
                i0 = int(start * sr)
                x[i0 : i0 + n] += (gain * seg)[:, None]
                taken.append((start, end))
                intervals.append({
                    "stem": STEM_NAME[stem], "start_s": round(start, 3), "end_s": round(start + n / sr, 3),
                    "source": "corpus:" + music, "source_offset_s": round(off / sr, 3),
                    "level_db_re_reference": round(rel, 1),
                    "reference": "speech level over the span" if stem == "DX" else "stem level over the span",
                    "radio": is_radio, "reverb_rt60_s": None if rt60 is None else round(rt60, 2),
                })
            out = os.path.join(dst, truth["files"][stem])
            if os.path.lexists(out):
                os.remove(out)
            peak = np.max(np.abs(x))
            if peak > 0.999:
                print(f"{reel} {stem}: peak {peak:.3f}, clipped", file=sys.stderr)
            sf.write(out, np.clip(x, -1.0, 1.0), sr, subtype=info.subtype)
        json.dump({"reel": reel, "music_set": args.music, "source_music": intervals},
                  open(os.path.join(dst, "source_music_truth.json"), "w"), indent=1)
        print(reel, [(i["stem"], i["start_s"], i["end_s"], i["level_db_re_reference"], i["radio"],
                      i["reverb_rt60_s"] is not None) for i in intervals])


def overlap(a, b):
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def union_len(spans):
    total, cur = 0.0, None
    for s, e in sorted(spans):
        if cur is None or s > cur[1]:
            if cur:
                total += cur[1] - cur[0]
            cur = [s, e]
        else:
            cur[1] = max(cur[1], e)
    if cur:
        total += cur[1] - cur[0]
    return total


def covered(t, spans):
    return union_len([(max(s, t[0]), min(e, t[1])) for s, e in spans if min(e, t[1]) > max(s, t[0])])


def evaluate(args):
    tot = {"truth": 0, "found": 0, "reported": 0, "false": 0, "false_s": 0.0, "tp_s": 0.0, "truth_s": 0.0,
           "rep_s": 0.0, "dialogue": [0, 0], "effects": [0, 0]}
    for reel in sorted(os.listdir(args.reels)):
        if not os.path.isfile(os.path.join(args.reels, reel, "truth.json")):
            continue
        rp = os.path.join(args.reports, reel, "report.json")
        if not os.path.isfile(rp):
            print(f"{reel}: no report", file=sys.stderr)
            continue
        rep = json.load(open(rp)).get("source_music", [])
        tp = os.path.join(args.reels, reel, "source_music_truth.json")
        truth = json.load(open(tp))["source_music"] if os.path.isfile(tp) else []
        line = []
        for stem in ("dialogue", "effects"):
            t = [(x["start_s"], x["end_s"]) for x in truth if x["stem"] == stem]
            r = [(x["start_s"], x["end_s"]) for x in rep if x["stem"] == stem]
            found = [x for x in t if covered(x, r) >= 0.5 * (x[1] - x[0])]
            false = [x for x in r if all(overlap(x, y) <= 0 for y in t)]
            tot[stem][0] += len(found)
            tot[stem][1] += len(t)
            tot["truth"] += len(t)
            tot["found"] += len(found)
            tot["reported"] += len(r)
            tot["false"] += len(false)
            tot["false_s"] += sum(e - s for s, e in false)
            tot["truth_s"] += union_len(t)
            tot["rep_s"] += union_len(r)
            tot["tp_s"] += sum(covered(x, r) for x in t)
            if t or r:
                line.append(f"{stem[:2].upper()} truth {len(t)} found {len(found)} reported {len(r)} false {len(false)}")
        if args.verbose or line:
            print(f"  {reel}: " + ("; ".join(line) if line else "nothing"))
    rec = tot["found"] / tot["truth"] if tot["truth"] else float("nan")
    prec = (tot["reported"] - tot["false"]) / tot["reported"] if tot["reported"] else float("nan")
    tr = tot["tp_s"] / tot["truth_s"] if tot["truth_s"] else float("nan")
    tpr = tot["tp_s"] / tot["rep_s"] if tot["rep_s"] else float("nan")
    f1 = 2 * tr * tpr / (tr + tpr) if tr == tr and tpr == tpr and tr + tpr > 0 else float("nan")
    print(f"OVERALL segments: truth {tot['truth']} found {tot['found']} recall {rec:.3f} | reported {tot['reported']} "
          f"false alarms {tot['false']} ({tot['false_s']:.1f} s) precision {prec:.3f} | time recall {tr:.3f} "
          f"precision {tpr:.3f} F1 {f1:.3f} | found DX {tot['dialogue'][0]}/{tot['dialogue'][1]} "
          f"FX {tot['effects'][0]}/{tot['effects'][1]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make", help="write reels with source music mixed into DX/FX")
    m.add_argument("--reels", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--music", choices=["dev", "heldout"], required=True)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--per-reel", type=int, default=2, help="excerpts on DX per reel")
    m.add_argument("--corpus", default=CORPUS)
    e = sub.add_parser("eval", help="score reports against the source-music truth")
    e.add_argument("--reels", required=True)
    e.add_argument("--reports", required=True)
    e.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    make(a) if a.cmd == "make" else evaluate(a)


if __name__ == "__main__":
    main()
