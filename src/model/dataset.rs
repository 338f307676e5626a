//! Training and evaluation data for the vocal model: labelled folders, grouping by source recording,
//! augmentation, and feature extraction through the same decode -> condition -> feature-engine path
//! as `stemscope analyze`.
//!
//! # Folder layout
//! A labelled folder holds audio files (any layout below it) and a `MANIFEST.tsv` in the corpus
//! format: a header line naming the columns, then one line per file. Columns read (others ignored):
//! - `path`: relative to the folder;
//! - `class`: `song` (music with vocals), `score` or `instrumental` (music without vocals),
//!   `vocals-isolated` (a voice alone), `instrumental-isolated` (a song's accompaniment), `speech`,
//!   `effects`;
//! - `vocal_segments` (optional): `start-end` seconds where a voice is heard, `;`-separated. Empty for
//!   a `song` means "times unknown": the file then serves cue-level evaluation only;
//! - `license` (or `licence`, optional): items whose licence is non-commercial (`NC`) or research-only
//!   are kept out of training unless asked ([`DatasetOptions::allow_restricted`]);
//! - `group` (optional): the source recording. Without it the group is the file name less its role
//!   suffix (`_mix`, `_vocals`, `_accompaniment`, ...), so a song's mix and stems stay together.
//!
//! # Examples
//! Every item becomes examples at random playback levels (level augmentation); isolated voices and
//! speech are laid over accompaniments and instrumental music of the same cross-validation fold at a
//! vocal-to-accompaniment ratio of -9..+3 dB, after random EQ and, half the time, reverb. Folds are
//! assigned per group before anything is mixed, so no recording is ever on both sides of a split.
//! Training-only mixtures of pitch-shifted voices ([`shift_pitch`],
//! [`DatasetOptions::shifted_mixes_per_voice`]) come from a separate random stream and are never
//! scored, so cross-validation scores the same examples whatever training augmentation is asked for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::train::Rng;
use crate::condition::{ANALYSIS_RATE, Conditioner};
use crate::discover::StemKind;
use crate::features::{
    FeatureConfig, FeatureExtractor, FeatureTrack, FrameSummary, FrameView, TextureWindow,
};
use crate::timeline::{CueKind, Span};

/// What a labelled file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemClass {
    Song,
    Score,
    VocalsIsolated,
    InstrumentalIsolated,
    Speech,
    Effects,
}

impl ItemClass {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "song" => ItemClass::Song,
            "score" | "instrumental" => ItemClass::Score,
            "vocals-isolated" => ItemClass::VocalsIsolated,
            "instrumental-isolated" => ItemClass::InstrumentalIsolated,
            "speech" => ItemClass::Speech,
            "effects" => ItemClass::Effects,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            ItemClass::Song => "song",
            ItemClass::Score => "score",
            ItemClass::VocalsIsolated => "vocals-isolated",
            ItemClass::InstrumentalIsolated => "instrumental-isolated",
            ItemClass::Speech => "speech",
            ItemClass::Effects => "effects",
        }
    }
    /// Music without any voice: what vocals are laid over.
    pub fn is_accompaniment(self) -> bool {
        matches!(self, ItemClass::Score | ItemClass::InstrumentalIsolated)
    }
}

/// One line of a labelled folder's manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledItem {
    pub path: PathBuf,
    pub class: ItemClass,
    /// Known voice times; `None` when not given.
    pub vocal_segments: Option<Vec<Span>>,
    pub licence: String,
    pub source: String,
    pub group: String,
    /// The folder it was listed in (names the data source in the model file).
    pub folder: String,
}

impl LabelledItem {
    /// Non-commercial or research-only material: evaluated on, not trained on by default.
    pub fn is_restricted(&self) -> bool {
        let l = self.licence.to_ascii_lowercase();
        self.licence
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|t| t == "NC")
            || l.contains("research")
            // A Creative Commons licence whose variant is unknown may be NC: keep it out.
            || l.contains("not stated")
    }
}

fn parse_segments(text: &str) -> Result<Vec<Span>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part
            .split_once('-')
            .ok_or_else(|| format!("vocal segment {part:?} is not start-end"))?;
        let (a, b): (f64, f64) = (
            a.trim()
                .parse()
                .map_err(|_| format!("bad start in {part:?}"))?,
            b.trim()
                .parse()
                .map_err(|_| format!("bad end in {part:?}"))?,
        );
        if !(a.is_finite() && b.is_finite() && b >= a && a >= 0.0) {
            return Err(format!("vocal segment {part:?} is not a forward time span"));
        }
        out.push(Span::new(a, b));
    }
    Ok(out)
}

/// The source recording a file belongs to, from its name: the stem less a role suffix, so that
/// `x_mix`, `x_vocals` and `x_accompaniment` (or `ikala_10161_chorus_mix`) share one group, and
/// VocalSet clips are grouped by singer.
pub fn default_group(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = stem.trim_end_matches(".opus").to_string();
    if let Some(rest) = stem.strip_prefix("vocalset_") {
        return format!("vocalset_{}", rest.split('_').next().unwrap_or(rest));
    }
    for suffix in ["_mix", "_vocals", "_accompaniment", "_instrumental", "_60s"] {
        if let Some(s) = stem.strip_suffix(suffix) {
            return s.to_string();
        }
    }
    stem
}

/// Reads `dir/MANIFEST.tsv`.
pub fn read_folder(dir: &Path) -> crate::Result<Vec<LabelledItem>> {
    let manifest = dir.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&manifest).map_err(|e| crate::Error::io(&manifest, e))?;
    let bad = |line: usize, message: String| crate::Error::Input {
        path: manifest.clone(),
        message: format!("line {line}: {message}"),
    };
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split('\t').map(str::trim).collect(),
        None => return Err(bad(1, "empty manifest".into())),
    };
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(c_path), Some(c_class)) = (col("path"), col("class")) else {
        return Err(bad(
            1,
            "the header must name the columns `path` and `class`".into(),
        ));
    };
    let c_seg = col("vocal_segments");
    let c_lic = col("license").or(col("licence"));
    let c_src = col("source");
    let c_group = col("group");
    let folder = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    let mut items = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |c: Option<usize>| c.and_then(|c| f.get(c)).map(|s| s.trim()).unwrap_or("");
        let rel = get(Some(c_path));
        if rel.is_empty() {
            return Err(bad(i + 1, "empty path".into()));
        }
        let class = ItemClass::parse(get(Some(c_class)))
            .ok_or_else(|| bad(i + 1, format!("unknown class {:?}", get(Some(c_class)))))?;
        let seg_text = get(c_seg);
        let vocal_segments = if seg_text.is_empty() {
            match class {
                // Music without vocals has, by definition, none.
                ItemClass::Score | ItemClass::InstrumentalIsolated | ItemClass::Effects => {
                    Some(Vec::new())
                }
                _ => None,
            }
        } else {
            Some(parse_segments(seg_text).map_err(|m| bad(i + 1, m))?)
        };
        let path = dir.join(rel);
        let group = match get(c_group) {
            "" => default_group(&path),
            g => g.to_string(),
        };
        items.push(LabelledItem {
            path,
            class,
            vocal_segments,
            licence: get(c_lic).to_string(),
            source: get(c_src).to_string(),
            group: format!("{folder}/{group}"),
            folder: folder.clone(),
        });
    }
    Ok(items)
}

/// Decodes a file and conditions it to the mono analysis signal (the analysis path), keeping at most
/// `max_s` seconds from `offset_s` (a short file is read whole). See [`decode_excerpt`] for where
/// the excerpt starts.
pub fn decode_analysis(path: &Path, offset_s: f64, max_s: f64) -> crate::Result<Vec<f32>> {
    decode_excerpt(path, offset_s, max_s).map(|e| e.signal)
}

/// Part of a file read for training or evaluation.
#[derive(Debug, Clone)]
pub struct Excerpt {
    /// Analysis-rate mono signal.
    pub signal: Vec<f32>,
    /// Where it starts in the file, seconds: a manifest's voice times are in file time and must be
    /// moved by this much to describe the excerpt ([`excerpt_segments`]).
    pub start_s: f64,
}

/// Where the excerpt of a `total_s` long file starts: at `offset_s` when the file is long enough,
/// else early enough to keep `max_s` seconds (at 0 for a file shorter than that).
pub fn excerpt_start(total_s: f64, offset_s: f64, max_s: f64) -> f64 {
    if total_s > offset_s + max_s {
        offset_s
    } else {
        (total_s - max_s).max(0.0)
    }
}

/// Voice times of a file moved into an excerpt of it (`start_s`, `len_s` long): shifted, clipped
/// to the excerpt, spans left empty dropped.
pub fn excerpt_segments(segments: &[Span], start_s: f64, len_s: f64) -> Vec<Span> {
    segments
        .iter()
        .map(|s| (s.start_s - start_s).max(0.0)..(s.end_s - start_s).min(len_s))
        .filter(|r| r.end > r.start)
        .map(|r| Span::new(r.start, r.end))
        .collect()
}

/// [`decode_analysis`] that also tells where the excerpt starts.
pub fn decode_excerpt(path: &Path, offset_s: f64, max_s: f64) -> crate::Result<Excerpt> {
    let source = crate::decode::open(path).map_err(|source| crate::Error::Decode {
        path: path.to_path_buf(),
        source,
    })?;
    let info = source.info().clone();
    let mut reader = crate::decode::BlockReader::new(source);
    let mut conditioner = Conditioner::new(StemKind::Music, &info.channels, info.sample_rate)?;
    let block_frames = (info.sample_rate as usize / 2).max(1);
    let (mut block, mut out) = (Vec::new(), Vec::new());
    let limit = ((offset_s + max_s) * ANALYSIS_RATE as f64) as usize;
    loop {
        let n = reader
            .read_block(&mut block, block_frames)
            .map_err(|source| crate::Error::Decode {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        conditioner.push(&block, &mut out)?;
        if out.len() >= limit {
            break;
        }
    }
    conditioner.finish(&mut out)?;
    let rate = ANALYSIS_RATE as f64;
    let start = excerpt_start(out.len() as f64 / rate, offset_s, max_s);
    let a = (start * rate) as usize;
    let b = ((start + max_s) * rate).min(out.len() as f64) as usize;
    Ok(Excerpt {
        signal: out[a.min(b)..b].to_vec(),
        start_s: a.min(b) as f64 / rate,
    })
}

/// Runs the feature engine over an analysis-rate signal, in the pipeline's block size.
pub fn extract_track(signal: &[f32], config: &FeatureConfig) -> FeatureTrack {
    extract_track_observed(signal, config, &mut |_| {})
}

/// [`extract_track`], also returning every frame's log-mel (dB, `config.n_mels` values a frame,
/// frame after frame): the input of a spectrogram model, which the track itself does not keep.
pub fn extract_track_with_mel(signal: &[f32], config: &FeatureConfig) -> (FeatureTrack, Vec<f32>) {
    let mut mel = Vec::new();
    let track = extract_track_observed(signal, config, &mut |f| mel.extend_from_slice(f.mel_db));
    (track, mel)
}

fn extract_track_observed(
    signal: &[f32],
    config: &FeatureConfig,
    observer: &mut dyn FnMut(&FrameView<'_>),
) -> FeatureTrack {
    let mut extractor = FeatureExtractor::new(config.clone());
    let mut track = FeatureTrack::default();
    for block in signal.chunks(ANALYSIS_RATE as usize / 2) {
        extractor.push_observed(block, &mut track, observer);
    }
    extractor.finish_observed(&mut track, observer);
    track
}

/// The texture windows of [`extract_track`].
pub fn extract_windows(signal: &[f32], config: &FeatureConfig) -> Vec<TextureWindow> {
    extract_track(signal, config).windows
}

fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len() as f64).sqrt()
}

fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// A biquad filter (RBJ cookbook), direct form I.
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    fn peaking(f0: f64, q: f64, gain_db: f64) -> Self {
        let a = 10f64.powf(gain_db / 40.0);
        let w = std::f64::consts::TAU * f0 / ANALYSIS_RATE as f64;
        let alpha = w.sin() / (2.0 * q);
        let a0 = 1.0 + alpha / a;
        Biquad {
            b: [
                (1.0 + alpha * a) / a0,
                -2.0 * w.cos() / a0,
                (1.0 - alpha * a) / a0,
            ],
            a: [-2.0 * w.cos() / a0, (1.0 - alpha / a) / a0],
        }
    }
    fn highpass(f0: f64, q: f64) -> Self {
        let w = std::f64::consts::TAU * f0 / ANALYSIS_RATE as f64;
        let alpha = w.sin() / (2.0 * q);
        let c = w.cos();
        let a0 = 1.0 + alpha;
        Biquad {
            b: [(1.0 + c) / 2.0 / a0, -(1.0 + c) / a0, (1.0 + c) / 2.0 / a0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
        }
    }
    fn lowpass(f0: f64, q: f64) -> Self {
        let w = std::f64::consts::TAU * f0 / ANALYSIS_RATE as f64;
        let alpha = w.sin() / (2.0 * q);
        let c = w.cos();
        let a0 = 1.0 + alpha;
        Biquad {
            b: [(1.0 - c) / 2.0 / a0, (1.0 - c) / a0, (1.0 - c) / 2.0 / a0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
        }
    }
    fn run(&self, x: &mut [f32]) {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let x0 = *v as f64;
            let y0 =
                self.b[0] * x0 + self.b[1] * x1 + self.b[2] * x2 - self.a[0] * y1 - self.a[1] * y2;
            x2 = x1;
            x1 = x0;
            y2 = y1;
            y1 = y0;
            *v = y0 as f32;
        }
    }
}

/// Random EQ: a high-pass, a low-pass and a peaking band, like a mix engineer's voice chain or a
/// different microphone.
pub fn random_eq(x: &mut [f32], rng: &mut Rng) {
    Biquad::highpass(rng.range(60.0, 250.0), 0.707).run(x);
    Biquad::lowpass(rng.range(4500.0, 7800.0), 0.707).run(x);
    Biquad::peaking(
        rng.range(300.0, 4000.0),
        rng.range(0.5, 2.0),
        rng.range(-6.0, 6.0),
    )
    .run(x);
}

/// Schroeder reverb (four parallel combs, two series all-passes) mixed in at `wet_db` below the dry
/// signal; the decay time follows `rt60_s`.
pub fn reverb(x: &mut [f32], rt60_s: f64, wet_db: f64) {
    let rate = ANALYSIS_RATE as f64;
    let combs = [0.0297, 0.0371, 0.0411, 0.0437];
    let mut wet = vec![0.0f32; x.len()];
    for d in combs {
        let n = (d * rate) as usize;
        let g = 10f64.powf(-3.0 * d / rt60_s) as f32;
        let mut buf = vec![0.0f32; n];
        let mut i = 0;
        for (w, &v) in wet.iter_mut().zip(x.iter()) {
            let y = buf[i];
            buf[i] = v + g * y;
            *w += y * 0.25;
            i = (i + 1) % n;
        }
    }
    for (d, g) in [(0.005, 0.7f32), (0.0017, 0.7f32)] {
        let n = (d * rate) as usize;
        let mut buf = vec![0.0f32; n.max(1)];
        let mut i = 0;
        for w in wet.iter_mut() {
            let delayed = buf[i];
            let input = *w + g * delayed;
            buf[i] = input;
            *w = delayed - g * input;
            i = (i + 1) % buf.len();
        }
    }
    let (dry_rms, wet_rms) = (rms(x), rms(&wet));
    if wet_rms > 0.0 {
        let k = (dry_rms / wet_rms * db_to_gain(wet_db)) as f32;
        for (v, w) in x.iter_mut().zip(&wet) {
            *v += k * w;
        }
    }
}

/// Shifts a voice by `semitones` the way a tape played faster or slower does: pitch and formants
/// move together and the duration scales by the inverse factor (returned with the signal). A
/// different singer is what the model must generalise to, and with a few dozen real voices to
/// learn from, shifted copies (a tenor made an alto, a soprano a mezzo) are the cheapest way to
/// show it more of them. Linear interpolation, after a low-pass below the new Nyquist limit when
/// shifting up so that nothing folds back.
pub fn shift_pitch(x: &[f32], semitones: f64) -> (Vec<f32>, f64) {
    let factor = 2f64.powf(semitones / 12.0);
    let mut src = x.to_vec();
    if factor > 1.0 {
        let cutoff = 0.45 * ANALYSIS_RATE as f64 / factor;
        Biquad::lowpass(cutoff, 0.707).run(&mut src);
        Biquad::lowpass(cutoff, 0.707).run(&mut src);
    }
    let n = ((src.len() as f64 - 1.0) / factor).floor().max(0.0) as usize;
    let out = (0..n)
        .map(|i| {
            let pos = i as f64 * factor;
            let j = pos as usize;
            let frac = (pos - j as f64) as f32;
            let a = src[j];
            let b = src.get(j + 1).copied().unwrap_or(a);
            a + frac * (b - a)
        })
        .collect();
    (out, factor)
}

/// Scales `x` so that its RMS is `level_db` dBFS (a silent signal stays silent).
pub fn set_level(x: &mut [f32], level_db: f64) {
    let r = rms(x);
    if r > 0.0 {
        let g = (db_to_gain(level_db) / r) as f32;
        x.iter_mut().for_each(|v| *v *= g);
    }
}

/// One labelled stretch of music (or non-music) ready for training or evaluation.
#[derive(Debug, Clone)]
pub struct Example {
    pub name: String,
    /// Cross-validation fold.
    pub fold: usize,
    /// Indices of the items it was made from.
    pub items: Vec<usize>,
    /// May be trained on (no restricted item in it).
    pub trainable: bool,
    /// Cue-level truth; `None` for non-music (effects).
    pub kind: Option<CueKind>,
    /// Known voice times; `None` when unknown (cue-level evaluation only).
    pub vocals: Option<Vec<Span>>,
    /// How it was made: "natural", "mixed", "spoken over music", "shifted" (training only).
    pub construction: &'static str,
    /// Made only to train on (pitch-shifted voices): never scored, so that cross-validation
    /// measures the same held-out examples whatever the training augmentation.
    pub train_only: bool,
    pub duration_s: f64,
    /// Playback level it was rendered at, RMS dBFS.
    pub level_db: f64,
    pub windows: Vec<TextureWindow>,
    /// The per-frame summaries (10 ms hop) the windows were computed from.
    pub frames: Vec<FrameSummary>,
    /// Every frame's log-mel, dB, `n_mels` values a frame; empty unless
    /// [`DatasetOptions::keep_mel`] (about 25 KB a second of audio: only for [`dump`]).
    pub mel: Vec<f32>,
}

impl Example {
    /// Fraction of each texture window covered by voice (0 when times are unknown).
    pub fn window_targets(&self, texture_len_s: f64) -> Vec<f32> {
        let vocals = self.vocals.as_deref().unwrap_or(&[]);
        self.windows
            .iter()
            .map(|w| {
                let span = Span::new(w.start_s, w.start_s + texture_len_s);
                let covered: f64 = vocals.iter().map(|v| v.overlap_s(&span)).sum();
                (covered / texture_len_s).clamp(0.0, 1.0) as f32
            })
            .collect()
    }
}

/// What to build from the labelled items.
#[derive(Debug, Clone)]
pub struct DatasetOptions {
    pub seed: u64,
    pub folds: usize,
    /// Longest excerpt read per file, seconds (from `offset_s` into long files).
    pub max_item_s: f64,
    pub offset_s: f64,
    /// Levels (RMS dBFS) each natural item is rendered at.
    pub levels: usize,
    /// Mixtures made per isolated voice.
    pub mixes_per_voice: usize,
    /// Mixtures made per speech clip (spoken vocals over music).
    pub mixes_per_speech: usize,
    /// Extra training-only mixtures per isolated voice, the voice pitch-shifted (see
    /// [`shift_pitch`]); they are trained on but never scored.
    pub shifted_mixes_per_voice: usize,
    /// Largest pitch shift of those mixtures, semitones either way.
    pub max_shift_st: f64,
    /// Train on non-commercial and research-only items too.
    pub allow_restricted: bool,
    /// Items whose path contains one of these strings are scored but never trained on (the
    /// examples stay the same, so a model with and without them is compared on equal terms).
    pub eval_only: Vec<String>,
    /// Keep natural items at their own level (evaluation) instead of random levels (training).
    pub keep_level: bool,
    /// Keep every example's per-frame log-mel ([`Example::mel`]) for [`dump`].
    pub keep_mel: bool,
    pub features: FeatureConfig,
}

impl Default for DatasetOptions {
    fn default() -> Self {
        DatasetOptions {
            seed: 1,
            folds: 5,
            max_item_s: 40.0,
            offset_s: 15.0,
            levels: 2,
            mixes_per_voice: 6,
            mixes_per_speech: 2,
            shifted_mixes_per_voice: 0,
            max_shift_st: 4.0,
            allow_restricted: false,
            eval_only: Vec::new(),
            keep_level: false,
            keep_mel: false,
            features: FeatureConfig::default(),
        }
    }
}

impl DatasetOptions {
    /// Whether examples made from `item` may be trained on: not restricted (unless allowed) and
    /// not named by [`DatasetOptions::eval_only`].
    pub fn may_train_on(&self, item: &LabelledItem) -> bool {
        let path = item.path.to_string_lossy();
        (self.allow_restricted || !item.is_restricted())
            && !self.eval_only.iter().any(|p| path.contains(p.as_str()))
    }
}

/// Folds per group: groups are dealt round-robin in a seeded order, separately for groups with
/// voices and without, so every fold gets both.
pub fn assign_folds(items: &[LabelledItem], folds: usize, seed: u64) -> BTreeMap<String, usize> {
    let mut voiced = BTreeSet::new();
    let mut plain = BTreeSet::new();
    for it in items {
        if matches!(
            it.class,
            ItemClass::Song | ItemClass::VocalsIsolated | ItemClass::Speech
        ) {
            voiced.insert(it.group.clone());
        }
    }
    for it in items {
        if !voiced.contains(&it.group) {
            plain.insert(it.group.clone());
        }
    }
    let mut rng = Rng::new(seed ^ 0xF01D);
    let mut out = BTreeMap::new();
    for set in [voiced, plain] {
        let mut groups: Vec<String> = set.into_iter().collect();
        rng.shuffle(&mut groups);
        for (i, g) in groups.into_iter().enumerate() {
            out.insert(g, i % folds.max(1));
        }
    }
    out
}

/// Voice placed over an accompaniment: phrases of the voice's active span tiled from a random start,
/// with random gaps, until the accompaniment ends.
fn lay_voice(
    voice: &[f32],
    voice_segments: &[Span],
    bed_len: usize,
    rng: &mut Rng,
) -> (Vec<f32>, Vec<Span>) {
    let rate = ANALYSIS_RATE as f64;
    let mut layer = vec![0.0f32; bed_len];
    let mut truth = Vec::new();
    let (first, last) = match (voice_segments.first(), voice_segments.last()) {
        (Some(f), Some(l)) => (f.start_s, l.end_s),
        _ => return (layer, truth),
    };
    let a = (first * rate) as usize;
    let b = ((last * rate) as usize).min(voice.len());
    if b <= a {
        return (layer, truth);
    }
    let phrase = &voice[a..b];
    let bed_s = bed_len as f64 / rate;
    let mut t = rng.range(0.0, 0.35) * bed_s;
    while t < bed_s - 0.5 {
        let at = (t * rate) as usize;
        let n = phrase.len().min(bed_len - at);
        layer[at..at + n].copy_from_slice(&phrase[..n]);
        for s in voice_segments {
            let span = Span::new(t + s.start_s - first, (t + s.end_s - first).min(bed_s));
            if span.end_s > span.start_s {
                truth.push(span);
            }
        }
        t += n as f64 / rate + rng.range(0.5, 4.0);
    }
    (layer, truth)
}

/// Counts of what went into a dataset, per folder, for the model file.
#[derive(Debug, Clone, Default)]
pub struct SourceTally {
    pub folder: String,
    pub licences: BTreeSet<String>,
    pub files: usize,
    pub seconds: f64,
    pub restricted_files: usize,
}

/// All examples of a set of labelled items, with their folds.
pub struct Dataset {
    pub items: Vec<LabelledItem>,
    pub examples: Vec<Example>,
    pub folds: usize,
    pub texture_len_s: f64,
    pub tallies: Vec<SourceTally>,
    /// Files that could not be read, with the reason (skipped, reported).
    pub skipped: Vec<String>,
}

/// Decodes the items, makes the natural, mixed and spoken examples, and extracts their features.
pub fn build(items: Vec<LabelledItem>, opts: &DatasetOptions) -> crate::Result<Dataset> {
    let signals: Vec<Result<Excerpt, String>> = items
        .par_iter()
        .map(|it| {
            decode_excerpt(&it.path, opts.offset_s, opts.max_item_s).map_err(|e| e.to_string())
        })
        .collect();
    let mut skipped = Vec::new();
    for s in &signals {
        if let Err(e) = s {
            skipped.push(e.clone());
        }
    }
    let fold_of = assign_folds(&items, opts.folds, opts.seed);
    let fold = |i: usize| fold_of.get(&items[i].group).copied().unwrap_or(0);
    let ok = |i: usize| {
        signals[i]
            .as_ref()
            .ok()
            .map(|e| &e.signal)
            .filter(|s| s.len() > ANALYSIS_RATE as usize / 2)
    };
    // An item's voice times in the excerpt read (the manifest gives them in file time).
    let segments = |i: usize| -> Option<Vec<Span>> {
        let e = signals[i].as_ref().ok()?;
        let len_s = e.signal.len() as f64 / ANALYSIS_RATE as f64;
        let segs = items[i].vocal_segments.as_deref()?;
        Some(excerpt_segments(segs, e.start_s, len_s))
    };

    // Recipes first (cheap, sequential, seeded), rendering and features after (parallel).
    struct Recipe {
        name: String,
        items: Vec<usize>,
        kind: Option<CueKind>,
        construction: &'static str,
        level_db: f64,
        seed: u64,
        /// Pitch-shift the voice (training-only mixtures).
        shifted: bool,
    }
    // Accompaniments a voice may be laid over: same fold, another recording, 8 s or longer.
    let beds_for = |i: usize| -> Vec<usize> {
        (0..items.len())
            .filter(|&j| {
                items[j].class.is_accompaniment()
                    && fold(j) == fold(i)
                    && items[j].group != items[i].group
                    && ok(j).is_some_and(|s| s.len() >= 8 * ANALYSIS_RATE as usize)
            })
            .collect()
    };
    let mut rng = Rng::new(opts.seed);
    let mut recipes = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if ok(i).is_none() {
            continue;
        }
        let kind = match it.class {
            ItemClass::Song | ItemClass::VocalsIsolated => Some(CueKind::Song),
            ItemClass::Score | ItemClass::InstrumentalIsolated => Some(CueKind::Score),
            ItemClass::Effects => None,
            // Speech alone is not music; it is used laid over music below.
            ItemClass::Speech => continue,
        };
        for l in 0..opts.levels.max(1) {
            recipes.push(Recipe {
                name: format!("{}@{l}", it.path.display()),
                items: vec![i],
                kind,
                construction: "natural",
                level_db: rng.range(-50.0, -14.0),
                seed: rng.next_u64(),
                shifted: false,
            });
        }
    }
    for (i, it) in items.iter().enumerate() {
        let per = match it.class {
            ItemClass::VocalsIsolated => opts.mixes_per_voice,
            ItemClass::Speech => opts.mixes_per_speech,
            _ => continue,
        };
        if ok(i).is_none() || it.vocal_segments.as_ref().is_some_and(|v| v.is_empty()) {
            continue;
        }
        let beds = beds_for(i);
        if beds.is_empty() {
            continue;
        }
        for m in 0..per {
            let j = beds[rng.below(beds.len())];
            recipes.push(Recipe {
                name: format!(
                    "{} over {} #{m}",
                    it.path.display(),
                    items[j].path.display()
                ),
                items: vec![i, j],
                kind: Some(CueKind::Song),
                construction: if it.class == ItemClass::Speech {
                    "spoken over music"
                } else {
                    "mixed"
                },
                level_db: rng.range(-50.0, -14.0),
                seed: rng.next_u64(),
                shifted: false,
            });
        }
    }
    // Training-only mixtures of pitch-shifted voices, from a separate random stream so that the
    // scored examples above stay the same whatever is added here.
    let mut rng = Rng::new(opts.seed ^ 0x5_41F7);
    for (i, it) in items.iter().enumerate() {
        if it.class != ItemClass::VocalsIsolated
            || ok(i).is_none()
            || it.vocal_segments.as_ref().is_some_and(|v| v.is_empty())
        {
            continue;
        }
        let beds = beds_for(i);
        if beds.is_empty() {
            continue;
        }
        for m in 0..opts.shifted_mixes_per_voice {
            let j = beds[rng.below(beds.len())];
            recipes.push(Recipe {
                name: format!(
                    "{} shifted over {} #{m}",
                    it.path.display(),
                    items[j].path.display()
                ),
                items: vec![i, j],
                kind: Some(CueKind::Song),
                construction: "shifted",
                level_db: rng.range(-50.0, -14.0),
                seed: rng.next_u64(),
                shifted: true,
            });
        }
    }

    let rate = ANALYSIS_RATE as f64;
    let examples: Vec<Example> = recipes
        .par_iter()
        .filter_map(|r| {
            let mut rng = Rng::new(r.seed);
            let (mut signal, vocals) = match r.items.as_slice() {
                [i] => (ok(*i)?.clone(), segments(*i)),
                [v, bed] => {
                    let mut voice = ok(*v)?.clone();
                    let mut segs = segments(*v)
                        .unwrap_or_else(|| vec![Span::new(0.0, voice.len() as f64 / rate)]);
                    if r.shifted {
                        let st = rng.range(-opts.max_shift_st, opts.max_shift_st);
                        let (shifted, factor) = shift_pitch(&voice, st);
                        voice = shifted;
                        for s in &mut segs {
                            *s = Span::new(s.start_s / factor, s.end_s / factor);
                        }
                    }
                    random_eq(&mut voice, &mut rng);
                    if rng.uniform() < 0.5 {
                        reverb(&mut voice, rng.range(0.3, 1.5), rng.range(-14.0, -4.0));
                    }
                    let bed_sig = ok(*bed)?;
                    let len = bed_sig.len().min((rng.range(15.0, 40.0) * rate) as usize);
                    let off = rng.below(bed_sig.len() - len + 1);
                    let mut bed = bed_sig[off..off + len].to_vec();
                    if rng.uniform() < 0.5 {
                        random_eq(&mut bed, &mut rng);
                    }
                    let (layer, truth) = lay_voice(&voice, &segs, len, &mut rng);
                    // Vocal-to-accompaniment ratio measured over the voice's active samples.
                    let active: Vec<f32> = truth
                        .iter()
                        .flat_map(|s| {
                            let a = (s.start_s * rate) as usize;
                            let b = ((s.end_s * rate) as usize).min(len);
                            layer[a.min(b)..b].iter().copied()
                        })
                        .collect();
                    let (vr, br) = (rms(&active), rms(&bed));
                    if vr <= 0.0 || br <= 0.0 {
                        return None;
                    }
                    let g = (br / vr * db_to_gain(rng.range(-9.0, 3.0))) as f32;
                    for (b, v) in bed.iter_mut().zip(&layer) {
                        *b += g * v;
                    }
                    (bed, Some(merge_gaps(truth, 0.3)))
                }
                _ => return None,
            };
            let level_db = if opts.keep_level && r.items.len() == 1 {
                20.0 * rms(&signal).max(1e-10).log10()
            } else {
                set_level(&mut signal, r.level_db);
                r.level_db
            };
            // Keep clear of clipping: real stems at -14 dBFS RMS still peak below 0 dBFS.
            let peak = signal.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if peak > 0.99 {
                signal.iter_mut().for_each(|v| *v *= 0.99 / peak);
            }
            let (track, mel) = if opts.keep_mel {
                extract_track_with_mel(&signal, &opts.features)
            } else {
                (extract_track(&signal, &opts.features), Vec::new())
            };
            Some(Example {
                name: r.name.clone(),
                fold: fold(r.items[0]),
                items: r.items.clone(),
                trainable: r.items.iter().all(|&i| opts.may_train_on(&items[i])),
                kind: r.kind,
                vocals,
                construction: r.construction,
                train_only: r.shifted,
                duration_s: signal.len() as f64 / rate,
                level_db,
                windows: track.windows,
                frames: track.frames,
                mel,
            })
        })
        .collect();

    let mut tallies: BTreeMap<String, SourceTally> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        let Some(sig) = ok(i) else { continue };
        let t = tallies.entry(it.folder.clone()).or_default();
        t.folder = it.folder.clone();
        t.files += 1;
        t.seconds += sig.len() as f64 / rate;
        t.licences.insert(it.licence.clone());
        t.restricted_files += it.is_restricted() as usize;
    }
    Ok(Dataset {
        items,
        examples,
        folds: opts.folds.max(1),
        texture_len_s: opts.features.texture_len_s,
        tallies: tallies.into_values().collect(),
        skipped,
    })
}

/// Writes a dataset for analysis outside stemscope: `<prefix>.json` (one object per example:
/// name, fold, groups, trainable, kind, construction, voice spans, duration, level, window starts
/// and counts), `<prefix>.windows.f32` (every example's texture values, row after row) and
/// `<prefix>.frames.f32` (every example's frame summaries, 8 values a frame in the field order of
/// [`FrameSummary`]), both raw little-endian `f32`; when the examples kept their log-mel
/// ([`DatasetOptions::keep_mel`]), also `<prefix>.mel.f32` (`n_mels` values a frame, frames in the
/// same order as `.frames.f32`). Each example's `fold` and `groups` let a script outside stemscope
/// rebuild the same cross-validation folds.
pub fn dump(ds: &Dataset, prefix: &Path) -> crate::Result<()> {
    use std::io::Write as _;
    let with_ext = |ext: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let (meta_path, win_path, frame_path, mel_path) = (
        with_ext(".json"),
        with_ext(".windows.f32"),
        with_ext(".frames.f32"),
        with_ext(".mel.f32"),
    );
    let open = |p: &Path| {
        std::fs::File::create(p)
            .map(std::io::BufWriter::new)
            .map_err(|e| crate::Error::io(p, e))
    };
    let (mut win, mut frm) = (open(&win_path)?, open(&frame_path)?);
    let mut mel = if ds.examples.iter().any(|e| !e.mel.is_empty()) {
        Some(open(&mel_path)?)
    } else {
        None
    };
    let mut meta = Vec::new();
    for e in &ds.examples {
        if let Some(m) = &mut mel {
            for v in &e.mel {
                m.write_all(&v.to_le_bytes())
                    .map_err(|err| crate::Error::io(&mel_path, err))?;
            }
        }
        for w in &e.windows {
            for v in &w.values {
                win.write_all(&v.to_le_bytes())
                    .map_err(|err| crate::Error::io(&win_path, err))?;
            }
        }
        for f in &e.frames {
            for v in f.to_array() {
                frm.write_all(&v.to_le_bytes())
                    .map_err(|err| crate::Error::io(&frame_path, err))?;
            }
        }
        meta.push(serde_json::json!({
            "name": e.name,
            "fold": e.fold,
            "groups": e.items.iter().map(|&i| ds.items[i].group.clone()).collect::<Vec<_>>(),
            "classes": e.items.iter().map(|&i| ds.items[i].class.name()).collect::<Vec<_>>(),
            "trainable": e.trainable,
            "kind": e.kind,
            "construction": e.construction,
            "train_only": e.train_only,
            "vocals": e.vocals.as_ref().map(|v| v.iter().map(|s| [s.start_s, s.end_s]).collect::<Vec<_>>()),
            "duration_s": e.duration_s,
            "level_db": e.level_db,
            "window_start_s": e.windows.iter().map(|w| w.start_s).collect::<Vec<_>>(),
            "n_values": e.windows.first().map(|w| w.values.len()).unwrap_or(0),
            "n_frames": e.frames.len(),
            "n_mels": e.mel.len().checked_div(e.frames.len()).unwrap_or(0),
        }));
    }
    win.flush()
        .map_err(|err| crate::Error::io(&win_path, err))?;
    frm.flush()
        .map_err(|err| crate::Error::io(&frame_path, err))?;
    if let Some(m) = &mut mel {
        m.flush().map_err(|err| crate::Error::io(&mel_path, err))?;
    }
    let text = serde_json::to_string(&meta)
        .map_err(|err| crate::Error::Other(format!("cannot serialise the dataset: {err}")))?;
    std::fs::write(&meta_path, text).map_err(|err| crate::Error::io(&meta_path, err))
}

/// Merges spans (sorted by start) separated by less than `gap_s`.
pub fn merge_gaps(mut spans: Vec<Span>, gap_s: f64) -> Vec<Span> {
    spans.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut out: Vec<Span> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start_s - last.end_s < gap_s => last.end_s = last.end_s.max(s.end_s),
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_of_one_song_share_a_group() {
        let g = |p: &str| default_group(Path::new(p));
        assert_eq!(
            g("song/musdb_x_mix.ogg"),
            g("vocals-isolated/musdb_x_vocals.ogg")
        );
        assert_eq!(
            g("song/musdb_x_mix.ogg"),
            g("instrumental-isolated/musdb_x_accompaniment.ogg")
        );
        assert_eq!(
            g("a/ikala_10161_chorus_mix.flac"),
            g("b/ikala_10161_chorus_vocals.flac")
        );
        assert_eq!(
            g("a/vocalset_male1_spoken.flac"),
            g("b/vocalset_male1_vibrato.flac")
        );
        assert_ne!(g("a/vocadito_1.flac"), g("a/vocadito_10.flac"));
    }

    #[test]
    fn eval_only_items_are_scored_but_never_trained_on() {
        let item = |path: &str, licence: &str| LabelledItem {
            path: PathBuf::from(path),
            class: ItemClass::Score,
            vocal_segments: Some(Vec::new()),
            licence: licence.into(),
            source: String::new(),
            group: path.into(),
            folder: "x".into(),
        };
        let plain = item("/data/wesnoth/battle.ogg", "GPL-2+");
        let guitar = item("/data/fretsonfire-songs-x/a/guitar.ogg", "CC-BY-SA-3.0");
        let nc = item("/data/librosa/waltz.ogg", "CC-BY-NC-3.0");
        let mut opts = DatasetOptions::default();
        assert!(opts.may_train_on(&plain) && opts.may_train_on(&guitar));
        assert!(!opts.may_train_on(&nc));
        opts.eval_only = vec!["fretsonfire".into()];
        assert!(opts.may_train_on(&plain));
        assert!(!opts.may_train_on(&guitar));
        // Allowing restricted material does not override an explicit eval-only choice.
        opts.allow_restricted = true;
        assert!(opts.may_train_on(&nc));
        assert!(!opts.may_train_on(&guitar));
    }

    #[test]
    fn manifest_lines_parse_and_bad_ones_name_the_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let m = dir.path().join("MANIFEST.tsv");
        std::fs::write(
            &m,
            "path\tclass\tlicense\tvocal_segments\nsong/a_mix.ogg\tsong\tCC-BY-NC-3.0\t0.5-2.0;3-4\nscore/b.ogg\tscore\tCC0\t\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let items = read_folder(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].vocal_segments.as_deref(),
            Some(&[Span::new(0.5, 2.0), Span::new(3.0, 4.0)][..])
        );
        assert!(items[0].is_restricted());
        assert!(!items[1].is_restricted());
        assert_eq!(items[1].vocal_segments.as_deref(), Some(&[][..]));
        std::fs::write(&m, "path\tclass\nx.ogg\tsinging\n").unwrap_or_else(|e| panic!("{e}"));
        let err = read_folder(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("line 2") && err.contains("singing"), "{err}");
    }

    #[test]
    fn folds_never_split_a_group() {
        let item = |p: &str, class| LabelledItem {
            path: PathBuf::from(p),
            class,
            vocal_segments: None,
            licence: String::new(),
            source: String::new(),
            group: default_group(Path::new(p)),
            folder: "c".into(),
        };
        let items = vec![
            item("x_mix.ogg", ItemClass::Song),
            item("x_vocals.ogg", ItemClass::VocalsIsolated),
            item("x_accompaniment.ogg", ItemClass::InstrumentalIsolated),
            item("y.ogg", ItemClass::Score),
            item("z.ogg", ItemClass::Score),
        ];
        let folds = assign_folds(&items, 3, 1);
        assert_eq!(folds.len(), 3, "one fold entry per group: {folds:?}");
        assert!(folds.values().all(|&f| f < 3));
    }

    #[test]
    fn voice_times_follow_the_excerpt_of_a_long_file() {
        // A 60 s file read as 40 s from 15 s: a voice at 14-20 s of the file sounds at 0-5 s of
        // the excerpt, one at 50-58 s at 35-40 s, one at 5-10 s not at all.
        let start = excerpt_start(60.0, 15.0, 40.0);
        assert_eq!(start, 15.0);
        let segs = [
            Span::new(5.0, 10.0),
            Span::new(14.0, 20.0),
            Span::new(50.0, 58.0),
        ];
        assert_eq!(
            excerpt_segments(&segs, start, 40.0),
            vec![Span::new(0.0, 5.0), Span::new(35.0, 40.0)]
        );
        // A 50 s file keeps its last 40 s; a short one is read whole and keeps its times.
        assert_eq!(excerpt_start(50.0, 15.0, 40.0), 10.0);
        assert_eq!(excerpt_start(30.0, 15.0, 40.0), 0.0);
        assert_eq!(
            excerpt_segments(&segs[..1], 0.0, 30.0),
            vec![Span::new(5.0, 10.0)]
        );
    }

    #[test]
    fn a_laid_voice_is_labelled_where_it_sounds() {
        let rate = ANALYSIS_RATE as usize;
        let voice: Vec<f32> = (0..2 * rate)
            .map(|i| if i >= rate / 2 { 0.5 } else { 0.0 })
            .collect();
        let mut rng = Rng::new(1);
        let (layer, truth) = lay_voice(&voice, &[Span::new(0.5, 2.0)], 20 * rate, &mut rng);
        assert!(!truth.is_empty());
        for s in &truth {
            let mid = ((s.start_s + s.end_s) / 2.0 * rate as f64) as usize;
            assert_eq!(layer[mid], 0.5, "voice sounds inside {s:?}");
        }
        let before = (truth[0].start_s * rate as f64) as usize;
        assert!(layer[..before.saturating_sub(1)].iter().all(|&v| v == 0.0));
    }

    /// A 1 kHz tone for `secs` seconds at the analysis rate.
    fn tone(secs: f64) -> Vec<f32> {
        let rate = ANALYSIS_RATE as f64;
        (0..(secs * rate) as usize)
            .map(|i| (0.3 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / rate).sin()) as f32)
            .collect()
    }

    #[test]
    fn the_mel_kept_for_a_dump_is_one_row_per_frame_and_changes_nothing_else() {
        let config = FeatureConfig::default();
        let signal = tone(2.0);
        let plain = extract_track(&signal, &config);
        let (track, mel) = extract_track_with_mel(&signal, &config);
        assert_eq!(track.frames, plain.frames);
        assert_eq!(track.windows, plain.windows);
        assert_eq!(mel.len(), track.frames.len() * config.n_mels);
        // The tone's band (1 kHz of 0-8 kHz) stands far above the top band in a middle frame.
        let row = &mel[100 * config.n_mels..101 * config.n_mels];
        let loudest = (0..row.len()).max_by(|&a, &b| row[a].total_cmp(&row[b]));
        assert!(
            matches!(loudest, Some(b) if (10..=30).contains(&b)),
            "loudest band {loudest:?} of {row:?}"
        );
        assert!(
            row[config.n_mels / 2] < row[loudest.unwrap_or(0)] - 30.0,
            "{row:?}"
        );
    }

    #[test]
    fn a_dump_writes_the_mel_rows_and_the_fold_of_each_example() {
        let config = FeatureConfig::default();
        let (track, mel) = extract_track_with_mel(&tone(1.5), &config);
        let example = Example {
            name: "tone".into(),
            fold: 3,
            items: Vec::new(),
            trainable: true,
            kind: Some(CueKind::Score),
            vocals: Some(Vec::new()),
            construction: "natural",
            train_only: false,
            duration_s: 1.5,
            level_db: -20.0,
            windows: track.windows,
            frames: track.frames,
            mel,
        };
        let n_frames = example.frames.len();
        let ds = Dataset {
            items: Vec::new(),
            examples: vec![example],
            folds: 5,
            texture_len_s: config.texture_len_s,
            tallies: Vec::new(),
            skipped: Vec::new(),
        };
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("d");
        dump(&ds, &prefix).unwrap();
        let mel_bytes = std::fs::metadata(dir.path().join("d.mel.f32"))
            .unwrap()
            .len();
        assert_eq!(mel_bytes as usize, n_frames * config.n_mels * 4);
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("d.json")).unwrap())
                .unwrap();
        assert_eq!(meta[0]["fold"], 3);
        assert_eq!(meta[0]["n_mels"], config.n_mels);
        assert_eq!(meta[0]["n_frames"], n_frames);
    }

    #[test]
    fn a_pitch_shift_moves_the_pitch_and_scales_the_duration() {
        let rate = ANALYSIS_RATE as f64;
        let sine: Vec<f32> = (0..16000)
            .map(|i| (std::f64::consts::TAU * 220.0 * i as f64 / rate).sin() as f32)
            .collect();
        // Zero crossings per second = twice the frequency.
        let freq = |x: &[f32]| {
            let crossings = x
                .windows(2)
                .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                .count();
            crossings as f64 / 2.0 / (x.len() as f64 / rate)
        };
        let (up, factor) = shift_pitch(&sine, 12.0);
        assert!((factor - 2.0).abs() < 1e-9);
        assert!((freq(&up) - 440.0).abs() < 5.0, "{}", freq(&up));
        assert!((up.len() as f64 - 8000.0).abs() < 2.0, "{}", up.len());
        let (down, _) = shift_pitch(&sine, -12.0);
        assert!((freq(&down) - 110.0).abs() < 2.0, "{}", freq(&down));
        assert!((down.len() as f64 - 32000.0).abs() < 4.0, "{}", down.len());
    }

    #[test]
    fn reverb_and_eq_keep_a_signal_finite_and_audible() {
        let mut rng = Rng::new(2);
        let mut x: Vec<f32> = (0..16000)
            .map(|i| ((i as f32) * 0.05).sin() * 0.3)
            .collect();
        random_eq(&mut x, &mut rng);
        reverb(&mut x, 0.8, -6.0);
        assert!(x.iter().all(|v| v.is_finite()));
        assert!(rms(&x) > 0.01);
        set_level(&mut x, -40.0);
        assert!((20.0 * rms(&x).log10() + 40.0).abs() < 0.01);
    }
}
