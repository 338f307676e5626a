//! Source-music candidates: music-like content on the dialogue or effects stem.

use crate::discover::StemKind;
use crate::features::FeatureTrack;
use crate::timeline::SourceMusic;

pub fn detect(track: &FeatureTrack, stem: StemKind) -> Vec<SourceMusic> {
    let _ = (track, stem);
    Vec::new()
}
