"""Gated corrections: apply the model's shift only where |shift| > gate (hard) or soft-threshold it."""
import sys, numpy as np
sys.path.insert(0, "/tmp/lead/place19")
from models3 import *

def gated(kind, lam, gate, soft=False, shrink=1.0):
    base = mk(kind, lam, shrink=shrink)
    def fn(tr, te):
        p = base(tr, te)
        if soft: return np.sign(p) * np.maximum(np.abs(p) - gate, 0)
        return np.where(np.abs(p) > gate, p, 0.0)
    return fn

if __name__ == "__main__":
    reel = sum((D[n] for n in REEL), [])
    for kind, lam in [("k", 10), ("k", 100), ("ml", 10), ("l", 10)]:
        for gate in [0.0, 0.2, 0.3, 0.4, 0.5]:
            for soft in [False, True]:
                if soft and gate == 0: continue
                fn = gated(kind, lam, gate, soft)
                report(f"{kind} {lam} gate {gate} {'soft' if soft else 'hard'}", fn)
                print("    paired", paired(reel, fn(D["g"] + D["xf"], reel)))
