//! Detect: turns each stem's feature and loudness summaries into activity over time: music cues,
//! sung vocals, speech, effects events, and music heard on the dialogue or effects stems.

pub mod dialogue;
pub mod effects;
pub mod music;
pub mod source_music;
pub mod vocals;
