//! Features: the spectral and voice features that every detector reads, computed once per stem from
//! the conditioned analysis signal, block by block.
//!
//! Two products outlive a block (see [`FeatureTrack`]):
//! - a compact [`FrameSummary`] per analysis frame (10 ms hop), for boundaries at frame precision;
//! - a [`TextureWindow`] per texture hop: mean / spread / delta statistics of the frame features over
//!   a longer window, which is what the detectors and the models consume ([`TEXTURE_FEATURES`]).
//!
//! Frame-level spectra (mel, MFCC) never accumulate for the whole film: they live for one batch of
//! frames (see [`FeatureExtractor::push_observed`] to look at them, e.g. in tests).
//!
//! Framing follows `librosa.stft(center=True, pad_mode="constant")`: frame `t` is centred on sample
//! `t * hop` (time `t * frame_hop_s`), the signal is zero-padded by `n_fft / 2` at both ends, and a
//! stream of `n` samples gives `1 + n / hop` frames. Frames are computed in parallel (rayon) and
//! the result is bit-identical whatever the thread count and the block sizes pushed.
//!
//! Modules: [`stft`] (window + FFT), [`mel`] (filterbank, dB, DCT), [`spectral`] (centroid,
//! flatness, contrast, peakiness...), [`chroma`] (pitch-class profile), [`pitch`] (NCCF
//! periodicity and pitch), `frame` (one frame's record), [`texture`] (window statistics),
//! [`lanes`] (vectorisable sums in a fixed order). Beside them, [`image`] reads the original front
//! pair instead of the analysis signal: how much of the speech band sits in the centre.
//!
//! [`FeatureConfig::set`] can restrict the work to librosa's usual feature list
//! ([`FeatureSet::Librosa`]), for like-for-like speed comparisons.

pub mod chroma;
pub mod image;
pub mod lanes;
pub mod mel;
pub mod pitch;
pub mod spectral;
pub mod stft;
pub mod texture;

mod frame;

use std::sync::Mutex;

use rayon::prelude::*;
use serde::Serialize;

use crate::condition::ANALYSIS_RATE;
use frame::{FrameAnalyzer, FrameLayout, FrameScratch};
pub use texture::TEXTURE_FEATURES;
use texture::{TextureAccumulator, amplitude_db, power_db};

/// Analysis parameters. Defaults: 16 kHz; a 1024-point Hann window (64 ms: resolves the harmonics
/// of a low male voice, ~16 Hz bins); a 160-sample hop (10 ms: the frame grid dialogue and cue
/// boundaries are placed on); 64 mel bands from 0 to 8 kHz; 20 MFCC; 1 s texture windows every
/// 0.25 s (long enough for syllable-rate and vibrato modulation, short enough for cue edges).
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
    /// Which features to compute: all of them (what the detectors need), or librosa's list only.
    pub set: FeatureSet,
}

/// The features an extractor computes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum FeatureSet {
    /// Everything in [`FrameView`], [`FrameSummary`] and [`TEXTURE_FEATURES`] (the default, what
    /// the detectors and models read).
    #[default]
    Full,
    /// Only what the usual librosa feature script computes, for like-for-like speed comparisons:
    /// power spectrum, log-mel, MFCC, spectral centroid, flatness, roll-off, zero-crossing rate
    /// and onset strength (flux). Everything else in a frame reads 0 (levels -120 dB), and no
    /// texture windows are made.
    Librosa,
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
            set: FeatureSet::Full,
        }
    }
}

impl FeatureConfig {
    /// librosa's defaults at its 22.05 kHz rate (`n_fft` 2048, hop 512, 128 mel bands to Nyquist,
    /// 20 MFCC), for comparisons with librosa; the feature set stays the full one.
    pub fn librosa() -> Self {
        FeatureConfig {
            sample_rate: 22_050,
            n_fft: 2048,
            hop: 512,
            n_mels: 128,
            n_mfcc: 20,
            fmin: 0.0,
            fmax: 11_025.0,
            ..FeatureConfig::default()
        }
    }

    pub fn frame_hop_s(&self) -> f64 {
        self.hop as f64 / self.sample_rate as f64
    }

    /// Checks that the parameters make sense; [`FeatureExtractor::new`] clamps bad values instead.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |m: String| Err(crate::Error::Other(format!("feature config: {m}")));
        if self.sample_rate < 4000 {
            return bad(format!(
                "sample rate {} Hz is under 4 kHz",
                self.sample_rate
            ));
        }
        if self.n_fft < 64 || !self.n_fft.is_multiple_of(2) {
            return bad(format!("n_fft {} must be even and at least 64", self.n_fft));
        }
        if self.hop == 0 || self.hop > self.n_fft {
            return bad(format!("hop {} must be in 1..=n_fft", self.hop));
        }
        if self.n_mels == 0 || self.n_mfcc > self.n_mels {
            return bad(format!(
                "need 1 <= n_mfcc ({}) <= n_mels ({})",
                self.n_mfcc, self.n_mels
            ));
        }
        if !(self.fmin >= 0.0
            && self.fmin < self.fmax
            && self.fmax <= self.sample_rate as f32 / 2.0)
        {
            return bad(format!(
                "need 0 <= fmin ({}) < fmax ({}) <= Nyquist",
                self.fmin, self.fmax
            ));
        }
        if !(self.texture_len_s > 0.0 && self.texture_hop_s > 0.0) {
            return bad("texture window length and hop must be positive".into());
        }
        Ok(())
    }

    /// The nearest valid configuration (what the extractor runs with).
    fn sanitized(&self) -> FeatureConfig {
        let mut c = self.clone();
        c.sample_rate = c.sample_rate.max(4000);
        c.n_fft = (c.n_fft.max(64) + 1) & !1;
        c.hop = c.hop.clamp(1, c.n_fft);
        c.n_mels = c.n_mels.max(1);
        c.n_mfcc = c.n_mfcc.min(c.n_mels);
        let nyquist = c.sample_rate as f32 / 2.0;
        if !(c.fmax > 0.0 && c.fmax <= nyquist) {
            c.fmax = nyquist;
        }
        if !(c.fmin >= 0.0 && c.fmin < c.fmax) {
            c.fmin = 0.0;
        }
        let hop_s = c.frame_hop_s();
        if c.texture_len_s.is_nan() || c.texture_len_s < hop_s {
            c.texture_len_s = hop_s;
        }
        if c.texture_hop_s.is_nan() || c.texture_hop_s < hop_s {
            c.texture_hop_s = hop_s;
        }
        c
    }
}

/// What is kept of each analysis frame for the whole film: eight scalars, 32 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FrameSummary {
    /// RMS level of the frame's `n_fft` samples, `20 log10(rms)` (a full-scale sine reads -3 dB),
    /// floored at -120.
    pub rms_db: f32,
    /// Mean square of the 300 Hz - 3.4 kHz speech band, same scale as `rms_db` (floored at -120).
    pub speech_band_db: f32,
    /// Periodicity (voicing) confidence in [0, 1]: peak normalised autocorrelation.
    pub periodicity: f32,
    /// Fundamental frequency in Hz when periodicity >= 0.5 (60 Hz - 1 kHz searched), else 0.
    pub pitch_hz: f32,
    /// Spectral flatness in [0, 1] (librosa's; 1 for digital silence).
    pub flatness: f32,
    /// Spectral centroid, Hz (0 for silence).
    pub centroid_hz: f32,
    /// Onset strength: mean over mel bands of the positive log-mel difference to the previous
    /// frame, dB, on log-mel floored 70 dB under each frame's strongest band (level-independent).
    pub flux: f32,
    /// Harmonic peakiness in 200 Hz - 5 kHz, [0, 1]: share of the band's power in spectral peaks.
    pub peakiness: f32,
}

impl FrameSummary {
    /// The eight values in field order (the layout of the `.f32` frame dumps).
    pub fn to_array(&self) -> [f32; 8] {
        [
            self.rms_db,
            self.speech_band_db,
            self.periodicity,
            self.pitch_hz,
            self.flatness,
            self.centroid_hz,
            self.flux,
            self.peakiness,
        ]
    }
}

/// Statistics of the frame features over one texture window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextureWindow {
    /// Start of the window in seconds from the start of the stem (centre of its first frame).
    pub start_s: f64,
    /// Values in the order of [`TEXTURE_FEATURES`].
    pub values: Vec<f32>,
}

/// Everything the feature stage keeps for one stem.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeatureTrack {
    pub frame_hop_s: f64,
    pub texture_len_s: f64,
    pub texture_hop_s: f64,
    pub frames: Vec<FrameSummary>,
    pub windows: Vec<TextureWindow>,
}

impl FeatureTrack {
    /// The whole track of an analysis-rate signal already in memory (tests, training, examples),
    /// fed block by block exactly as the pipeline streams it.
    pub fn of_signal(signal: &[f32], config: FeatureConfig) -> Self {
        let mut ex = FeatureExtractor::new(config);
        let mut track = FeatureTrack::default();
        for block in signal.chunks(8000) {
            ex.push(block, &mut track);
        }
        ex.finish(&mut track);
        track
    }
}

/// All frame-level values of one frame, lent to an observer (see
/// [`FeatureExtractor::push_observed`]). Spectral values follow librosa's definitions.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// Frame index; the frame is centred at `index * frame_hop_s`.
    pub index: u64,
    /// Log-mel power spectrum, dB (`power_to_db`, amin 1e-10, ref 1, no top_db).
    pub mel_db: &'a [f32],
    pub mfcc: &'a [f32],
    /// Linear RMS of the frame's samples.
    pub rms: f32,
    pub zcr: f32,
    pub centroid_hz: f32,
    pub bandwidth_hz: f32,
    pub rolloff_hz: f32,
    pub flatness: f32,
    /// Spectral contrast per octave band, dB (7 values).
    pub contrast: &'a [f32],
    pub flux: f32,
    pub periodicity: f32,
    pub pitch_hz: f32,
    pub peakiness: f32,
    pub summary: FrameSummary,
}

/// Samples advanced per batch of frames: 64 Ki (256 KB), so that a batch's samples and frame
/// records can stay in a core's L2 cache between being pushed and being read (a fixed 1024
/// frames was 2 MB of samples at a 512 hop). Also bounds memory whatever the size of a pushed
/// block.
const BATCH_SAMPLES: usize = 1 << 16;
/// Frames per batch at least (enough to share between threads) and at most (bounds the frame
/// records kept for a batch when the hop is short).
const MIN_BATCH_FRAMES: usize = 128;
const MAX_BATCH_FRAMES: usize = 1024;
/// Frames per parallel task (one scratch checkout per task).
const CHUNK_FRAMES: usize = 16;

/// Streaming feature extractor: push analysis-rate samples, get frames and texture windows.
pub struct FeatureExtractor {
    config: FeatureConfig,
    analyzer: FrameAnalyzer,
    layout: FrameLayout,
    /// Frames computed per batch.
    batch_frames: usize,
    /// Work buffers, one per worker thread in use, reused from block to block.
    pool: Mutex<Vec<FrameScratch>>,
    /// Samples not yet fully consumed, in padded coordinates starting at `buf_pos`.
    buf: Vec<f32>,
    buf_pos: u64,
    started: bool,
    next_frame: u64,
    records: Vec<f32>,
    prev_mel: Vec<f32>,
    texture: TextureAccumulator,
}

impl FeatureExtractor {
    /// A new extractor; invalid parameters are clamped to the nearest valid ones (see
    /// [`FeatureConfig::validate`] to reject them instead).
    pub fn new(config: FeatureConfig) -> Self {
        let config = config.sanitized();
        let analyzer = FrameAnalyzer::new(&config);
        let layout = analyzer.layout();
        let hop_s = config.frame_hop_s();
        let texture = TextureAccumulator::new(
            (config.texture_len_s / hop_s).round() as usize,
            (config.texture_hop_s / hop_s).round() as usize,
            hop_s,
        );
        FeatureExtractor {
            analyzer,
            layout,
            batch_frames: (BATCH_SAMPLES / config.hop).clamp(MIN_BATCH_FRAMES, MAX_BATCH_FRAMES),
            pool: Mutex::new(Vec::new()),
            buf: Vec::new(),
            buf_pos: 0,
            started: false,
            next_frame: 0,
            records: Vec::new(),
            prev_mel: vec![0.0; config.n_mels],
            texture,
            config,
        }
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Consumes analysis-rate samples; completed frames and windows are appended to `track`.
    pub fn push(&mut self, samples: &[f32], track: &mut FeatureTrack) {
        self.push_observed(samples, track, &mut |_| {});
    }

    /// Flushes the last partial frames and windows. The extractor can then start a new stream.
    pub fn finish(&mut self, track: &mut FeatureTrack) {
        self.finish_observed(track, &mut |_| {});
    }

    /// [`push`](Self::push), also lending every completed frame's full features to `observer`.
    pub fn push_observed(
        &mut self,
        samples: &[f32],
        track: &mut FeatureTrack,
        observer: &mut dyn FnMut(&FrameView<'_>),
    ) {
        if samples.is_empty() {
            return;
        }
        if !self.started {
            self.started = true;
            self.buf.clear();
            self.buf.resize(self.config.n_fft / 2, 0.0);
        }
        let piece = self.batch_frames * self.config.hop;
        for chunk in samples.chunks(piece) {
            // Non-finite samples (a corrupt decode) would poison every statistic: read them as 0.
            self.buf
                .extend(chunk.iter().map(|&x| if x.is_finite() { x } else { 0.0 }));
            self.process_ready(false, track, observer);
        }
    }

    /// [`finish`](Self::finish), also lending the last frames to `observer`.
    pub fn finish_observed(
        &mut self,
        track: &mut FeatureTrack,
        observer: &mut dyn FnMut(&FrameView<'_>),
    ) {
        track.frame_hop_s = self.config.frame_hop_s();
        track.texture_len_s = self.config.texture_len_s;
        track.texture_hop_s = self.config.texture_hop_s;
        if !self.started {
            return;
        }
        self.buf
            .extend(std::iter::repeat_n(0.0, self.config.n_fft / 2));
        self.process_ready(true, track, observer);
        if self.config.set == FeatureSet::Full {
            self.texture.finish(&mut track.windows);
        }
        self.started = false;
        self.buf.clear();
        self.buf_pos = 0;
        self.next_frame = 0;
    }

    /// Computes the frames whose samples are all in `buf`, in batches, then drops consumed samples.
    /// Until `flush`, only whole batches are computed: a batch is what the threads share, and a
    /// few dozen frames (what a 0.5 s block brings) are too little work to split.
    fn process_ready(
        &mut self,
        flush: bool,
        track: &mut FeatureTrack,
        observer: &mut dyn FnMut(&FrameView<'_>),
    ) {
        let (n_fft, hop) = (self.config.n_fft as u64, self.config.hop as u64);
        let end = self.buf_pos + self.buf.len() as u64;
        loop {
            let first = self.next_frame;
            if first * hop + n_fft > end {
                break;
            }
            let available = (end - n_fft) / hop + 1 - first;
            if !flush && available < self.batch_frames as u64 {
                break;
            }
            let n = (available as usize).min(self.batch_frames);
            self.compute_batch(first, n);
            self.consume_batch(first, n, track, observer);
            self.next_frame += n as u64;
        }
        let keep_from = (self.next_frame * hop).saturating_sub(self.buf_pos) as usize;
        let keep_from = keep_from.min(self.buf.len());
        self.buf.drain(..keep_from);
        self.buf_pos += keep_from as u64;
    }

    /// Frame records of frames `first..first + n`, in parallel; identical to a sequential run
    /// because every frame is a pure function of its own samples.
    fn compute_batch(&mut self, first: u64, n: usize) {
        let stride = self.layout.stride();
        let (n_fft, hop) = (self.config.n_fft, self.config.hop);
        self.records.resize(n * stride, 0.0);
        let base = (first * hop as u64 - self.buf_pos) as usize;
        let (analyzer, pool, buf) = (&self.analyzer, &self.pool, &self.buf[..]);
        let work = |(ci, chunk): (usize, &mut [f32])| {
            let popped = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut scratch = popped.unwrap_or_else(|| analyzer.scratch());
            for (j, out) in chunk.chunks_exact_mut(stride).enumerate() {
                let off = base + (ci * CHUNK_FRAMES + j) * hop;
                analyzer.analyze(&buf[off..off + n_fft], &mut scratch, out);
            }
            pool.lock().unwrap_or_else(|e| e.into_inner()).push(scratch);
        };
        let chunk_len = CHUNK_FRAMES * stride;
        if n > CHUNK_FRAMES {
            self.records
                .par_chunks_mut(chunk_len)
                .enumerate()
                .for_each(work);
        } else {
            self.records
                .chunks_mut(chunk_len)
                .enumerate()
                .for_each(work);
        }
    }

    /// Sequential part, in frame order: flux (needs the previous frame), summaries, textures.
    fn consume_batch(
        &mut self,
        first: u64,
        n: usize,
        track: &mut FeatureTrack,
        observer: &mut dyn FnMut(&FrameView<'_>),
    ) {
        let layout = self.layout;
        let stride = layout.stride();
        for i in 0..n {
            let index = first + i as u64;
            let rec = &self.records[i * stride..(i + 1) * stride];
            let mel = &rec[layout.mel_rel()];
            let flux = if index == 0 {
                0.0
            } else {
                onset_sum(mel, &self.prev_mel) / mel.len().max(1) as f32
            };
            self.prev_mel.copy_from_slice(mel);
            let summary = FrameSummary {
                rms_db: amplitude_db(rec[frame::RMS]),
                speech_band_db: power_db(rec[frame::SPEECH_MS]),
                periodicity: rec[frame::PERIODICITY],
                pitch_hz: rec[frame::PITCH],
                flatness: rec[frame::FLATNESS],
                centroid_hz: rec[frame::CENTROID],
                flux,
                peakiness: rec[frame::PEAKINESS],
            };
            track.frames.push(summary);
            observer(&FrameView {
                index,
                mel_db: &rec[layout.mel()],
                mfcc: &rec[layout.mfcc()],
                rms: rec[frame::RMS],
                zcr: rec[frame::ZCR],
                centroid_hz: rec[frame::CENTROID],
                bandwidth_hz: rec[frame::BANDWIDTH],
                rolloff_hz: rec[frame::ROLLOFF],
                flatness: rec[frame::FLATNESS],
                contrast: &rec[layout.contrast()],
                flux,
                periodicity: rec[frame::PERIODICITY],
                pitch_hz: rec[frame::PITCH],
                peakiness: rec[frame::PEAKINESS],
                summary,
            });
            if self.config.set == FeatureSet::Full {
                self.texture.push(rec, layout, flux, &mut track.windows);
            }
        }
    }
}

/// Sum over bands of the rise from `prev` to `mel`, each rise capped at [`frame::REL_RANGE_DB`]
/// (after digital silence, floored far down, an onset counts the same at any level); in lanes.
fn onset_sum(mel: &[f32], prev: &[f32]) -> f32 {
    let rise = |a: f32, b: f32| lanes::min(lanes::max(a - b, 0.0), frame::REL_RANGE_DB);
    let n = mel.len().min(prev.len());
    let (a8, a_rest) = mel[..n].as_chunks::<{ lanes::LANES }>();
    let (b8, b_rest) = prev[..n].as_chunks::<{ lanes::LANES }>();
    let mut acc = [0.0f32; lanes::LANES];
    for (a, b) in a8.iter().zip(b8) {
        for j in 0..lanes::LANES {
            acc[j] += rise(a[j], b[j]);
        }
    }
    let rest: f32 = a_rest.iter().zip(b_rest).map(|(&a, &b)| rise(a, b)).sum();
    lanes::fold(acc) + rest
}
