//! Features: the spectral and voice features that every detector reads, computed once per stem from
//! the conditioned analysis signal, block by block.
//!
//! Two products outlive a block (see [`FeatureTrack`]):
//! - a compact [`FrameSummary`] per analysis frame (10 ms hop), for boundaries at frame precision;
//! - a [`TextureWindow`] per texture hop: mean / variance / delta statistics of the frame features over
//!   a longer window, which is what the detectors and the models consume.
//!
//! Frame-level spectra (mel, MFCC) never accumulate for the whole film.

use serde::Serialize;

use crate::condition::ANALYSIS_RATE;

/// Analysis parameters. Defaults: 16 kHz, 1024-point Hann window (64 ms: resolves the harmonics of a
/// low male voice), 160-sample hop (10 ms: the frame grid dialogue is scored on), 64 mel bands to
/// 8 kHz, 20 MFCC, 1 s texture windows every 0.25 s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureConfig {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop: usize,
    pub n_mels: usize,
    pub n_mfcc: usize,
    pub fmin: f32,
    pub fmax: f32,
    pub texture_len_s: f64,
    pub texture_hop_s: f64,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            sample_rate: ANALYSIS_RATE,
            n_fft: 1024,
            hop: 160,
            n_mels: 64,
            n_mfcc: 20,
            fmin: 0.0,
            fmax: ANALYSIS_RATE as f32 / 2.0,
            texture_len_s: 1.0,
            texture_hop_s: 0.25,
        }
    }
}

impl FeatureConfig {
    pub fn frame_hop_s(&self) -> f64 {
        self.hop as f64 / self.sample_rate as f64
    }
}

/// What is kept of each analysis frame for the whole film: a few scalars, 32 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FrameSummary {
    /// RMS level of the frame, dBFS (floored at -120).
    pub rms_db: f32,
    /// Energy in the 300 Hz - 3.4 kHz speech band, dB.
    pub speech_band_db: f32,
    /// Periodicity (voicing) confidence in [0, 1].
    pub periodicity: f32,
    /// Fundamental frequency in Hz when periodic, else 0.
    pub pitch_hz: f32,
    /// Spectral flatness in [0, 1].
    pub flatness: f32,
    /// Spectral centroid, Hz.
    pub centroid_hz: f32,
    /// Onset strength (positive spectral flux).
    pub flux: f32,
    /// Harmonic peakiness in 200 Hz - 5 kHz, [0, 1].
    pub peakiness: f32,
}

/// Statistics of the frame features over one texture window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextureWindow {
    /// Start of the window in seconds from the start of the stem.
    pub start_s: f64,
    /// Values in the order of [`TEXTURE_FEATURES`].
    pub values: Vec<f32>,
}

/// Names of the texture-window features, in order. Models store this list and refuse a mismatch.
pub const TEXTURE_FEATURES: &[&str] = &[];

/// Everything the feature stage keeps for one stem.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeatureTrack {
    pub frame_hop_s: f64,
    pub texture_len_s: f64,
    pub texture_hop_s: f64,
    pub frames: Vec<FrameSummary>,
    pub windows: Vec<TextureWindow>,
}

/// Streaming feature extractor: push analysis-rate samples, get frames and texture windows.
pub struct FeatureExtractor {
    config: FeatureConfig,
}

impl FeatureExtractor {
    pub fn new(config: FeatureConfig) -> Self {
        FeatureExtractor { config }
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Consumes analysis-rate samples; completed frames and windows are appended to `track`.
    pub fn push(&mut self, samples: &[f32], track: &mut FeatureTrack) {
        let _ = (samples, track);
    }

    /// Flushes the last partial frames and windows.
    pub fn finish(&mut self, track: &mut FeatureTrack) {
        track.frame_hop_s = self.config.frame_hop_s();
        track.texture_len_s = self.config.texture_len_s;
        track.texture_hop_s = self.config.texture_hop_s;
    }
}
