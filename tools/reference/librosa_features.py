#!/usr/bin/env python3
"""Reference frame features from librosa, for tests/features_reference.rs.

Writes tests/reference/librosa_features.json (small: scalars for every frame, mel/MFCC/contrast for
an evenly spread subset of frames). Generated signals use formulas that the Rust test re-generates
identically (float64 maths, cast to float32; white noise from a 32-bit LCG). Real clips are read
from ../shared/corpus (FLAC, lossless: symphonia in Rust decodes the same samples) and analysed at
their own rate with librosa's default STFT (2048/512); the Rust test skips them when the corpus is
absent.

Conventions matched (librosa defaults): stft center=True, pad_mode="constant", periodic Hann;
mel: Slaney scale, norm="slaney"; power_to_db(ref=1, amin=1e-10) WITHOUT top_db (a top_db clip is
relative to the whole signal's maximum, which a stream cannot know; spectral_contrast is run with
its power_to_db patched the same way); MFCC = DCT-II ortho of that log-mel; rms and
zero_crossing_rate with frame_length = n_fft; centroid, bandwidth, rolloff (0.85), flatness on the
magnitude STFT. Flux is our onset strength, mean over mel bands of clip(dB[t] - dB[t-1], 0, 70) on log-mel floored 70 dB
under each frame's top band,
computed here from librosa's log-mel (librosa's onset_strength also applies top_db and shifts its
output by n_fft // (2 hop) frames).

Run from the crate root: python3 tools/reference/librosa_features.py
"""
import functools
import json
import os
import sys

import numpy as np
import librosa
import librosa.feature.spectral as lfs
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ../shared/corpus from the main checkout; ../../shared/corpus from a worktree under /work/wt.
CORPUS = next(
    (p for p in (os.path.join(ROOT, "..", "shared", "corpus"), os.path.join(ROOT, "..", "..", "shared", "corpus"))
     if os.path.isdir(p)),
    os.path.join(ROOT, "..", "shared", "corpus"),
)
OUT = os.path.join(ROOT, "tests", "reference", "librosa_features.json")

lfs.power_to_db = functools.partial(librosa.power_to_db, top_db=None)

DEFAULT = dict(sr=16000, n_fft=1024, hop=160, n_mels=64, n_mfcc=20)
NATIVE = dict(n_fft=2048, hop=512, n_mels=128, n_mfcc=20)
SAMPLED_FRAMES = 24


def lcg_noise(n, seed=12345):
    out = np.empty(n, dtype=np.float32)
    x = seed
    for i in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = np.float32((x >> 8) / float(1 << 24) - 0.5)
    return out


def generated(name, sr):
    """Must match `generated()` in tests/features_reference.rs."""
    if name == "sweep":
        n, f0, f1 = 2 * sr, 50.0, 7500.0
        t = np.arange(n, dtype=np.float64) / sr
        k = np.log(f1 / f0) / 2.0
        return (0.5 * np.sin(2 * np.pi * f0 / k * (np.exp(k * t) - 1.0))).astype(np.float32)
    if name == "noise":
        return lcg_noise(sr)
    if name == "silence":
        return np.zeros(sr // 2, dtype=np.float32)
    if name == "clipped":
        t = np.arange(sr, dtype=np.float64) / sr
        return np.clip(2.5 * np.sin(2 * np.pi * 220.0 * t + 0.3 * np.sin(2 * np.pi * 3.0 * t)), -1.0, 1.0).astype(np.float32)
    if name == "dc":
        return np.full(sr // 2, 0.5, dtype=np.float32)
    if name == "tones":
        t = np.arange(sr, dtype=np.float64) / sr
        return (0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 1234.0 * t)).astype(np.float32)
    raise ValueError(name)


def r(a, nd=4):
    a = np.asarray(a, dtype=np.float64)
    return np.round(a, nd).tolist()


def features(y, sr, n_fft, hop, n_mels, n_mfcc):
    S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, center=True, pad_mode="constant"))
    P = S ** 2
    mel = librosa.feature.melspectrogram(S=P, sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=sr / 2.0)
    mel_db = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc, dct_type=2, norm="ortho")
    n = S.shape[1]
    # Our flux: log-mel floored 70 dB under each frame's strongest band, positive differences.
    # (floor 1e-30 instead of amin), positive differences capped at 70 dB.
    mel_tiny = 10.0 * np.log10(np.maximum(mel, 1e-30))
    mel_rel = np.maximum(mel_tiny, mel_tiny.max(axis=0, keepdims=True) - 70.0)
    flux = np.zeros(n)
    flux[1:] = np.clip(np.diff(mel_rel, axis=1), 0.0, 70.0).mean(axis=0)
    sel = np.unique(np.linspace(0, n - 1, min(SAMPLED_FRAMES, n)).round().astype(int))
    contrast_valid = contrast_validity(S, sr, n_fft)[:, sel].T
    return dict(
        n_frames=int(n),
        rms=r(librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop, center=True)[0], 6),
        zcr=r(librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop, center=True)[0], 6),
        centroid=r(librosa.feature.spectral_centroid(S=S, sr=sr, n_fft=n_fft)[0], 3),
        bandwidth=r(librosa.feature.spectral_bandwidth(S=S, sr=sr, n_fft=n_fft)[0], 3),
        rolloff=r(librosa.feature.spectral_rolloff(S=S, sr=sr, n_fft=n_fft)[0], 3),
        flatness=r(librosa.feature.spectral_flatness(S=S)[0], 6),
        flux=r(flux, 4),
        sampled=sel.tolist(),
        mel_db=r(mel_db[:, sel].T, 3),
        mfcc=r(mfcc[:, sel].T, 3),
        contrast=r(librosa.feature.spectral_contrast(S=S, sr=sr, n_fft=n_fft)[:, sel].T, 3),
        contrast_valid=contrast_valid.astype(int).tolist(),
    )


def contrast_validity(S, sr, n_fft, n_bands=6, fmin=200.0, quantile=0.02):
    """True where a contrast band's valley lies within 100 dB (power) of the frame's strongest bin:
    deeper valleys are float32 FFT rounding noise (e.g. between a pure tone's sidelobes), where
    two correct implementations disagree. Band layout as in librosa.feature.spectral_contrast."""
    freq = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    top = S.max(axis=0)
    valid = np.zeros((n_bands + 1, S.shape[1]), dtype=bool)
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
        band = np.logical_and(freq >= f_low, freq <= f_high)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1:] = True
        sub = S[band, :]
        if k < n_bands:
            sub = sub[:-1, :]
        q = int(max(np.rint(quantile * np.sum(band)), 1))
        valley = np.sort(sub, axis=0)[:q, :].mean(axis=0)
        valid[k] = valley > top * 1e-5
    return valid


def main():
    signals = []
    for name in ["sweep", "noise", "silence", "clipped", "dc", "tones"]:
        c = DEFAULT
        y = generated(name, c["sr"])
        signals.append(dict(name=name, source="generated", config=c, **features(y, **c)))
    clips = [
        "speech/smstools_speech-male.flac",
        "score/smstools_piano.flac",
        "song/ikala_10161_chorus_mix.flac",
        "vocals-isolated/vocalset_female1_vibrato.flac",
    ]
    for rel in clips:
        path = os.path.join(CORPUS, rel)
        if not os.path.exists(path):
            sys.exit(f"missing corpus file {path}")
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        seconds = 2.0
        y = np.ascontiguousarray(y[: int(seconds * sr), 0])
        c = dict(sr=int(sr), **NATIVE)
        signals.append(dict(name=rel, source="corpus", seconds=seconds, config=c, **features(y, **c)))
    doc = dict(
        librosa_version=librosa.__version__,
        numpy_version=np.__version__,
        script="tools/reference/librosa_features.py",
        signals=signals,
    )
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
