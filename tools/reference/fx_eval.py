#!/usr/bin/env python3
"""Scores effects events against a dev reel's fx_hits (development aid, standard library only).

    python3 tools/reference/fx_eval.py /tmp/dev-reels OUT_DIR [LEVELS]   # OUT_DIR/DEVn.json from fx_events

An event matches a hit when they overlap in time (one-to-one, greedy by overlap). Prints precision
and recall per reel and overall, for all hits and for the loud ones (peak -3..-1 dBFS). With LEVELS
(the TSV of fx_hit_levels.py, measured on the stems) also the recall on the hits that rise at least
10 LU above the median of their local bed: the events issue #4 asks for.
"""
import json, sys, pathlib

reels, outs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
above = {}
if len(sys.argv) > 3:
    rows = [l.split("\t") for l in open(sys.argv[3]).read().splitlines()]
    col = rows[0].index("above_median_lu")
    above = {(r[0], float(r[1])): float(r[col]) for r in rows[1:]}
tot = {"tp": 0, "ev": 0, "hits": 0, "loud": 0, "loud_found": 0, "lu10": 0, "lu10_found": 0}
for truth_path in sorted(reels.glob("DEV*/truth.json")):
    name = truth_path.parent.name
    out = outs / f"{name}.json"
    if not out.exists():
        continue
    hits = json.load(open(truth_path))["fx_hits"]
    events = json.load(open(out))["effects_events"]
    pairs = []
    for i, h in enumerate(hits):
        for j, e in enumerate(events):
            ov = min(h["end_s"], e["end_s"]) - max(h["start_s"], e["start_s"])
            if ov > 0:
                pairs.append((ov, i, j))
    used_h, used_e = set(), set()
    for ov, i, j in sorted(pairs, reverse=True):
        if i not in used_h and j not in used_e:
            used_h.add(i); used_e.add(j)
    loud = [i for i, h in enumerate(hits) if h.get("loud")]
    loud_found = sum(1 for i in loud if i in used_h)
    lu10 = [i for i, h in enumerate(hits) if above.get((name, h["start_s"]), -1e9) >= 10.0]
    tot["lu10"] += len(lu10); tot["lu10_found"] += sum(1 for i in lu10 if i in used_h)
    # covered: inside some event, though that event may already match another (overlapping) hit
    tot["lu10_covered"] = tot.get("lu10_covered", 0) + sum(
        1 for i in lu10 if any(ov > 0 for ov, k, _ in pairs if k == i))
    p = len(used_e) / len(events) if events else 0.0
    r = len(used_h) / len(hits) if hits else 0.0
    print(f"{name}: events {len(events)} hits {len(hits)} matched {len(used_h)} "
          f"precision {p:.2f} recall {r:.2f} loud recall {loud_found}/{len(loud)}")
    tot["tp"] += len(used_h); tot["ev"] += len(events); tot["hits"] += len(hits)
    tot["loud"] += len(loud); tot["loud_found"] += loud_found
if tot["ev"] and tot["hits"]:
    print(f"OVERALL: precision {tot['tp']/tot['ev']:.2f} recall {tot['tp']/tot['hits']:.2f} "
          f"loud recall {tot['loud_found']}/{tot['loud']}")
if above:
    print(f"hits >= 10 LU above their bed (median): recall {tot['lu10_found']}/{tot['lu10']}, "
          f"inside an event {tot.get('lu10_covered', 0)}/{tot['lu10']}")
