//! stemscope: listens to a film's dialogue (DX), music (MX) and effects (FX) stems and tells what the
//! music is doing against the dialogue and the effects.
//!
//! The pipeline is laid out one module per stage:
//!
//! ```text
//! discover -> decode -> condition (downmix, resample) -> features -> detect -> timeline -> report
//!                    \-> loudness (original channels, original rate) --------/
//! ```
//!
//! [`pipeline::analyze`] runs it for one title. Every stage streams: a stem is read in blocks, and only
//! small per-frame and per-window summaries (see [`features::FeatureTrack`], [`loudness::LoudnessTrace`])
//! outlive a block, so memory does not grow with the length of the film beyond those summaries.

pub mod batch;
pub mod bench;
pub mod condition;
pub mod decode;
pub mod detect;
pub mod discover;
pub mod error;
pub mod features;
pub mod loudness;
pub mod model;
pub mod pipeline;
pub mod quantile;
pub mod report;
pub mod rng;
pub mod synth;
pub mod timeline;

pub use error::{Error, Result};
