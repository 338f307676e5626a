"""Stability of the 'ml' ridge: lambda neighbours, and reels results of models trained on halves of g."""
import sys, numpy as np
sys.path.insert(0, "/tmp/lead/place19")
from models3 import *
reel = sum((D[n] for n in REEL), [])
for lam in [3, 10, 30]:
    report(f"ml {lam}", mk("ml", lam))
    for nm, tr in [("G1-4+xf", g1 + D["xf"]), ("G5-8+xf", g2 + D["xf"]), ("g only", D["g"]), ("xf only", D["xf"])]:
        p = mk("ml", lam)(tr, reel); s = score(reel, p)
        print(f"   trained on {nm:8s} reels {s[1]}/{s[2]}/{s[3]}  med {s[4]:.2f}  {paired(reel, p)}")
s = score(reel, np.zeros(len(reel))); print("today reels", s)
