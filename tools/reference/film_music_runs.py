#!/usr/bin/env python3
"""Music-only test reels from real instrumental tracks the dev reels never use (development aid).

    bash tools/fetch_training_audio.sh /tmp/stemscope-train      # once; needs ffmpeg
    python3 tools/reference/film_music_runs.py /tmp/stemscope-train /tmp/music-runs --reels 8
    for d in /tmp/music-runs/DEV*/; do stemscope analyze $d -o OUT/$(basename $d); done
    python3 tools/reference/cue_eval.py /tmp/music-runs OUT

Why: the dev reels (`../shared/tools/build_dev_reels.sh`) draw every cue from `../shared/corpus`, and
the same excerpts recur across their seeds, so leaving a reel set out does not leave its music out.
These reels are built from the score tracks of four Debian packages that the corpus does not use
(asc-music, drascula-music, hyperrogue-music, nexuiz-music; GPL-2+ and the DFSG-free Drascula
licence, as `tools/fetch_training_audio.sh` records them in its MANIFEST.tsv), so a cue rule tuned on
the dev reels meets music it has never seen, and one tuned here can be tested on the dev reels.

What a reel holds (one mono 48 kHz 24-bit `DEVn_MX.wav` and a `truth.json` whose `cues` carry the
fields `cue_eval.py` reads): runs of 2-4 pieces, each a 15-60 s excerpt of a different track (with no
pause in it: nowhere 35 dB under its level for 1.5 s, so a cue's truth holds no silence) at a
normal (-23..-19 dB RMS) or, for 3 in 10, a quiet underscore level (-38..-32), joined by equal-power
crossfades of 1-3 s (a segue: the earlier cue's truth ends where its fade-out reaches zero, the later
one's starts where its fade-in begins, as in the dev reels), a run's first fade-in 0.05 s or 1-3 s and
its last fade-out 1.5-4 s (squared ramps), 6-10 s of silence between runs, and the whole stem ducked
6-10 dB under a pseudo-dialogue track (lines 1-5 s, pauses 1-8 s, 0.3 s ramps) as a mixer would.
There are no songs: these packages hold no sung music, so vocal presence is not exercised here.
`--crossfade MIN MAX` draws the segue crossfades from another range (session 25 built 3-6 s ones);
`--chain-level` puts every piece of a run at one level, so no segue steps in level (session 27).

Needs numpy and ffmpeg (each excerpt is decoded on demand; memory stays at one reel).
"""
import argparse, csv, json, os, pathlib, subprocess, sys, wave

import numpy as np

SR = 48000
PACKAGES = ("asc-music", "drascula-music", "hyperrogue-music", "nexuiz-music")


def score_tracks(train_dir, packages):
    """(path, licence) of the MANIFEST's score tracks from `packages`."""
    out = []
    if not (train_dir / "MANIFEST.tsv").exists():
        sys.exit(f"{train_dir}: no MANIFEST.tsv; run tools/fetch_training_audio.sh {train_dir} first")
    with open(train_dir / "MANIFEST.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            parts = row["path"].split("/")
            if row["class"] == "score" and len(parts) > 1 and parts[1] in packages:
                out.append((train_dir / row["path"], row["license"]))
    return sorted(out)


def duration_s(path):
    """Length in seconds, 0 when ffprobe cannot read the file (such tracks are left out)."""
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                        str(path)], capture_output=True, text=True)
    try:
        return float(r.stdout.strip())
    except ValueError:
        return 0.0


def excerpt(path, offset_s, dur_s):
    """Mono float64 samples of `path` from `offset_s`, `dur_s` long (zero-padded if short)."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{offset_s:.3f}", "-t", f"{dur_s:.3f}", "-i", str(path),
                        "-ac", "1", "-ar", str(SR), "-f", "f32le", "-"], capture_output=True)
    if r.returncode != 0:
        sys.exit(f"{path}: ffmpeg could not decode it: {r.stderr.decode(errors='replace').strip()}")
    raw = r.stdout
    x = np.frombuffer(raw, np.float32).astype(np.float64)
    n = int(round(dur_s * SR))
    return np.pad(x[:n], (0, max(0, n - len(x))))


def active_rms(x):
    """RMS over the louder half of 0.1 s blocks: the level of the music, not of its pauses."""
    b = x[: len(x) // 4800 * 4800].reshape(-1, 4800)
    r = np.sort(np.sqrt((b ** 2).mean(1) + 1e-20))
    return float(np.sqrt((r[len(r) // 2:] ** 2).mean()))


def has_pause(x, drop_db=35.0, longest_s=1.5):
    """Whether `x` sinks more than `drop_db` under its active level for `longest_s` or more."""
    b = x[: len(x) // 4800 * 4800].reshape(-1, 4800)
    quiet = 20 * np.log10(np.sqrt((b ** 2).mean(1)) + 1e-10) < 20 * np.log10(active_rms(x) + 1e-10) - drop_db
    run = 0
    for q in quiet:
        run = run + 1 if q else 0
        if run * 0.1 >= longest_s:
            return True
    return False


def write_wav24(path, x):
    pcm = np.clip(np.round(x * 8388607.0), -8388608, 8388607).astype("<i4")
    b = pcm.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(SR)
        w.writeframes(b)


def choose_excerpts(tracks, k, rng):
    """`k` excerpts (track index, offset, samples) of different tracks, 15-60 s each, none with a
    pause in it: a track's own ending or a break would put silence inside a cue's truth. None when
    the tracks run out."""
    chain, used = [], set()
    for _ in range(k):
        for _ in range(50):
            j = int(rng.integers(len(tracks)))
            if j in used:
                continue
            length = tracks[j][2]
            d = min(float(rng.uniform(15, 60)), length - 2.0)
            off = float(rng.uniform(0, length - d - 0.5))
            seg = excerpt(tracks[j][0], off, d)
            if not has_pause(seg):
                chain.append((j, off, seg))
                used.add(j)
                break
        else:
            return None
    return chain


def make_reel(tracks, minutes, rng, crossfade=(1.0, 3.0), chain_level=False):
    total = int(minutes * 60 * SR)
    sig = np.zeros(total)
    cues = []
    t = float(rng.uniform(3, 8))
    while True:
        k = int(rng.integers(2, 5))
        chain = choose_excerpts(tracks, k, rng)
        xfades = [float(rng.uniform(*crossfade)) for _ in range(k - 1)]
        draw_level = lambda: float(rng.uniform(-38, -32) if rng.random() < 0.3 else rng.uniform(-23, -19))
        run_level = draw_level() if chain_level else None
        if chain is None or t + sum(len(c[2]) / SR for c in chain) - sum(xfades) + 12 >= total / SR:
            break
        for i, (j, off, seg) in enumerate(chain):
            path, licence, length = tracks[j]
            level = run_level if chain_level else draw_level()
            seg *= 10 ** (level / 20) / max(active_rms(seg), 1e-9)
            n = len(seg)
            seg_in, seg_out = i > 0, i < k - 1
            fin = xfades[i - 1] if seg_in else float(rng.choice([0.05, rng.uniform(1, 3)]))
            fout = xfades[i] if seg_out else float(rng.uniform(1.5, 4.0))
            g = np.ones(n)
            a, b = int(fin * SR), int(fout * SR)
            r = np.linspace(0, 1, a)
            g[:a] = np.sin(r * np.pi / 2) if seg_in else r ** 2
            r = np.linspace(1, 0, b)
            g[n - b:] = np.minimum(g[n - b:], np.sin(r * np.pi / 2) if seg_out else r ** 2)
            p0 = int(round(t * SR))
            sig[p0:p0 + n] += (seg * g)[: total - p0]
            cues.append(dict(start_s=round(t, 3), end_s=round(t + n / SR, 3), kind="score",
                             source=str(path).split("/extract/")[-1], source_offset_s=round(off, 3), license=licence,
                             fade_in_s=round(fin, 3), fade_out_s=round(fout, 3), level_lufs=round(level, 1),
                             stinger=False, segue_in=seg_in, segue_out=seg_out))
            t += n / SR - (xfades[i] if seg_out else 0.0)
        t += float(rng.uniform(6, 10))
    # Duck under a pseudo-dialogue track, on a 10 ms grid with 0.3 s ramps (as build_dev_reels.py does).
    hop = SR // 100
    act = np.zeros(total // hop + 1)
    u = float(rng.uniform(0, 5))
    while u < total / SR:
        d = float(rng.uniform(1, 5))
        act[int(max(0.0, u - 0.3) * 100): int((u + d + 0.3) * 100) + 1] = 1
        u += d + float(rng.uniform(1, 8))
    act = np.convolve(act, np.ones(30) / 30, mode="same")
    duck_db = float(rng.uniform(6, 10))
    gain = 10 ** (-duck_db * act / 20)
    sig *= np.interp(np.arange(total) / hop, np.arange(len(gain)), gain)
    sig += rng.standard_normal(total) * 10 ** (-90 / 20)
    return sig, cues, duck_db


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("train_dir", type=pathlib.Path, help="folder written by tools/fetch_training_audio.sh")
    ap.add_argument("out_dir", type=pathlib.Path)
    ap.add_argument("--reels", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--crossfade", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                    help="segue crossfade lengths, seconds (uniform; default 1 3)")
    ap.add_argument("--chain-level", action="store_true",
                    help="every piece of a run at the run's one level (level-matched segues)")
    args = ap.parse_args()
    tracks = []
    for path, licence in score_tracks(args.train_dir, PACKAGES):
        length = duration_s(path)
        if length >= 20.0:  # a 15 s excerpt and room to place it
            tracks.append((path, licence, length))
    if len(tracks) < 4:
        sys.exit(f"{args.train_dir}: only {len(tracks)} usable score tracks from {', '.join(PACKAGES)}; "
                 "run tools/fetch_training_audio.sh first (with ffmpeg installed)")
    for r in range(1, args.reels + 1):
        rng = np.random.default_rng([args.seed, r])
        sig, cues, duck_db = make_reel(tracks, args.minutes, rng, tuple(args.crossfade), args.chain_level)
        d = args.out_dir / f"DEV{r}"
        os.makedirs(d, exist_ok=True)
        write_wav24(d / f"DEV{r}_MX.wav", sig)
        with open(d / "truth.json", "w") as f:
            json.dump(dict(generator="tools/reference/film_music_runs.py", seed=args.seed, reel=r,
                           music_duck_db=round(duck_db, 2), cues=cues), f, indent=1)
        print(f"{d}: {len(cues)} cues, {sum(c['segue_in'] for c in cues)} segues", file=sys.stderr)


if __name__ == "__main__":
    main()
