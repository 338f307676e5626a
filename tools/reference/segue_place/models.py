"""Learned placement corrections: train on g (+xf), CV G1-4 vs G5-8, test on reel dev sets."""
import pickle, sys, numpy as np
sys.path.insert(0, "/tmp/lead/place19")
from data import score, OFFS
D = pickle.load(open("/tmp/lead/place19/items.pkl", "rb"))
CANDS = ["p12", "arg3", "arg4", "arg6", "arg12", "ax3", "ax4", "ax6"]

def feats(r, kind):
    f = []
    if "c" in kind:
        f += [r["cand"][c] for c in CANDS]
    if "s" in kind:   # curve samples, each scale normalized by its max in the window
        for k in ("3", "4", "6", "12"):
            s = r["cur"][k][3]; mx = s.max() if s.max() > 0 else 1.0
            f += list(s / mx)
    if "m" in kind:   # curve samples normalized by the run median
        for k in ("3", "4", "6", "12"):
            s = r["cur"][k][3]; f += list(s / r["cur"][k][2])
    if "l" in kind:
        st = np.clip(r["step"], -15, 15); f += [st / 10, max(st, 0) / 10, min(st, 0) / 10]
    if "p" in kind:
        lp = r["lprof"]; f += list((lp - lp.mean()) / 10)
    if "q" in kind:
        f += [max(r["pcd"], 0), np.log(max(r["ratio12"], 1e-3))]
    return np.array(f, float)

def X(items, kind): return np.array([feats(r, kind) for r in items])
def Y(items, clip=1.5): return np.clip([r["y"] for r in items], -clip, clip)

def ridge(Xtr, ytr, lam):
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-9
    Z = (Xtr - mu) / sd
    A = Z.T @ Z + lam * np.eye(Z.shape[1])
    w = np.linalg.solve(A, Z.T @ (ytr - ytr.mean()))
    return lambda Xt: ((Xt - mu) / sd) @ w + ytr.mean()

def fit_pred(kind, lam, tr, te, cap=1.0, shrink=1.0):
    f = ridge(X(tr, kind), Y(tr), lam)
    return np.clip(shrink * f(X(te, kind)), -cap, cap)

def selector(lam, tr, te, kind="smlq"):
    """Predict each candidate's |error| by ridge; choose the least."""
    Xtr, Xte = X(tr, kind), X(te, kind)
    preds = []
    for c in CANDS + ["zero"]:
        off_tr = np.array([r["cand"].get(c, 0.0) for r in tr]); off_te = np.array([r["cand"].get(c, 0.0) for r in te])
        err = np.minimum(np.abs(np.array([r["y"] for r in tr]) - off_tr), 2.0)
        f = ridge(Xtr, err, lam); preds.append((f(Xte), off_te))
    P = np.array([p for p, _ in preds]); O = np.array([o for _, o in preds])
    k = P.argmin(0)
    return O[k, np.arange(len(te))]

def fmt(s): return f"w1 {s[1]:3d} w.5 {s[2]:3d} sides {s[3]:3d} med {s[4]:.2f}"

G = D["g"]; g1 = [r for r in G if r["set"] in ("G1", "G2", "G3", "G4")]; g2 = [r for r in G if r not in g1]
REEL = ["dev", "c", "e", "f"]
def report(name, fn):
    # fn(train, test) -> corrections
    cv = np.zeros(4)
    out = []
    p1 = fn(g1 + D["xf"], g2); p2 = fn(g2 + D["xf"], g1)
    s1, s2 = score(g2, p1), score(g1, p2)
    gcv = (s1[1] + s2[1], s1[2] + s2[2], s1[3] + s2[3])
    tr = G + D["xf"]
    rs = []; tot = np.zeros(3, int)
    for n in REEL:
        s = score(D[n], fn(tr, D[n])); rs.append(f"{n} {s[1]}/{s[2]}/{s[3]}"); tot += s[1:4]
    print(f"{name:34s} gCV {gcv[0]:3d}/{gcv[1]:3d}/{gcv[2]:3d} | reels {tot[0]:2d}/{tot[1]:2d}/{tot[2]:2d}  ({', '.join(rs)})", flush=True)

if __name__ == "__main__":
    report("today (x)", lambda tr, te: np.zeros(len(te)))
    for c in CANDS:
        report(f"cand {c}", lambda tr, te, c=c: np.array([r["cand"][c] for r in te]))
    report("const bias", lambda tr, te: np.full(len(te), np.median(Y(tr))))
    for kind in ["c", "l", "cl", "s", "sl", "m", "ml", "sml", "csmlq", "csmlpq"]:
        for lam in [1, 10, 100, 1000]:
            report(f"ridge {kind} lam {lam}", lambda tr, te, kind=kind, lam=lam: fit_pred(kind, lam, tr, te))
    for lam in [10, 100, 1000]:
        for kind in ["c", "sml", "csmlq"]:
            report(f"selector {kind} lam {lam}", lambda tr, te, lam=lam, kind=kind: selector(lam, tr, te, kind))
