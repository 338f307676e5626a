#!/usr/bin/env bash
# Fetches training audio for the sung-vocal model from Debian packages and writes a MANIFEST.tsv in
# the corpus format next to it, so that `stemscope train` can read the folder like the corpus:
# - real instrumental music (game soundtracks): negatives, and beds for the voice mixtures;
# - lead-guitar stems of two Frets on Fire song packs: an instrument that imitates a voice, the
#   classic false alarm (hard negatives; also beds);
# - recorded telephone prompts in French, Italian and Russian (three more speakers, two more
#   languages' prosody): spoken vocals, laid over music as positives like the corpus speech.
# Audio goes to a scratch folder OUTSIDE the repository; never commit it.
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

# Frets on Fire songs ship as guitar.ogg (the lead/rhythm guitar alone) + song.ogg (the rest of the
# band). Only guitar.ogg is used: whether song.ogg holds a (metal) voice is not documented in the
# packages and was not checked by ear, so it cannot be labelled either way.
GUITAR_PACKAGES=(fretsonfire-songs-muldjord fretsonfire-songs-sectoid)
# asterisk-core-sounds-es-wav is left out: its voice is Allison Smith, the English corpus speaker.
SPEECH_PACKAGES=(asterisk-core-sounds-fr-wav asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav)

fetch_pkg() {
  local pkg="$1"
  if [ -e "$OUT/extract/$pkg/.done" ]; then return 0; fi
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
}
for pkg in "${PACKAGES[@]}" "${GUITAR_PACKAGES[@]}" "${SPEECH_PACKAGES[@]}"; do fetch_pkg "$pkg"; done

# Licence per package, as its Debian copyright file states it (a summary; read the file).
licence_of() {
  case "$1" in
    wesnoth-*|hyperrogue-music|asc-music|nexuiz-music) echo "GPL-2+";;
    warzone2100-music) echo "GPL-2+ (Aftermath album: CC-BY-SA-3.0 or GPL-2+)";;
    drascula-music) echo "Drascula-License (BSD-like freeware licence, DFSG-free)";;
    fretsonfire-songs-muldjord) echo "CC-BY-SA-3.0";;
    fretsonfire-songs-sectoid) echo "Expat (MIT-style, Carlos Viola Iborra)";;
    asterisk-core-sounds-fr-wav) echo "CC-BY-SA-3.0";;
    asterisk-core-sounds-it-wav|asterisk-core-sounds-ru-wav) echo "CC-BY-3.0";;
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
printf 'path\tclass\tduration_s\tsample_rate\tchannels\tsource\tlicense\tvocal_segments\tgroup\n' > "$MAN"
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
    printf '%s\tscore\t\t\t\tdebian:%s %s\t%s\t\t\n' "$rel" "$pkg" "$inner" "$lic" >> "$MAN"
    n=$((n+1))
  done < <(find "$OUT/extract/$pkg" -type f \( -iname '*.ogg' -o -iname '*.mp3' -o -iname '*.flac' -o -iname '*.wav' \) -size +200k | sort)
done

# Lead guitar: one group per song (the song's name), so a song's guitar never sits on both sides of
# a cross-validation split.
g=0
for pkg in "${GUITAR_PACKAGES[@]}"; do
  lic=$(licence_of "$pkg")
  while IFS= read -r f; do
    rel="${f#"$OUT"/}"
    song=$(basename "$(dirname "$f")" | tr ' A-Z' '_a-z')
    printf '%s\tscore\t\t\t\tdebian:%s %s (lead guitar stem alone)\t%s\t\tfof_%s\n' \
      "$rel" "$pkg" "${f#"$OUT/extract/$pkg/"}" "$lic" "$song" >> "$MAN"
    g=$((g+1))
  done < <(find "$OUT/extract/$pkg" -type f -name guitar.ogg | sort)
done

# Speech: the eight longest prompts of each speaker (the long menus and demo texts, 20-70 s; the
# short ones are single words), one group per speaker.
sp=0
for pkg in "${SPEECH_PACKAGES[@]}"; do
  lic=$(licence_of "$pkg")
  while IFS= read -r f; do
    rel="${f#"$OUT"/}"
    speaker=$(basename "$(dirname "$f")")
    printf '%s\tspeech\t\t\t\tdebian:%s %s\t%s\t\tasterisk_%s\n' \
      "$rel" "$pkg" "${f#"$OUT/extract/$pkg/"}" "$lic" "$speaker" >> "$MAN"
    sp=$((sp+1))
  done < <(find "$OUT/extract/$pkg" -type f -name '*.wav' -printf '%s %p\n' | sort -rn | head -8 | cut -d' ' -f2- | sort)
done
echo "wrote $MAN: $n instrumental tracks ($skipped skipped: already in the corpus), $g guitar stems, $sp speech prompts" >&2
