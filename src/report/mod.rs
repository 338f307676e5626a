//! Report: writes what the analysis found. `report.json` is the machine contract (documented in
//! `docs/report-schema.md`); the cue sheet, the HTML page and the console summary are views of it.
//! [`write_all`] writes them all next to each other.

pub mod cuesheet;
pub mod html;
pub mod scene_table;
pub mod synthetic;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::loudness::LoudnessStats;
use crate::timeline::{CueKind, CueSegue, EffectsEvent, MusicCue, SourceMusic, Span};

/// Bumped on any change of report.json's shape: major for breaking changes, minor for additions.
pub const SCHEMA_VERSION: &str = "1.3";

/// The start timecode of the reel, from the BWF `bext` time reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartTimecode {
    /// Samples since midnight at the stem's sample rate.
    pub samples_since_midnight: u64,
    pub sample_rate: u32,
    /// Seconds since midnight.
    pub seconds: f64,
    /// SMPTE timecode at the report's frame rate, e.g. "01:00:00:00".
    pub timecode: String,
    pub fps: String,
}

/// One stem as found and decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StemReport {
    pub files: Vec<PathBuf>,
    pub format: String,
    pub sample_rate: u32,
    pub channels: usize,
    pub channel_layout: Vec<String>,
    pub duration_s: f64,
    pub loudness: LoudnessStats,
}

/// The whole-mix figures (printmaster when given, else DX+MX+FX summed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MixReport {
    /// "printmaster" or "sum of stems".
    pub source: String,
    pub loudness: LoudnessStats,
    /// Integrated loudness over the frames where dialogue is active, LUFS.
    pub dialogue_gated_lufs: Option<f64>,
    /// Dialogue-to-music loudness ratio over all overlaps, LU.
    pub dialogue_to_music_lu: Option<f64>,
}

/// How a scene's bounds were found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneOrigin {
    /// By the automatic segmentation.
    #[default]
    Detected,
    /// From the `--scenes` file.
    Given,
}

/// A music cue as seen from one scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneCue {
    /// The cue's number in `cues`.
    pub number: usize,
    pub kind: CueKind,
    /// The whole cue (it may run beyond the scene), s.
    pub start_s: f64,
    pub end_s: f64,
    /// Seconds of the cue inside the scene.
    pub in_scene_s: f64,
}

/// Whether the music drops under dialogue inside one cue of a scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueDucking {
    pub cue: usize,
    /// Seconds of the cue (in the scene) under dialogue, and without dialogue near it.
    pub under_dialogue_s: f64,
    pub clear_s: f64,
    /// Music loudness over those seconds (gated, LUFS).
    pub music_under_dialogue_lufs: Option<f64>,
    pub music_clear_lufs: Option<f64>,
    /// `music_clear_lufs - music_under_dialogue_lufs`, dB: positive when the music is ducked.
    pub duck_db: Option<f64>,
}

/// One scene and what happens in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SceneReport {
    pub number: usize,
    /// Seconds from the start of the reel.
    pub start_s: f64,
    pub end_s: f64,
    pub name: Option<String>,
    pub duration_s: f64,
    /// Timecode of the first frame of the scene, and of the frame after its last, at `fps`.
    pub start_tc: String,
    pub end_tc: String,
    pub origin: SceneOrigin,
    /// Segmentation novelty at the scene's start (detected scenes after the first), higher is surer.
    pub boundary_score: Option<f64>,
    /// Seconds and fraction of the scene with dialogue.
    pub dialogue_s: f64,
    pub dialogue_coverage: f64,
    /// Seconds and fraction of the scene with music (any cue).
    pub music_s: f64,
    pub music_coverage: f64,
    /// The cues that sound in the scene.
    pub cues: Vec<SceneCue>,
    /// Seconds and fraction of the scene with effects activity.
    pub effects_s: f64,
    pub effects_density: f64,
    /// Loud effects events starting in the scene, and their rate per minute.
    pub effects_events: Vec<EffectsEvent>,
    pub effects_events_per_min: f64,
    /// Loudness of each stem over the scene (keys as in `stems`).
    pub loudness: BTreeMap<String, LoudnessStats>,
    /// Seconds where dialogue and music overlap, and the dialogue-to-music loudness difference over
    /// them (LU; `None` under 1 s of overlap or when either is below the gate).
    pub dialogue_music_overlap_s: f64,
    pub dialogue_to_music_lu: Option<f64>,
    /// Sung vocals under dialogue: total seconds and the spans.
    pub vocal_clash_s: f64,
    pub vocal_clashes: Vec<Span>,
    /// Music loudness without dialogue minus under dialogue over all cues of the scene, dB.
    pub ducking_db: Option<f64>,
    /// The same per cue.
    pub ducking: Vec<CueDucking>,
    /// Source-music candidates (music on DX/FX) in the scene, clipped to it.
    pub source_music: Vec<SourceMusic>,
}

/// Short-term (3 s) loudness of a stem sampled every `step_s`, for plotting.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoudnessCurve {
    /// Seconds between values (the first is at `step_s`).
    pub step_s: f64,
    /// LUFS, rounded to 0.1; `null` below -70 LUFS (silence).
    pub short_term_lufs: Vec<Option<f32>>,
}

/// Everything stemscope says about one reel (or one joined title).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema_version: String,
    pub title: String,
    pub reel: Option<String>,
    pub duration_s: f64,
    pub start_timecode: Option<StartTimecode>,
    pub stems: BTreeMap<String, StemReport>,
    pub mix: Option<MixReport>,
    pub cues: Vec<MusicCue>,
    /// The segues between cues, with the evidence for each (see `docs/report-schema.md`).
    pub segues: Vec<CueSegue>,
    pub vocals: Vec<Span>,
    pub dialogue: Vec<Span>,
    pub effects_activity: Vec<Span>,
    pub effects_events: Vec<EffectsEvent>,
    /// Ambience bed level of the effects stem over time (see `docs/schema/loudness.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effects_bed: Option<crate::detect::effects::EffectsBed>,
    pub source_music: Vec<SourceMusic>,
    pub scenes: Vec<SceneReport>,
    /// Short-term loudness of each stem (keys as in `stems`), for the HTML timeline.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub loudness_curves: BTreeMap<String, LoudnessCurve>,
    /// Sync pops and line-up tone by stem name (stems without any left out).
    pub leader: BTreeMap<String, Vec<crate::detect::leader::LeaderMark>>,
    pub warnings: Vec<String>,
    pub analysis: AnalysisInfo,
}

/// How the analysis was run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisInfo {
    pub stemscope_version: String,
    pub analysis_rate_hz: u32,
    pub vocal_model: Option<String>,
    pub elapsed_s: f64,
}

/// How a cue sheet rounds durations to whole seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DurationRounding {
    /// Up to the next whole second (what many cue-sheet preparers do).
    #[default]
    Up,
    /// To the nearest whole second.
    Nearest,
}

impl std::str::FromStr for DurationRounding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "up" => Ok(DurationRounding::Up),
            "nearest" => Ok(DurationRounding::Nearest),
            other => Err(format!("unknown rounding {other:?}; use up or nearest")),
        }
    }
}

/// How cues are numbered on the cue sheet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CueNumbering {
    /// `1M1` style when the reel name holds a number, else plain.
    #[default]
    Auto,
    /// Always `<reel>M<n>` (reel 1 when the reel has no number).
    Reel,
    /// 1, 2, 3...
    Plain,
}

impl std::str::FromStr for CueNumbering {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(CueNumbering::Auto),
            "reel" => Ok(CueNumbering::Reel),
            "plain" => Ok(CueNumbering::Plain),
            other => Err(format!(
                "unknown cue numbering {other:?}; use auto, reel or plain"
            )),
        }
    }
}

/// Settings of the views written next to report.json.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportOptions {
    /// Frame rate of the timecodes on the cue sheet, the scene table and the HTML page.
    pub fps: crate::timeline::timecode::FrameRate,
    pub rounding: DurationRounding,
    pub numbering: CueNumbering,
    /// Seconds per HTML timeline row; `None`: the whole reel up to 15 min, else 10 min rows.
    pub html_row_s: Option<f64>,
}

/// Writes `report.json`, `cues.csv`, `scenes.csv` and `report.html` into `out_dir`; returns their
/// paths in that order.
pub fn write_all(
    report: &Report,
    out_dir: &Path,
    opts: &ReportOptions,
) -> crate::Result<Vec<PathBuf>> {
    let json = write_json(report, out_dir)?;
    let cues = out_dir.join("cues.csv");
    cuesheet::write(report, &cues, opts)?;
    let scenes = out_dir.join("scenes.csv");
    scene_table::write(report, &scenes)?;
    let page = out_dir.join("report.html");
    let tmp = out_dir.join(".report.html.tmp");
    std::fs::write(&tmp, html::render(report, opts)).map_err(|e| crate::Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &page).map_err(|e| crate::Error::io(&page, e))?;
    Ok(vec![json, cues, scenes, page])
}

/// Writes `report.json` into `out_dir` (through a temporary file and a rename, so an interrupted run
/// never leaves half a report).
pub fn write_json(report: &Report, out_dir: &Path) -> crate::Result<PathBuf> {
    std::fs::create_dir_all(out_dir).map_err(|e| crate::Error::io(out_dir, e))?;
    let path = out_dir.join("report.json");
    let tmp = out_dir.join(".report.json.tmp");
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| crate::Error::Other(format!("cannot serialise the report: {e}")))?;
    std::fs::write(&tmp, text).map_err(|e| crate::Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| crate::Error::io(&path, e))?;
    Ok(path)
}

/// A short human summary for the console.
pub fn summary(report: &Report) -> String {
    let songs = report
        .cues
        .iter()
        .filter(|c| c.kind == CueKind::Song)
        .count();
    let dlg = crate::timeline::spans::total(&report.dialogue);
    format!(
        "{}{}: {:.1} s, {} cues ({} song, {} score, {} segues), {:.1} s of dialogue, {} scenes, {} warnings",
        report.title,
        report
            .reel
            .as_deref()
            .map(|r| format!(" {r}"))
            .unwrap_or_default(),
        report.duration_s,
        report.cues.len(),
        songs,
        report.cues.len() - songs,
        report.segues.len(),
        dlg,
        report.scenes.len(),
        report.warnings.len()
    ) + &leader_summary(report)
        .map(|l| format!("\n  {l}"))
        .unwrap_or_default()
}

/// One line on the leader, when there is one: each kind of mark once, from the first stem that
/// has it, and the stems that carry it, e.g. "leader: head pop at 00:59:58:00 on dialogue, music,
/// effects; line-up tone 1000 Hz -20.0 dBFS 4.0 s on dialogue".
pub fn leader_summary(report: &Report) -> Option<String> {
    use crate::detect::leader::MarkKind;
    let mut parts = Vec::new();
    for kind in [MarkKind::LineupTone, MarkKind::HeadPop, MarkKind::TailPop] {
        let found: Vec<(&str, &crate::detect::leader::LeaderMark)> = report
            .leader
            .iter()
            .filter_map(|(stem, ms)| {
                ms.iter()
                    .find(|m| m.kind == kind)
                    .map(|m| (stem.as_str(), m))
            })
            .collect();
        let Some(&(_, m)) = found.first() else {
            continue;
        };
        let stems = found.iter().map(|f| f.0).collect::<Vec<_>>().join(", ");
        let at = m
            .timecode
            .clone()
            .unwrap_or_else(|| format!("{:.3} s", m.start_s));
        parts.push(if kind == MarkKind::LineupTone {
            format!(
                "{} {:.0} Hz{} {:.1} s at {} on {}",
                kind.name(),
                m.frequency_hz,
                m.level_dbfs
                    .map(|l| format!(" {l:.1} dBFS"))
                    .unwrap_or_default(),
                m.end_s - m.start_s,
                at,
                stems
            )
        } else {
            format!("{} at {} on {}", kind.name(), at, stems)
        });
    }
    (!parts.is_empty()).then(|| format!("leader: {}", parts.join("; ")))
}
