//! Effects stem: activity, ambience bed level over time and loud events.

use serde::Serialize;

use crate::features::FeatureTrack;
use crate::loudness::LoudnessTrace;
use crate::timeline::{EffectsEvent, Span};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EffectsActivity {
    pub activity: Vec<Span>,
    pub events: Vec<EffectsEvent>,
}

pub fn detect(fx: &FeatureTrack, loudness: &LoudnessTrace) -> EffectsActivity {
    let _ = (fx, loudness);
    EffectsActivity::default()
}
