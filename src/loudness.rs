//! Loudness (EBU R128 / ITU-R BS.1770-4) on a stem's original channels at its original rate.
//!
//! A stem's meter keeps a [`LoudnessTrace`]: the K-weighted, channel-weighted energy of every 400 ms
//! gating block on a 100 ms grid, the short-term (3 s) energy on the same grid, and the sample (and,
//! when asked, true) peak of every 100 ms. That is enough to compute integrated loudness, loudness
//! range and peaks for any segment (a cue, a scene, the frames where dialogue is active) after the
//! fact, at 10 numbers per second.

use serde::Serialize;

use crate::decode::ChannelRole;

/// Loudness figures of a stem or a segment. `None` where undefined (e.g. silence below the gate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LoudnessStats {
    pub integrated_lufs: Option<f64>,
    pub lra_lu: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub true_peak_dbtp: Option<f64>,
}

/// Per-100 ms loudness summary of one stem.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoudnessTrace {
    /// Grid step, seconds (0.1).
    pub step_s: f64,
    /// Mean-square K-weighted energy of the 400 ms block ending at each step.
    pub momentary: Vec<f32>,
    /// Mean-square K-weighted energy of the 3 s block ending at each step.
    pub short_term: Vec<f32>,
    /// Largest absolute sample value within each step (linear).
    pub sample_peak: Vec<f32>,
    /// Largest true-peak value within each step (linear), when measured.
    pub true_peak: Option<Vec<f32>>,
}

impl LoudnessTrace {
    /// Loudness figures over `[start_s, end_s)`.
    pub fn segment(&self, start_s: f64, end_s: f64) -> LoudnessStats {
        let _ = (start_s, end_s);
        LoudnessStats::default()
    }

    /// Loudness figures for the whole stem.
    pub fn whole(&self) -> LoudnessStats {
        self.segment(0.0, f64::INFINITY)
    }
}

/// Streaming loudness meter over interleaved frames at the stem's own rate.
pub struct LoudnessMeter {
    trace: LoudnessTrace,
}

impl LoudnessMeter {
    pub fn new(channels: &[ChannelRole], sample_rate: u32, true_peak: bool) -> crate::Result<Self> {
        let _ = (channels, sample_rate, true_peak);
        Ok(LoudnessMeter {
            trace: LoudnessTrace {
                step_s: 0.1,
                ..Default::default()
            },
        })
    }

    pub fn push(&mut self, interleaved: &[f32]) -> crate::Result<()> {
        let _ = interleaved;
        Ok(())
    }

    pub fn finish(self) -> LoudnessTrace {
        self.trace
    }
}
