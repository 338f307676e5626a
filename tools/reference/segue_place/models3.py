"""Compact shape features + paired gain/loss counts on reels."""
import sys, numpy as np
sys.path.insert(0, "/tmp/lead/place19")
from models import *
from models2 import huber
import models

def compact(r):
    f = []
    for k in ("3", "4", "6", "12"):
        s = r["cur"][k][3]; w = np.clip(s - 0.8 * s.max(), 0, None)
        f += [OFFS[np.argmax(s)], (w * OFFS).sum() / max(w.sum(), 1e-9), (s[OFFS > 0].mean() - s[OFFS < 0].mean()) / max(s.max(), 1e-9)]
    st = np.clip(r["step"], -15, 15); f += [st / 10, max(st, 0) / 10, min(st, 0) / 10]
    return np.array(f)

_old = models.feats
def feats2(r, kind):
    f = [_old(r, kind.replace("k", ""))] if kind.replace("k", "") else []
    if "k" in kind: f.append(compact(r))
    return np.concatenate(f)
models.feats = feats2

def paired(items, p):
    e0 = np.abs([r["y"] for r in items]); e1 = np.abs(np.array([r["y"] for r in items]) - p)
    return f"w1 +{np.sum((e1 <= 1) & (e0 > 1))}-{np.sum((e1 > 1) & (e0 <= 1))} w.5 +{np.sum((e1 <= .5) & (e0 > .5))}-{np.sum((e1 > .5) & (e0 <= .5))}"

def mk(kind, lam, clip=1.5, shrink=1.0, cap=1.0):
    def fn(tr, te):
        f = ridge(models.X(tr, kind), Y(tr, clip), lam)
        return np.clip(shrink * f(models.X(te, kind)), -cap, cap)
    return fn

if __name__ == "__main__":
    for kind in ["k", "kq"]:
        for lam in [1, 10, 100]:
            for sh in [1.0, 0.6]:
                report(f"{kind} {lam} sh{sh}", mk(kind, lam, shrink=sh))
    reel = sum((D[n] for n in REEL), [])
    for kind, lam, sh in [("ml", 10, 1.0), ("ml", 10, .6), ("csmlpq", 100, .6), ("k", 10, 1.0), ("l", 10, 1.0), ("sml", 100, .6)]:
        p = mk(kind, lam, shrink=sh)(D["g"] + D["xf"], reel)
        print(kind, lam, sh, "reels paired", paired(reel, p))
