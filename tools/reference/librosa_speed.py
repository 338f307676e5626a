#!/usr/bin/env python3
"""Times librosa on the feature set our engine is compared with (docs/measurements.md, "Feature engine speed").

    python3 tools/reference/librosa_speed.py FILE_48k.wav [repeats]

1. load + resample: librosa.load(FILE, sr=22050, mono=True) (soxr_hq), timed once;
2. features on that signal, best of `repeats`: |STFT| 2048/512, 128-band mel power, 20 MFCC on
   power_to_db, spectral centroid, flatness, roll-off (from the same |STFT|), zero-crossing rate,
   onset strength (from the same log-mel), i.e. each quantity computed once, the fast way.
Prints seconds, frames, and the peak resident memory of the process.
"""
import resource
import sys
import time

import librosa
import numpy as np


def features(y, sr):
    S = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))
    mel = librosa.feature.melspectrogram(S=S ** 2, sr=sr, n_fft=2048, n_mels=128)
    mel_db = librosa.power_to_db(mel)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=20)
    cent = librosa.feature.spectral_centroid(S=S, sr=sr)
    flat = librosa.feature.spectral_flatness(S=S)
    roll = librosa.feature.spectral_rolloff(S=S, sr=sr)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr)
    return S.shape[1], mfcc, cent, flat, roll, zcr, onset


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    t0 = time.perf_counter()
    y, sr = librosa.load(path, sr=22050, mono=True)
    t_load = time.perf_counter() - t0
    features(y[: sr * 5], sr)  # warm up (FFT plans, caches)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        n_frames = features(y, sr)[0]
        best = min(best, time.perf_counter() - t0)
    audio_s = len(y) / sr
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"librosa {librosa.__version__}: {audio_s:.1f} s of audio, {n_frames} frames")
    print(f"load+resample to 22050 mono: {t_load:.3f} s")
    print(f"features (best of {repeats}): {best:.3f} s = {audio_s / best:.0f}x real time")
    print(f"load + features: {t_load + best:.3f} s; peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
