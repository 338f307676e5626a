//! Music cues on the music stem: where music is audible, split on silence and on changes of content.

use crate::features::FeatureTrack;
use crate::loudness::LoudnessTrace;
use crate::timeline::Span;

/// Cue spans on a music stem, in start order (spans of segued cues may overlap).
pub fn detect_cues(mx: &FeatureTrack, loudness: &LoudnessTrace) -> Vec<Span> {
    let _ = (mx, loudness);
    Vec::new()
}
