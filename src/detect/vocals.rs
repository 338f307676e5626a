//! Sung vocals on the music stem, and the song/score decision per cue.

use crate::features::FeatureTrack;
use crate::timeline::{CueKind, Span};

/// Vocal activity over time on the music stem.
#[derive(Debug, Clone, Default)]
pub struct VocalActivity {
    /// Probability of sung vocals per texture window.
    pub probability: Vec<f32>,
    /// Smoothed vocal segments.
    pub segments: Vec<Span>,
}

/// The song/score decision for one cue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CueVocals {
    pub kind: CueKind,
    pub vocal_s: f64,
    pub vocal_ratio: f64,
    pub confidence: f64,
}

pub fn detect(mx: &FeatureTrack, dx: Option<&FeatureTrack>) -> VocalActivity {
    let _ = (mx, dx);
    VocalActivity::default()
}

pub fn classify_cue(cue: &Span, vocals: &VocalActivity) -> CueVocals {
    let _ = (cue, vocals);
    CueVocals {
        kind: CueKind::Score,
        vocal_s: 0.0,
        vocal_ratio: 0.0,
        confidence: 0.0,
    }
}
