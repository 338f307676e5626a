//! Music cues on the music stem: where music is audible, split on silence and on changes of content.
//!
//! Two stages:
//! 1. [`activity`]: audible runs, with thresholds relative to the stem's own floor (never absolute
//!    level). A run starts where a fade-in rises out of the floor and ends where a fade-out sinks back
//!    into it. **Gap rule:** music separated by less than [`ActivityConfig::max_gap_s`] (2.5 s) of
//!    floor is one cue, so a pause inside a piece does not split it; runs shorter than
//!    [`ActivityConfig::min_span_s`] (2 s) are dropped, so a 3 s stinger is a cue and a click is not.
//! 2. [`novelty`]: inside each run, a sustained change of musical content (timbre, level, onset
//!    density, tonality) marks a segue; the run is split there.
//!
//! Segued cues crossfade, and their true intervals overlap by the crossfade. The change point is the
//! middle of the crossfade; its length is not measured (a ramp fitted to the descriptors either side
//! was tried and was noisier than a fixed guess), so the earlier cue ends and the later one starts
//! half an assumed crossfade ([`CueConfig::segue_overlap_s`], 2 s) either side of it. On
//! /tmp/dev-reels this put 10 of 20 segue ends and starts within 0.5 s of the truth, against 6 when
//! the cues abut at the middle.

pub mod activity;
pub mod novelty;

use crate::features::FeatureTrack;
use crate::loudness::LoudnessTrace;
use crate::timeline::Span;

pub use activity::{ActivityConfig, LevelTrack};
pub use novelty::NoveltyConfig;

/// Settings of the cue detector.
#[derive(Debug, Clone, PartialEq)]
pub struct CueConfig {
    pub activity: ActivityConfig,
    pub novelty: NoveltyConfig,
    /// Assumed crossfade length at a segue, seconds: the earlier cue ends half of it after the change
    /// point, the later one starts half of it before. 2 s is the middle of the usual 1-3 s.
    pub segue_overlap_s: f64,
}

impl Default for CueConfig {
    fn default() -> Self {
        CueConfig {
            activity: ActivityConfig::default(),
            novelty: NoveltyConfig::default(),
            segue_overlap_s: 2.0,
        }
    }
}

/// Cue spans on a music stem, in start order (spans of segued cues may overlap).
pub fn detect_cues(mx: &FeatureTrack, loudness: &LoudnessTrace) -> Vec<Span> {
    detect_cues_with(mx, loudness, &CueConfig::default())
}

/// [`detect_cues`] with explicit settings.
pub fn detect_cues_with(mx: &FeatureTrack, loudness: &LoudnessTrace, cfg: &CueConfig) -> Vec<Span> {
    let level = LevelTrack::of_stem(mx, loudness);
    let runs = activity::audible_spans(&level, &cfg.activity);
    if runs.is_empty() {
        return runs;
    }
    let desc = novelty::Descriptors::build(mx, &level, &runs, &cfg.novelty);
    let half = cfg.segue_overlap_s.max(0.0) / 2.0;
    let mut cues = Vec::new();
    for run in &runs {
        let curve = novelty::novelty_curve(&desc, run, &cfg.novelty);
        let splits = novelty::change_points(&curve, run, &cfg.novelty);
        let mut start = run.start_s;
        for t in splits {
            cues.push(Span::new(start, (t + half).min(run.end_s)));
            start = (t - half).max(run.start_s);
        }
        cues.push(Span::new(start, run.end_s));
    }
    cues
}

#[cfg(test)]
mod tests;
