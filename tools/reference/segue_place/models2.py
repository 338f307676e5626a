"""Variants: training set (g+xf vs g only), target clip, shrink, Huber; choose on g CV only."""
import sys, numpy as np
sys.path.insert(0, "/tmp/lead/place19")
from models import *

def huber(Xtr, ytr, lam, delta=0.3, it=20):
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-9
    Z = np.c_[(Xtr - mu) / sd, np.ones(len(Xtr))]
    w = np.zeros(Z.shape[1]); R = lam * np.eye(Z.shape[1]); R[-1, -1] = 0
    for _ in range(it):
        r = ytr - Z @ w; wt = np.where(np.abs(r) <= delta, 1.0, delta / np.maximum(np.abs(r), 1e-9))
        w = np.linalg.solve(Z.T @ (Z * wt[:, None]) + R, Z.T @ (wt * ytr))
    return lambda Xt: np.c_[(Xt - mu) / sd, np.ones(len(Xt))] @ w

def run(name, kind, lam, clip=1.5, shrink=1.0, xf=True, hub=None, cap=1.0):
    def fn(tr, te):
        tr = [r for r in tr if xf or r["set"].startswith("G")]
        f = (huber(X(tr, kind), Y(tr, clip), lam, hub) if hub else ridge(X(tr, kind), Y(tr, clip), lam))
        return np.clip(shrink * f(X(te, kind)), -cap, cap)
    report(name, fn)

if __name__ == "__main__":
    for kind in ["l", "ml", "sml", "csmlpq"]:
        for lam in [10, 100]:
            run(f"{kind} {lam}", kind, lam)
            run(f"{kind} {lam} gonly", kind, lam, xf=False)
            run(f"{kind} {lam} clip1", kind, lam, clip=1.0)
            run(f"{kind} {lam} shrink.6", kind, lam, shrink=0.6)
            run(f"{kind} {lam} cap.6", kind, lam, cap=0.6)
            run(f"{kind} {lam} huber.3", kind, lam, hub=0.3)
            run(f"{kind} {lam} huber.3 gonly", kind, lam, hub=0.3, xf=False)
