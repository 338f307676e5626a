#!/usr/bin/env bash
# Runs a stemscope binary over reel sets and scores each set (development aid).
#
#   tools/reference/score_reel_sets.sh BIN OUT REELS...
#   tools/reference/score_reel_sets.sh target/release/stemscope /tmp/out /tmp/dev-reels /tmp/dev-reels-b
#
# REELS are directories of DEVn/ reels from ../shared/tools/build_dev_reels.sh (or music-only reels from
# tools/reference/film_music_runs.py). Each reel's reports go to OUT/<set>/DEVn/. Per set it prints
# score.py's OVERALL line (when the truth has dialogue, i.e. build_dev_reels.sh reels) and cue_eval.py's
# cue P/R/F1, segue-side and segue-middle lines. A reel that fails to analyse is named and the run goes on.
set -uo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
bin=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
score=$here/../../../shared/tools/score.py
for reels in "$@"; do
  set_out=$out/$(basename "$reels")
  mkdir -p "$set_out"
  for reel in "$reels"/DEV*/; do
    name=$(basename "$reel")
    "$bin" analyze "$reel" -o "$set_out/$name" >/dev/null 2>"$set_out/$name.err" \
      || echo "FAILED $reel (see $set_out/$name.err)"
  done
  echo "== $reels"
  if [ -f "$score" ] && grep -q '"dialogue"' "$reels"/DEV1/truth.json 2>/dev/null; then
    python3 "$score" --reels "$reels" --reports "$set_out" | grep OVERALL
  fi
  python3 "$here/cue_eval.py" "$reels" "$set_out" | grep -E "cue P/R/F1|  segue :|segue middles"
done
