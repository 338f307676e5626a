#!/usr/bin/env python3
"""Times essentia on the feature list of tools/reference/librosa_speed.py (docs/measurements.md, "Feature engine speed").

    python3 tools/reference/essentia_speed.py FILE_48k.wav [repeats]

1. load + resample: essentia.standard.MonoLoader(FILE, sampleRate=22050), timed once;
2. features on that signal, best of `repeats`, frame by frame (essentia's standard mode, the usual
   way to write it): frames of 2048 every 512 centred on multiples of the hop (FrameGenerator,
   startFromZero=False, like librosa's center=True), Hann window, magnitude spectrum; MFCC
   (Slaney mel scale, 128 unit-area bands from 0 to 11025 Hz on the power spectrum, dB, DCT-II,
   20 coefficients), which also returns the 128 mel band energies; spectral centroid, flatness and
   85 % roll-off of the spectrum; zero-crossing rate of the frame; onset strength as the
   half-rectified L1 flux of the mel bands.
Prints seconds, frames, and the peak resident memory of the process.
"""
import resource
import sys
import time

import essentia
import essentia.standard as es

SR = 22050
N_FFT = 2048
HOP = 512


def features(y):
    window = es.Windowing(type="hann", size=N_FFT, zeroPadding=0, normalized=False)
    spectrum = es.Spectrum(size=N_FFT)
    mfcc = es.MFCC(
        inputSize=N_FFT // 2 + 1,
        sampleRate=SR,
        numberBands=128,
        numberCoefficients=20,
        lowFrequencyBound=0,
        highFrequencyBound=SR / 2,
        type="power",
        warpingFormula="slaneyMel",
        normalize="unit_tri",
        weighting="linear",
        logType="dbpow",
        dctType=2,
    )
    centroid = es.Centroid(range=SR / 2)
    flatness = es.Flatness()
    rolloff = es.RollOff(cutoff=0.85, sampleRate=SR)
    zcr = es.ZeroCrossingRate()
    flux = es.Flux(norm="L1", halfRectify=True)
    rows = []
    for frame in es.FrameGenerator(
        y, frameSize=N_FFT, hopSize=HOP, startFromZero=False, validFrameThresholdRatio=0
    ):
        spec = spectrum(window(frame))
        bands, coeffs = mfcc(spec)
        rows.append(
            (coeffs, centroid(spec), flatness(spec), rolloff(spec), zcr(frame), flux(bands))
        )
    return rows


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    t0 = time.perf_counter()
    y = es.MonoLoader(filename=path, sampleRate=SR)()
    t_load = time.perf_counter() - t0
    features(y[: SR * 5])  # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        n_frames = len(features(y))
        best = min(best, time.perf_counter() - t0)
    audio_s = len(y) / SR
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"essentia {essentia.__version__}: {audio_s:.1f} s of audio, {n_frames} frames")
    print(f"load+resample to {SR} mono: {t_load:.3f} s")
    print(f"features (best of {repeats}): {best:.3f} s = {audio_s / best:.0f}x real time")
    print(f"load + features: {t_load + best:.3f} s; peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
