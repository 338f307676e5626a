"""Per found segue (report split within 3 s of a truth middle): local novelty curves, level step, target.
Sources: g (/tmp/lead/xf/g, reports og19b, dumps /tmp/lead/place19/g), xf sets (out-19b, curves.tsv/levels.tsv),
reels (o-m19b, /tmp/lead/xf/cv, /tmp/lead/xf/lv)."""
import json, pathlib, sys, numpy as np
sys.path.insert(0, "/tmp/lead/xf")
from steps import splits_of, REELS, load_levels

OFFS = np.arange(-2.0, 2.0001, 0.25)       # sample grid relative to the split
COLS = {"12": 3, "3": 6, "4": 7, "6": 8}

def item(name, m, L, sp, cv, lv):
    c = [p for p in sp if abs(p[0] - m) <= 3]
    if not c: return None
    x = min(c, key=lambda p: abs(p[0] - m))[0]
    run = cv[(cv[:, 0] <= x + 1e-6) & (cv[:, 1] >= x - 1e-6)]
    if len(run) == 0: return None
    t = run[:, 2]
    r = dict(set=name, m=m, L=L, x=x, y=m - x)
    cur = {}
    for k, col in COLS.items():
        v = run[:, col].copy()
        ok = v > 0
        med = np.sort(v[ok])[ok.sum() // 2] if ok.any() else 1.0   # Rust's median: sorted[n / 2]
        vv = np.where(ok, v, np.nan)
        # exact lookup on the 0.25 s grid of the 12 s curve's tested points; 0 where none or no value
        s = np.zeros(len(OFFS))
        for i, o in enumerate(OFFS):
            j = np.argmin(np.abs(t - (x + o)))
            if abs(t[j] - (x + o)) < 0.06 and ok[j]: s[i] = v[j]
        cur[k] = (t, vv, med, s)
    r["cur"] = cur
    # candidates (relative to x): argmax of each curve within +-1 of the 12 s peak
    near = np.nonzero(np.abs(t - x) <= 1.3)[0]
    i12 = near[np.nanargmax(run[near, 3])] if len(near) else None
    t12 = t[i12] if i12 is not None else x
    cand = {"p12": t12 - x}
    for k in ("3", "4", "6", "12"):
        tt, vv, med, _ = cur[k]
        sel = np.nonzero((np.abs(tt - t12) <= 1.0) & ~np.isnan(vv))[0]
        cand["arg" + k] = (tt[sel[np.argmax(vv[sel])]] - x) if len(sel) else t12 - x
        sel = np.nonzero((np.abs(tt - x) <= 1.0) & ~np.isnan(vv))[0]
        cand["ax" + k] = (tt[sel[np.argmax(vv[sel])]] - x) if len(sel) else 0.0
    r["cand"] = cand
    # pitch-class distance at x
    j = np.argmin(np.abs(t - x)); r["pcd"] = run[j, 5]
    r["med12"] = run[0, 4]; r["ratio12"] = run[j, 3] / max(run[0, 4], 1e-9)
    # level profile
    ts, db, ok = lv
    c = ts + 0.5
    def q(lo, hi, p=80):
        s = db[ok & (c > x + lo) & (c < x + hi)]
        return np.percentile(s, p) if len(s) >= 3 else np.nan
    r["lb"], r["la"] = q(-8, -2), q(2, 8)
    r["step"] = (r["la"] - r["lb"]) if not (np.isnan(r["la"]) or np.isnan(r["lb"])) else 0.0
    r["lprof"] = np.interp(x + OFFS, c, db)
    return r

def g_items(sets=range(1, 9), rep="/tmp/lead/xf/og19b"):
    out = []
    for i in sets:
        truth = json.load(open(f"/tmp/lead/xf/g/G{i}/truth.json"))["cues"]
        sp = splits_of(json.load(open(f"{rep}/G{i}/report.json"))["cues"])
        cv = np.loadtxt(f"/tmp/lead/place19/g/G{i}.tsv")
        lv = load_levels(f"/tmp/lead/place19/g/G{i}.lv.tsv")
        for a, b in zip(truth, truth[1:]):
            if b["segue_in"]:
                r = item(f"G{i}", (a["end_s"] + b["start_s"]) / 2, a["end_s"] - b["start_s"], sp, cv, lv)
                if r: out.append(r)
    return out

def xf_items(sets=("set1", "set2", "set3", "set4"), rep="/tmp/lead/xf/out-19b"):
    out = []
    for s in sets:
        truth = json.load(open(f"/tmp/lead/xf/{s}/xf_truth.json"))
        sp = splits_of(json.load(open(f"{rep}/{s}/report.json"))["cues"])
        cv = np.loadtxt(f"/tmp/lead/xf/{s}/curves.tsv")
        lv = load_levels(f"/tmp/lead/xf/{s}/levels.tsv")
        for t in truth:
            r = item(s, t["middle_s"], t["length_s"], sp, cv, lv)
            if r: out.append(r)
    return out

def reel_items(names, rep="/tmp/lead/o-m19b"):
    out = []
    for n in names:
        for tp in sorted(pathlib.Path(REELS[n]).glob("DEV*/truth.json")):
            d = tp.parent.name
            truth = json.load(open(tp))["cues"]
            sp = splits_of(json.load(open(f"{rep}/{n}/{d}/report.json"))["cues"])
            cv = np.loadtxt(f"/tmp/lead/xf/cv/{n}-{d}.tsv")
            lv = load_levels(f"/tmp/lead/xf/lv/{n}-{d}.tsv")
            for a, b in zip(truth, truth[1:]):
                if b["segue_in"]:
                    r = item(n, (a["end_s"] + b["start_s"]) / 2, a["end_s"] - b["start_s"], sp, cv, lv)
                    if r: out.append(r)
    return out

def score(items, pred):
    """pred: correction added to x per item. Returns (n, w1, w.5, sides, median |e|)."""
    e = np.array([-(r["y"] - p) for r, p in zip(items, pred)])  # placed - truth
    d = np.array([abs(1 - r["L"] / 2) for r in items]); ae = np.abs(e)
    sides = int(np.sum((np.abs(e + d) <= .5).astype(int) + (np.abs(e - d) <= .5)))
    return len(e), int(np.sum(ae <= 1)), int(np.sum(ae <= .5)), sides, float(np.median(ae))

if __name__ == "__main__":
    import pickle
    D = dict(g=g_items(), xf=xf_items())
    for n in ("dev", "c", "e", "f"):
        D[n] = reel_items([n])
    pickle.dump(D, open("/tmp/lead/place19/items.pkl", "wb"))
    for k, v in D.items():
        ys = np.array([r["y"] for r in v]); c6 = np.array([r["cand"]["arg6"] for r in v])
        print(k, len(v), "base", score(v, np.zeros(len(v))), "arg6-x max", np.abs(c6).max())
