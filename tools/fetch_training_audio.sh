#!/usr/bin/env bash
# Fetches real instrumental music (game soundtracks packaged by Debian) for training the sung-vocal
# model, and writes a MANIFEST.tsv in the corpus format next to it so that `stemscope train` can read
# the folder like the corpus. Audio goes to a scratch folder OUTSIDE the repository; never commit it.
#
#   bash tools/fetch_training_audio.sh [OUT_DIR]     # default /tmp/stemscope-train
#
# Needs apt-get (Debian/Ubuntu, `apt-get update` done once) and dpkg-deb. Idempotent: packages already
# extracted are not downloaded again.
set -euo pipefail

OUT="${1:-/tmp/stemscope-train}"
# Packages of instrumental game music, chosen from `apt-cache search music` / `apt-cache show`.
# wesnoth and warzone2100 also feed ../shared/corpus: tracks listed there are skipped below, so the
# corpus's evaluation files never reach training by this path.
PACKAGES=(${STEMSCOPE_MUSIC_PACKAGES:-wesnoth-1.16-music warzone2100-music hyperrogue-music nexuiz-music drascula-music asc-music})
CORPUS="${STEMSCOPE_CORPUS:-$(cd "$(dirname "$0")/.." && pwd)/../shared/corpus}"

case "$(realpath -m "$OUT")" in
  "$(realpath -m "$(dirname "$0")/..")"*) echo "refusing to write audio inside the repository: $OUT" >&2; exit 2;;
esac
mkdir -p "$OUT/debs" "$OUT/extract"

for pkg in "${PACKAGES[@]}"; do
  if [ -e "$OUT/extract/$pkg/.done" ]; then continue; fi
  echo "fetching $pkg" >&2
  (cd "$OUT/debs" && ls ${pkg}_*.deb >/dev/null 2>&1 || apt-get download "$pkg")
  rm -rf "$OUT/extract/$pkg"
  dpkg-deb -x "$OUT"/debs/${pkg}_*.deb "$OUT/extract/$pkg"
  # symphonia has no Opus decoder: convert Opus tracks to FLAC (lossless from the decoded Opus).
  if command -v ffmpeg >/dev/null; then
    find "$OUT/extract/$pkg" -type f -iname '*.opus' -print0 |
      while IFS= read -r -d '' f; do
        ffmpeg -nostdin -loglevel error -y -i "$f" "${f%.*}.opus.flac" && rm -f "$f"
      done
  else
    echo "ffmpeg not found: Opus tracks of $pkg will be skipped" >&2
  fi
  # Nexuiz ships its music inside a zip (.pk3).
  find "$OUT/extract/$pkg" -type f -iname '*.pk3' -print0 |
    while IFS= read -r -d '' z; do unzip -q -o "$z" -d "${z%.pk3}" '*.ogg' || true; done
  touch "$OUT/extract/$pkg/.done"
done

# Licence per package, as its Debian copyright file states it (a summary; read the file).
licence_of() {
  case "$1" in
    wesnoth-*|hyperrogue-music|asc-music|nexuiz-music) echo "GPL-2+";;
    warzone2100-music) echo "GPL-2+ (Aftermath album: CC-BY-SA-3.0 or GPL-2+)";;
    drascula-music) echo "Drascula-License (BSD-like freeware licence, DFSG-free)";;
    *) echo "see the copyright file of Debian package $1";;
  esac
}

# Source tracks the corpus already holds (by file stem, e.g. 'battle' for wesnoth_battle_60s.ogg or
# 'track17' for warzone2100_aftermath_soundtrack_track17_60s.ogg): excluded from training.
corpus_sources=""
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
  echo "warning: no corpus at $CORPUS (set STEMSCOPE_CORPUS): its tracks cannot be excluded" >&2
else
  corpus_sources=$(awk -F'\t' 'NR>1 && $6 ~ /^debian:/ {print $6}' "$CORPUS/MANIFEST.tsv")
fi

MAN="$OUT/MANIFEST.tsv"
printf 'path\tclass\tduration_s\tsample_rate\tchannels\tsource\tlicense\tvocal_segments\n' > "$MAN"
n=0; skipped=0
for pkg in "${PACKAGES[@]}"; do
  lic=$(licence_of "$pkg")
  while IFS= read -r f; do
    rel="${f#"$OUT"/}"
    inner="${f#"$OUT/extract/$pkg/"}"
    inner="${inner%.opus.flac}"; [ "$inner" = "${f#"$OUT/extract/$pkg/"}" ] || inner="$inner.opus"
    base=$(basename "$f"); stem="${base%.*}"
    # Skip anything the corpus holds (its manifest names the Debian package and path).
    if [[ -n "$corpus_sources" && "$corpus_sources" == *" $inner "* ]]; then
      skipped=$((skipped+1)); continue
    fi
    printf '%s\tscore\t\t\t\tdebian:%s %s\t%s\t\n' "$rel" "$pkg" "$inner" "$lic" >> "$MAN"
    n=$((n+1))
  done < <(find "$OUT/extract/$pkg" -type f \( -iname '*.ogg' -o -iname '*.mp3' -o -iname '*.flac' -o -iname '*.wav' \) -size +200k | sort)
done
echo "wrote $MAN: $n instrumental tracks ($skipped skipped: already in the corpus)" >&2
