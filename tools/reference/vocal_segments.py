"""The vocal-segment decoder of src/detect/vocals.rs (`smooth_with_reference`), shared by the Python tools.

Per-window voice probabilities -> voice segments in seconds: a two-state (no voice / voice) Viterbi
decoding whose emission reads each window's probability against a reference probability (the prior,
or a lower one inside song cues since session 17), then the voice runs as segments on the
window-centre grid (half a hop either side of the first and last voice window's centre, plus
`end_pad_s` at the end), gaps under `min_gap_s` filled, segments under `min_segment_s` dropped.
One copy, so the studies that port the pipeline cannot drift apart:
tools/reference/kind_study.py (with the song re-read and the end pad, as shipped),
tools/cue_rule_study.py and tools/cnn_screen.py (the smoothing before session 17: no end pad).

Only numpy. tools/cue_rule_study.py and tools/cnn_screen.py put this directory on sys.path to
import it.
"""
import math

import numpy as np


def smooth(p, starts=None, *, switch_prob, prior, min_gap_s, min_segment_s, end_pad_s=0.0,
           ref=None, hop=None, win_len=1.0):
    """Voice segments `[[start_s, end_s], ...]` (floats, in time order) of window probabilities `p`.

    The settings are models/vocal-v1.json's "smoothing" (Rust `Smoothing`); `end_pad_s` defaults to
    0 (the smoothing before session 17). `starts`: each window's start, seconds; None = a regular
    grid, window i starting at i * `hop` (then `hop` is required). `hop`: None = derived from
    `starts` as the Rust does ((last - first) / (n - 1), `win_len` for a single window); given =
    used as is, also for a single window (tools/cue_rule_study.py's convention). `ref`: the
    emission's reference probability per window (None = `prior` everywhere). Clamped like the Rust:
    prior and ref to [1e-3, 1 - 1e-3], switch_prob to [1e-9, 0.5], p to [1e-4, 1 - 1e-4], a negative
    end pad to 0. Decodes the first min(len(p), len(starts), len(ref)) windows.
    """
    n = len(p)
    if starts is not None:
        n = min(n, len(starts))
    if ref is not None:
        n = min(n, len(ref))
    if n == 0:
        return []
    if starts is None:
        starts = np.arange(n) * hop
    prior = min(max(prior, 1e-3), 1 - 1e-3)
    q = min(max(switch_prob, 1e-9), 0.5)
    stay, switch = math.log(1 - q), math.log(q)
    pt = np.clip(np.asarray(p[:n], np.float64), 1e-4, 1 - 1e-4)
    r = np.full(n, prior) if ref is None else np.clip(np.asarray(ref, np.float64)[:n], 1e-3, 1 - 1e-3)
    e0 = np.log((1 - pt) / (1 - r)).tolist()
    e1 = np.log(pt / r).tolist()
    score = [math.log(1 - prior) + e0[0], math.log(prior) + e1[0]]
    back = np.zeros((n, 2), np.int8)
    for t in range(1, n):
        e = (e0[t], e1[t])
        nxt = [0.0, 0.0]
        for k in (0, 1):
            same, other = score[k] + stay, score[1 - k] + switch
            if other > same:
                nxt[k], back[t, k] = other + e[k], 1 - k
            else:
                nxt[k], back[t, k] = same + e[k], k
        score = nxt
    state = np.zeros(n, np.int8)
    k = 1 if score[1] > score[0] else 0
    for t in range(n - 1, -1, -1):
        state[t] = k
        k = back[t, k]
    if hop is None:
        hop = (starts[n - 1] - starts[0]) / (n - 1) if n > 1 else win_len
    pad = max(end_pad_s, 0.0)
    segs, t = [], 0
    while t < n:
        if state[t]:
            a0 = t
            while t < n and state[t]:
                t += 1
            a = max(float(starts[a0] + win_len / 2 - hop / 2), 0.0)
            b = float(starts[t - 1] + win_len / 2 + hop / 2 + pad)
            if segs and a - segs[-1][1] < min_gap_s:
                segs[-1][1] = b
            else:
                segs.append([a, b])
        else:
            t += 1
    return [s for s in segs if s[1] - s[0] >= min_segment_s]
