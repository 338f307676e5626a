#!/usr/bin/env bash
# Reference loudness figures from ffmpeg's ebur128 filter, for tests/loudness_reference.rs.
#
#   bash tools/reference/loudness_reference.sh [CORPUS_DIR] > tests/data/loudness_reference.tsv
#
# For each case, runs
#   ffmpeg -nostats -i INPUT -filter_complex ebur128=peak=true -f null -
# and keeps the summary's integrated loudness (LUFS), loudness range (LU) and true peak (dBTP).
# Corpus cases name a file relative to the corpus (default ../shared/corpus from the crate root).
# Generated cases are 5.1 (L R C LFE Ls Rs) and mono signals made by ffmpeg's aevalsrc from the
# expressions below; tests/loudness_reference.rs re-creates the same signals by name.
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS="${1:-../shared/corpus}"

measure() { # args: ffmpeg input arguments...
    ffmpeg -hide_banner -nostats "$@" -filter_complex ebur128=peak=true -f null - 2>&1 |
        awk '/Summary:/ {s=1} s && /I:/ {i=$2} s && /LRA:/ && !/LRA (low|high)/ {l=$2} s && /Peak:/ {p=$2}
             END {print i "\t" l "\t" p}'
}

echo -e "# ffmpeg $(ffmpeg -version | head -1 | awk '{print $3}'); ebur128=peak=true; columns: kind name rate channels integrated_lufs lra_lu true_peak_dbtp"
for f in \
    score/smstools_orchestra.flac \
    speech/smstools_speech-male.flac \
    vocals-isolated/openair_operatic_voice.flac \
    song/spleeter_slow_motion_dream.flac \
    speech/whisper_jfk.flac \
    effects/librosa_pibble.ogg; do
    rate=$(awk -F'\t' -v p="$f" '$1==p {print $4}' "$CORPUS/MANIFEST.tsv")
    ch=$(awk -F'\t' -v p="$f" '$1==p {print $5}' "$CORPUS/MANIFEST.tsv")
    echo -e "corpus\t$f\t$rate\t$ch\t$(measure -i "$CORPUS/$f")"
done

# Generated signals (20 s): keep in step with `generated()` in tests/loudness_reference.rs.
gen() { # name rate layout exprs
    echo -e "generated\t$1\t$2\t$3\t$(measure -f lavfi -i "aevalsrc=exprs=$4:s=$2:d=20:c=$3")"
}
gen tones_5_1 48000 5.1 \
  "0.1*sin(2*PI*1000*t)|0.1*sin(2*PI*1000*t)|0.2*sin(2*PI*500*t)|0.5*sin(2*PI*60*t)|0.05*sin(2*PI*2000*t)|0.05*sin(2*PI*3000*t)"
gen swell_5_1 48000 5.1 \
  "0.3*sin(2*PI*440*t)*(1.05+sin(2*PI*0.1*t))/2.05|0.3*sin(2*PI*660*t)*(1.05+sin(2*PI*0.1*t))/2.05|0.1*sin(2*PI*330*t)|0|0.2*sin(2*PI*880*t)*(1.05+cos(2*PI*0.05*t))/2.05|0.2*sin(2*PI*990*t)*(1.05+cos(2*PI*0.05*t))/2.05"
gen isp_mono 48000 mono \
  "0.5*sin(2*PI*12000*t+PI/4)"
gen swell_mono_44k 44100 mono \
  "0.25*sin(2*PI*1000*t)*(1.02+sin(2*PI*0.2*t))/2.02"
