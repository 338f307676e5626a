//! One analysis frame: everything computed from its samples alone (so frames can be computed in any
//! order, in parallel), written as a flat record of `f32` laid out by [`FrameLayout`].

use realfft::RealFftPlanner;

use super::chroma::{ChromaFold, N_CHROMA};
use super::lanes;
use super::mel::{AMIN, Dct, MelFilterbank, log10, power_to_db};
use super::pitch::{PitchScratch, PitchTracker};
use super::spectral::{CONTRAST_BANDS, SpectralShape, flatness, flatness_n};
use super::stft::{Stft, StftScratch};
use super::{FeatureConfig, FeatureSet};

/// Floor of the level-independent variants: far under any real signal, still a normal f32.
pub const TINY: f32 = 1e-30;

/// `10 log10(max(x, TINY))`.
#[inline(always)]
fn db_tiny(x: f32) -> f32 {
    10.0 * log10(x.max(TINY))
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
/// Pitch-class profile, [`N_CHROMA`] values summing to 1 (see [`super::chroma`]).
pub const CHROMA: usize = CONTRAST_REL + CONTRAST_BANDS;
const SCALARS: usize = CHROMA + N_CHROMA;

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
    chroma: ChromaFold,
    layout: FrameLayout,
    set: FeatureSet,
    /// The CPU has AVX2: [`FrameAnalyzer::analyze`] runs a copy compiled for it.
    avx2: bool,
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
        let stft = Stft::new(c.n_fft);
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
            chroma: ChromaFold::new(c.sample_rate, c.n_fft),
            layout: FrameLayout {
                n_mels: c.n_mels,
                n_mfcc: c.n_mfcc,
            },
            set: c.set,
            avx2: has_avx2(),
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
    ///
    /// On CPUs with AVX2 this runs a copy of the same code compiled for AVX2 (twice the vector
    /// width in the lane loops). The results are identical: Rust never fuses or reorders
    /// floating-point operations, so only the instructions differ, not the arithmetic.
    pub fn analyze(&self, frame: &[f32], s: &mut FrameScratch, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the running CPU supports AVX2 (`has_avx2`).
            return unsafe { self.analyze_avx2(frame, s, out) };
        }
        self.analyze_generic(frame, s, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn analyze_avx2(&self, frame: &[f32], s: &mut FrameScratch, out: &mut [f32]) {
        self.analyze_generic(frame, s, out);
    }

    /// The body of [`analyze`](Self::analyze); inlined (with everything it calls in this module
    /// tree) into each compiled copy.
    #[inline(always)]
    fn analyze_generic(&self, frame: &[f32], s: &mut FrameScratch, out: &mut [f32]) {
        let zcr = zero_crossing_rate(frame);
        self.stft.power(frame, &mut s.stft, &mut s.power);
        for (m, p) in s.mag.iter_mut().zip(&s.power) {
            *m = p.sqrt();
        }
        let l = self.layout;
        let (head, tail) = out.split_at_mut(l.mel_rel().end);
        let (scalars, mels) = head.split_at_mut(SCALARS);
        let (mel, mel_rel) = mels.split_at_mut(l.n_mels);
        let (mfcc, mfcc_rel) = tail.split_at_mut(l.n_mfcc);
        self.mel.apply(&s.power, mel);
        let top = lanes::max_or_zero(mel);
        let floor = db_tiny(top) - REL_RANGE_DB;
        let absolute_floor = power_to_db(AMIN);
        for (r, v) in mel_rel.iter_mut().zip(mel.iter_mut()) {
            // One logarithm for both variants: they differ only in where they are floored.
            let db = db_tiny(*v);
            *r = db.max(floor);
            *v = if *v >= AMIN { db } else { absolute_floor };
        }

        if self.set == FeatureSet::Librosa {
            // Only librosa's list; the fields it leaves out read 0.
            scalars.fill(0.0);
            mfcc_rel.fill(0.0);
            scalars[ZCR] = zcr;
            let (centroid, rolloff) = self.shape.centroid_rolloff(&s.mag);
            scalars[CENTROID] = centroid;
            scalars[ROLLOFF] = rolloff;
            scalars[FLATNESS] = flatness(&s.power, AMIN);
            self.dct.apply(mel, mfcc);
            return;
        }

        let n = frame.len().max(1) as f32;
        scalars[ZCR] = zcr;
        scalars[RMS] = (lanes::sum_sq(frame) / n).sqrt();
        let (centroid, bandwidth, rolloff) = self.shape.centroid_bandwidth_rolloff(&s.mag);
        scalars[CENTROID] = centroid;
        scalars[BANDWIDTH] = bandwidth;
        scalars[ROLLOFF] = rolloff;
        let max_power = lanes::max_or_zero(&s.power);
        let rel_floor = max_power * 10f32.powf(-REL_RANGE_DB / 10.0);
        [scalars[FLATNESS], scalars[FLATNESS_REL]] =
            flatness_n(&s.power, [AMIN, rel_floor.max(TINY)]);
        scalars[SPEECH_MS] = self.shape.speech_band_ms(&s.power);
        scalars[PEAKINESS] = self.shape.peakiness(&s.power);
        let (contrast, contrast_rel) = scalars[CONTRAST..].split_at_mut(CONTRAST_BANDS);
        // Contrast is in librosa's units, 10 log10 of magnitudes: half the power range.
        let mag_floor_db = db_tiny(max_power.sqrt()) - REL_RANGE_DB / 2.0;
        self.shape
            .contrast(&s.mag, &mut s.buf, contrast, contrast_rel, mag_floor_db);
        self.dct.apply_pair(mel, mel_rel, mfcc, mfcc_rel);
        self.chroma
            .apply(&s.mag, &mut scalars[CHROMA..CHROMA + N_CHROMA]);

        let (periodicity, pitch) = self.pitch.analyze(frame, &mut s.pitch);
        scalars[PERIODICITY] = periodicity;
        scalars[PITCH] = pitch;
    }
}

/// Whether the running CPU supports AVX2.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Fraction of sample pairs whose sign differs (librosa `zero_crossing_rate`, `zero_pos=True`).
#[inline(always)]
fn zero_crossing_rate(frame: &[f32]) -> f32 {
    let neg = |x: f32| x < -ZCR_THRESHOLD;
    let crossings: u32 = frame
        .iter()
        .zip(frame.iter().skip(1))
        .map(|(&a, &b)| (neg(a) != neg(b)) as u32)
        .sum();
    crossings as f32 / frame.len().max(1) as f32
}
