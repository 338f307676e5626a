//! Report: writes what the analysis found. `report.json` is the machine contract (documented in
//! `docs/report-schema.md`); the cue sheet, the HTML page and the console summary are views of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::loudness::LoudnessStats;
use crate::timeline::{EffectsEvent, MusicCue, SourceMusic, Span};

/// Bumped on any change of report.json's shape: major for breaking changes, minor for additions.
pub const SCHEMA_VERSION: &str = "1.0";

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

/// One scene and what happens in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SceneReport {
    pub number: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub name: Option<String>,
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
    pub vocals: Vec<Span>,
    pub dialogue: Vec<Span>,
    pub effects_activity: Vec<Span>,
    pub effects_events: Vec<EffectsEvent>,
    pub source_music: Vec<SourceMusic>,
    pub scenes: Vec<SceneReport>,
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
        .filter(|c| c.kind == crate::timeline::CueKind::Song)
        .count();
    let dlg: f64 = report.dialogue.iter().map(Span::duration_s).sum();
    format!(
        "{}{}: {:.1} s, {} cues ({} song, {} score), {:.1} s of dialogue, {} scenes, {} warnings",
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
        dlg,
        report.scenes.len(),
        report.warnings.len()
    )
}
