//! One analysis frame: everything computed from its samples alone (so frames can be computed in any
//! order, in parallel), written as a flat record of `f32` laid out by [`FrameLayout`].

use realfft::RealFftPlanner;

use super::FeatureConfig;
use super::mel::{AMIN, Dct, MelFilterbank, power_to_db};
use super::pitch::{PitchScratch, PitchTracker};
use super::spectral::{CONTRAST_BANDS, SpectralShape, flatness};
use super::stft::{Stft, StftScratch};

/// Floor of the level-independent variants: far under any real signal, still a normal f32.
pub const TINY: f32 = 1e-30;

/// `10 log10(max(x, TINY))`.
#[inline]
fn db_tiny(x: f32) -> f32 {
    10.0 * x.max(TINY).log10()
}

/// Values with `|x| <= ZCR_THRESHOLD` count as zero (positive) for the zero-crossing rate (librosa).
const ZCR_THRESHOLD: f32 = 1e-10;

// Offsets of the scalar fields in a frame record.
pub const RMS: usize = 0;
pub const ZCR: usize = 1;
pub const CENTROID: usize = 2;
pub const BANDWIDTH: usize = 3;
pub const ROLLOFF: usize = 4;
pub const FLATNESS: usize = 5;
pub const SPEECH_MS: usize = 6;
pub const PEAKINESS: usize = 7;
pub const PERIODICITY: usize = 8;
pub const PITCH: usize = 9;
/// Flatness with bins floored [`REL_RANGE_DB`] under the frame's strongest (level-independent).
pub const FLATNESS_REL: usize = 10;
pub const CONTRAST: usize = 11;
/// Contrast with peaks and valleys floored [`REL_RANGE_DB`] under the frame's strongest bin.
pub const CONTRAST_REL: usize = CONTRAST + CONTRAST_BANDS;
const SCALARS: usize = CONTRAST_REL + CONTRAST_BANDS;

/// Range kept under a frame's maximum in the level-independent variants (`*_rel`): anything
/// deeper is floored, so the values do not depend on where the absolute floor (`AMIN`) cuts in.
pub const REL_RANGE_DB: f32 = 70.0;

/// Where each feature sits in a frame record.
#[derive(Debug, Clone, Copy)]
pub struct FrameLayout {
    pub n_mels: usize,
    pub n_mfcc: usize,
}

impl FrameLayout {
    /// Log-mel as librosa's `power_to_db` (absolute floor at -100 dB).
    pub fn mel(&self) -> std::ops::Range<usize> {
        SCALARS..SCALARS + self.n_mels
    }
    /// Log-mel floored [`REL_RANGE_DB`] under the frame's strongest band.
    pub fn mel_rel(&self) -> std::ops::Range<usize> {
        SCALARS + self.n_mels..SCALARS + 2 * self.n_mels
    }
    /// MFCC of [`mel`](Self::mel) (librosa's).
    pub fn mfcc(&self) -> std::ops::Range<usize> {
        let a = SCALARS + 2 * self.n_mels;
        a..a + self.n_mfcc
    }
    /// MFCC of [`mel_rel`](Self::mel_rel).
    pub fn mfcc_rel(&self) -> std::ops::Range<usize> {
        let a = SCALARS + 2 * self.n_mels + self.n_mfcc;
        a..a + self.n_mfcc
    }
    pub fn contrast(&self) -> std::ops::Range<usize> {
        CONTRAST..CONTRAST + CONTRAST_BANDS
    }
    pub fn contrast_rel(&self) -> std::ops::Range<usize> {
        CONTRAST_REL..CONTRAST_REL + CONTRAST_BANDS
    }
    pub fn stride(&self) -> usize {
        SCALARS + 2 * self.n_mels + 2 * self.n_mfcc
    }
}

/// The immutable part: window, FFT plans, filterbank, band layouts. Shared by every thread.
pub struct FrameAnalyzer {
    stft: Stft,
    mel: MelFilterbank,
    dct: Dct,
    shape: SpectralShape,
    pitch: PitchTracker,
    layout: FrameLayout,
}

/// Per-thread work buffers; made once per worker, reused for every frame.
pub struct FrameScratch {
    stft: StftScratch,
    pitch: PitchScratch,
    power: Vec<f32>,
    mag: Vec<f32>,
    buf: Vec<f32>,
}

impl FrameAnalyzer {
    pub fn new(c: &FeatureConfig) -> Self {
        let mut planner = RealFftPlanner::new();
        let stft = Stft::new(c.n_fft, &mut planner);
        let shape = SpectralShape::new(c.sample_rate, c.n_fft, stft.window());
        FrameAnalyzer {
            mel: MelFilterbank::new(
                c.sample_rate,
                c.n_fft,
                c.n_mels,
                c.fmin as f64,
                c.fmax as f64,
            ),
            dct: Dct::new(c.n_mels, c.n_mfcc),
            shape,
            pitch: PitchTracker::new(c.sample_rate, c.n_fft, &mut planner),
            layout: FrameLayout {
                n_mels: c.n_mels,
                n_mfcc: c.n_mfcc,
            },
            stft,
        }
    }

    pub fn layout(&self) -> FrameLayout {
        self.layout
    }

    pub fn scratch(&self) -> FrameScratch {
        let n_bins = self.stft.n_bins();
        FrameScratch {
            stft: self.stft.scratch(),
            pitch: self.pitch.scratch(),
            power: vec![0.0; n_bins],
            mag: vec![0.0; n_bins],
            buf: Vec::with_capacity(n_bins + 1),
        }
    }

    /// Computes the record of one frame (`n_fft` samples) into `out` (`layout().stride()` values).
    pub fn analyze(&self, frame: &[f32], s: &mut FrameScratch, out: &mut [f32]) {
        let n = frame.len().max(1) as f32;
        out[RMS] = (frame.iter().map(|x| x * x).sum::<f32>() / n).sqrt();
        out[ZCR] = zero_crossing_rate(frame);

        self.stft.power(frame, &mut s.stft, &mut s.power);
        for (m, p) in s.mag.iter_mut().zip(&s.power) {
            *m = p.sqrt();
        }
        let (centroid, bandwidth, rolloff) = self.shape.centroid_bandwidth_rolloff(&s.mag);
        out[CENTROID] = centroid;
        out[BANDWIDTH] = bandwidth;
        out[ROLLOFF] = rolloff;
        let max_power = s.power.iter().fold(0.0f32, |a, &b| a.max(b));
        let rel_floor = max_power * 10f32.powf(-REL_RANGE_DB / 10.0);
        out[FLATNESS] = flatness(&s.power, AMIN);
        out[FLATNESS_REL] = flatness(&s.power, rel_floor.max(TINY));
        out[SPEECH_MS] = self.shape.speech_band_ms(&s.power);
        out[PEAKINESS] = self.shape.peakiness(&s.power, &mut s.buf);
        let (contrast, contrast_rel) = out[CONTRAST..SCALARS].split_at_mut(CONTRAST_BANDS);
        // Contrast is in librosa's units, 10 log10 of magnitudes: half the power range.
        let mag_floor_db = db_tiny(max_power.sqrt()) - REL_RANGE_DB / 2.0;
        self.shape
            .contrast(&s.mag, &mut s.buf, contrast, contrast_rel, mag_floor_db);

        let l = self.layout;
        let (head, tail) = out.split_at_mut(l.mel_rel().end);
        let (mel, mel_rel) = head[SCALARS..].split_at_mut(l.n_mels);
        let (mfcc, mfcc_rel) = tail.split_at_mut(l.n_mfcc);
        self.mel.apply(&s.power, mel);
        let top = mel.iter().fold(0.0f32, |a, &b| a.max(b));
        let floor = db_tiny(top) - REL_RANGE_DB;
        for (r, v) in mel_rel.iter_mut().zip(mel.iter_mut()) {
            *r = db_tiny(*v).max(floor);
            *v = power_to_db(*v);
        }
        self.dct.apply(mel, mfcc);
        self.dct.apply(mel_rel, mfcc_rel);

        let (periodicity, pitch) = self.pitch.analyze(frame, &mut s.pitch);
        out[PERIODICITY] = periodicity;
        out[PITCH] = pitch;
    }
}

/// Fraction of sample pairs whose sign differs (librosa `zero_crossing_rate`, `zero_pos=True`).
fn zero_crossing_rate(frame: &[f32]) -> f32 {
    let mut crossings = 0u32;
    let mut prev_neg = frame.first().is_some_and(|&x| x < -ZCR_THRESHOLD);
    for &x in frame.iter().skip(1) {
        let neg = x < -ZCR_THRESHOLD;
        crossings += (neg != prev_neg) as u32;
        prev_neg = neg;
    }
    crossings as f32 / frame.len().max(1) as f32
}
