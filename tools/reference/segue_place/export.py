"""Train the shipped placement model ('ml', ridge lambda 10, target clipped to +-1.5 s, output capped at +-1 s)
on all of g (196 found segues) + the xf sets (108) and write it as JSON with the standardisation folded in.
    /tmp/dev-reels-venv/bin/python /tmp/lead/place19/data.py && /tmp/dev-reels-venv/bin/python /tmp/lead/place19/export.py OUT.json"""
import sys, json, numpy as np
sys.path.insert(0, "/tmp/lead/place19")
from models import D, X, Y, OFFS
tr = D["g"] + D["xf"]
Xtr, ytr = X(tr, "ml"), Y(tr, 1.5)
mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-9
Z = (Xtr - mu) / sd
w = np.linalg.solve(Z.T @ Z + 10 * np.eye(Z.shape[1]), Z.T @ (ytr - ytr.mean()))
wf = w / sd; b = ytr.mean() - (mu * wf).sum()
assert np.allclose(Xtr @ wf + b, Z @ w + ytr.mean())
scales = [3.0, 4.0, 6.0, 12.0]
print("largest curve input in training %.2f" % Xtr[:, :68].max())  # 7.41: the model is not applied beyond 7.5
m = {
  "format": "stemscope-segue-place", "format_version": 1, "model_version": "1",
  "description": "Correction added to a refined segue change point, seconds: a ridge regression (lambda 10 on standardised inputs, folded in here) of truth crossfade middle minus change point.",
  "training": "g (/tmp/lead/xf/g G1-G8: 196 found segues) + xf sets (/tmp/lead/xf/set1-4: 108), reports of bin-m19b; /tmp/lead/place19/data.py then export.py (session 19, helper place19)",
  "scales_s": scales, "offsets_s": [float(o) for o in OFFS], "min_side_s": 1.0,
  "step_near_s": 2.0, "step_far_s": 8.0, "step_percentile": 80.0, "step_min_windows": 3, "step_clip_db": 15.0,
  "max_shift_s": 1.0,
  "max_curve_input": 7.5,
  "weights_curve": [[float(v) for v in wf[i * len(OFFS):(i + 1) * len(OFFS)]] for i in range(len(scales))],
  "weights_step": [float(v) for v in wf[len(scales) * len(OFFS):]],
  "intercept": float(b),
}
json.dump(m, open(sys.argv[1], "w"), indent=1)
# reference predictions for a Rust parity check: first few reel items
from models import D as DD
for r in DD["dev"][:3]:
    print(r["x"], float(np.clip(X([r], "ml") @ wf + b, -1, 1)[0]))
peak = np.concatenate([1 + 2 * np.exp(-OFFS ** 2 / 2)] * 4)
for st in (1.2, -1.2, 0.0):
    print("typical peak, step %+.0f dB: shift %.3f" % (st * 10, np.clip(peak @ wf[:68] + wf[68:] @ [st, max(st, 0), min(st, 0)] + b, -1, 1)))
