//! Texture windows: statistics of the frame features over fixed windows (1 s every 0.25 s by default),
//! which is what the detectors and the models read.
//!
//! Every value is independent of the absolute level (a cue at -38 LUFS reads like one at -20):
//! MFCC 0 and band levels appear only as spreads or relative to the window's own level; log-mel,
//! MFCC, flatness and contrast are taken from variants floored 70 dB under each frame's maximum
//! (rather than at librosa's absolute -100 dB, which a quiet cue reaches sooner); and the
//! statistics skip silent frames (digital silence, or more than 50 dB under the window's loudest
//! frame) where a mean over them would mix in the noise floor.

use super::chroma::N_CHROMA;
use super::frame::{self, FrameLayout};
use crate::quantile;

/// Names of the texture-window features, in order.
pub const TEXTURE_FEATURES: &[&str] = &[
    "mfcc_mean_1",
    "mfcc_mean_2",
    "mfcc_mean_3",
    "mfcc_mean_4",
    "mfcc_mean_5",
    "mfcc_mean_6",
    "mfcc_mean_7",
    "mfcc_mean_8",
    "mfcc_mean_9",
    "mfcc_mean_10",
    "mfcc_mean_11",
    "mfcc_mean_12",
    "mfcc_mean_13",
    "mfcc_mean_14",
    "mfcc_mean_15",
    "mfcc_mean_16",
    "mfcc_mean_17",
    "mfcc_mean_18",
    "mfcc_mean_19",
    "mfcc_std_0",
    "mfcc_std_1",
    "mfcc_std_2",
    "mfcc_std_3",
    "mfcc_std_4",
    "mfcc_std_5",
    "mfcc_std_6",
    "mfcc_std_7",
    "mfcc_std_8",
    "mfcc_std_9",
    "mfcc_std_10",
    "mfcc_std_11",
    "mfcc_std_12",
    "mfcc_std_13",
    "mfcc_std_14",
    "mfcc_std_15",
    "mfcc_std_16",
    "mfcc_std_17",
    "mfcc_std_18",
    "mfcc_std_19",
    "dmfcc_std_0",
    "dmfcc_std_1",
    "dmfcc_std_2",
    "dmfcc_std_3",
    "dmfcc_std_4",
    "dmfcc_std_5",
    "dmfcc_std_6",
    "dmfcc_std_7",
    "dmfcc_std_8",
    "dmfcc_std_9",
    "dmfcc_std_10",
    "dmfcc_std_11",
    "dmfcc_std_12",
    "dmfcc_std_13",
    "dmfcc_std_14",
    "dmfcc_std_15",
    "dmfcc_std_16",
    "dmfcc_std_17",
    "dmfcc_std_18",
    "dmfcc_std_19",
    "melgrp_rel_mean_0",
    "melgrp_rel_mean_1",
    "melgrp_rel_mean_2",
    "melgrp_rel_mean_3",
    "melgrp_rel_mean_4",
    "melgrp_rel_mean_5",
    "melgrp_rel_mean_6",
    "melgrp_rel_mean_7",
    "melgrp_std_0",
    "melgrp_std_1",
    "melgrp_std_2",
    "melgrp_std_3",
    "melgrp_std_4",
    "melgrp_std_5",
    "melgrp_std_6",
    "melgrp_std_7",
    "centroid_mean_khz",
    "centroid_std_khz",
    "bandwidth_mean_khz",
    "rolloff_mean_khz",
    "rolloff_std_khz",
    "flatness_mean",
    "flatness_std",
    "contrast_mean_0",
    "contrast_mean_1",
    "contrast_mean_2",
    "contrast_mean_3",
    "contrast_mean_4",
    "contrast_mean_5",
    "contrast_mean_6",
    "flux_mean",
    "flux_std",
    "flux_peak_rate",
    "zcr_mean",
    "zcr_std",
    "rms_std_db",
    "level_range_db",
    "low_energy_ratio",
    "silent_fraction",
    "speech_band_rel_db",
    "periodicity_mean",
    "voiced_fraction",
    "pitch_mean_st",
    "pitch_std_st",
    "pitch_delta_abs_st",
    "voiced_run_s",
    "vibrato_extent_st",
    "vibrato_ratio",
    "peakiness_mean",
    "peakiness_std",
    "mod4hz_index",
    "chroma_0",
    "chroma_1",
    "chroma_2",
    "chroma_3",
    "chroma_4",
    "chroma_5",
    "chroma_6",
    "chroma_7",
    "chroma_8",
    "chroma_9",
    "chroma_10",
    "chroma_11",
];

/// Columns of the pitch-class profile (`chroma_0`..`chroma_11`) in [`TEXTURE_FEATURES`]. Detectors
/// that compare every texture column as spectral shape (music novelty, scenes) leave them out: a
/// pitch-class profile is compared as a whole (see `detect::music::novelty`).
pub fn chroma_columns() -> std::ops::Range<usize> {
    let first = TEXTURE_FEATURES
        .iter()
        .position(|&n| n == "chroma_0")
        .unwrap_or(TEXTURE_FEATURES.len());
    first..(first + N_CHROMA).min(TEXTURE_FEATURES.len())
}

/// Columns of [`TEXTURE_FEATURES`] that the content-change detectors (music novelty, scenes) compare
/// one by one as spectral shape: every feature before the pitch-class profile. Later columns are left
/// out on purpose: the profile is compared as a whole, and a feature appended for a model must not
/// move cue splits or scene cuts unless it is added here deliberately.
pub fn shape_columns() -> std::ops::Range<usize> {
    0..chroma_columns().start
}

/// MFCC coefficients summarised (the first 20; missing ones read 0).
const N_MFCC: usize = 20;
/// Log-mel band groups (equal numbers of mel bands, low to high).
const N_GROUPS: usize = 8;
/// A frame is silent under this RMS level (dBFS) or this far under the window's loudest frame.
const SILENCE_FLOOR_DB: f32 = -100.0;
const SILENCE_RANGE_DB: f32 = 50.0;
/// Pitch jumps over this many semitones end a voiced run (octave errors, a new note onset).
const RUN_BREAK_ST: f32 = 1.5;
/// Shortest voiced run whose pitch is searched for vibrato, seconds (one 5 Hz cycle).
const VIBRATO_MIN_RUN_S: f64 = 0.2;
const VIBRATO_HZ: [f64; 5] = [4.0, 5.0, 6.0, 7.0, 8.0];
/// Syllable-rate modulation frequencies (speech's ~4 Hz).
const SYLLABLE_HZ: [f64; 4] = [3.0, 4.0, 5.0, 6.0];
/// Pitch reference for semitones: A1, 55 Hz.
const PITCH_REF_HZ: f32 = 55.0;

// Columns of a texture row: the per-frame values windows are computed from.
const R_MFCC: usize = 0;
const R_GRP: usize = R_MFCC + N_MFCC;
const R_MELMEAN: usize = R_GRP + N_GROUPS;
const R_RMS_DB: usize = R_MELMEAN + 1;
const R_CENTROID: usize = R_RMS_DB + 1;
const R_BANDWIDTH: usize = R_CENTROID + 1;
const R_ROLLOFF: usize = R_BANDWIDTH + 1;
const R_FLATNESS: usize = R_ROLLOFF + 1;
const R_CONTRAST: usize = R_FLATNESS + 1;
const R_FLUX: usize = R_CONTRAST + super::spectral::CONTRAST_BANDS;
const R_ZCR: usize = R_FLUX + 1;
const R_PERIODICITY: usize = R_ZCR + 1;
const R_PITCH_ST: usize = R_PERIODICITY + 1;
const R_VOICED: usize = R_PITCH_ST + 1;
const R_PEAKINESS: usize = R_VOICED + 1;
const R_SPEECH_DB: usize = R_PEAKINESS + 1;
const R_ENV: usize = R_SPEECH_DB + 1;
const R_CHROMA: usize = R_ENV + 1;
const ROW: usize = R_CHROMA + N_CHROMA;

/// Builds texture rows from frame records and emits a window each time one is complete.
pub struct TextureAccumulator {
    len: usize,
    hop: usize,
    frame_hop_s: f64,
    ring: Vec<f32>,
    n_frames: u64,
    next_window: u64,
    /// cos / sin tables, one row per frequency of VIBRATO_HZ then SYLLABLE_HZ, `len` long.
    cos: Vec<f64>,
    sin: Vec<f64>,
    sorted: Vec<f32>,
    run: Vec<f32>,
}

/// Mean and standard deviation accumulator (f64).
#[derive(Default, Clone, Copy)]
struct Moments {
    n: f64,
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    fn add(&mut self, x: f32) {
        let x = x as f64;
        self.n += 1.0;
        self.sum += x;
        self.sum_sq += x * x;
    }
    fn mean(&self) -> f32 {
        if self.n > 0.0 {
            (self.sum / self.n) as f32
        } else {
            0.0
        }
    }
    fn std(&self) -> f32 {
        if self.n > 1.0 {
            let m = self.sum / self.n;
            (self.sum_sq / self.n - m * m).max(0.0).sqrt() as f32
        } else {
            0.0
        }
    }
}

impl TextureAccumulator {
    pub fn new(len_frames: usize, hop_frames: usize, frame_hop_s: f64) -> Self {
        let len = len_frames.max(1);
        let freqs: Vec<f64> = VIBRATO_HZ.iter().chain(&SYLLABLE_HZ).copied().collect();
        let mut cos = Vec::with_capacity(freqs.len() * len);
        let mut sin = Vec::with_capacity(freqs.len() * len);
        for f in &freqs {
            for i in 0..len {
                let ph = 2.0 * std::f64::consts::PI * f * i as f64 * frame_hop_s;
                cos.push(ph.cos());
                sin.push(ph.sin());
            }
        }
        TextureAccumulator {
            len,
            hop: hop_frames.max(1),
            frame_hop_s,
            ring: vec![0.0; len * ROW],
            n_frames: 0,
            next_window: 0,
            cos,
            sin,
            sorted: Vec::with_capacity(len),
            run: Vec::with_capacity(len),
        }
    }

    /// Adds the next frame (its record and flux); returns a window when one completes.
    pub fn push(
        &mut self,
        record: &[f32],
        layout: FrameLayout,
        flux: f32,
        out: &mut Vec<super::TextureWindow>,
    ) {
        let slot = (self.n_frames % self.len as u64) as usize;
        fill_row(
            &mut self.ring[slot * ROW..(slot + 1) * ROW],
            record,
            layout,
            flux,
        );
        self.n_frames += 1;
        let start = self.next_window * self.hop as u64;
        if self.n_frames >= start + self.len as u64 {
            out.push(self.window(start, start + self.len as u64));
            self.next_window += 1;
        }
    }

    /// Emits the last, partial window so that every frame is in some window.
    pub fn finish(&mut self, out: &mut Vec<super::TextureWindow>) {
        let start = self.next_window * self.hop as u64;
        let covered = self.next_window > 0
            && (self.next_window - 1) * self.hop as u64 + self.len as u64 >= self.n_frames;
        if start < self.n_frames && !covered {
            out.push(self.window(start, self.n_frames));
        }
        self.n_frames = 0;
        self.next_window = 0;
    }

    fn row(&self, t: u64) -> &[f32] {
        let slot = (t % self.len as u64) as usize;
        &self.ring[slot * ROW..(slot + 1) * ROW]
    }

    fn window(&mut self, start: u64, end: u64) -> super::TextureWindow {
        let mut v = Vec::with_capacity(TEXTURE_FEATURES.len());
        let n = (end - start) as usize;
        let max_db = (start..end)
            .map(|t| self.row(t)[R_RMS_DB])
            .fold(f32::NEG_INFINITY, f32::max);
        let gate = SILENCE_FLOOR_DB.max(max_db - SILENCE_RANGE_DB);
        let active = |r: &[f32]| r[R_RMS_DB] >= gate && r[R_RMS_DB] > SILENCE_FLOOR_DB;

        let mut cols = [Moments::default(); ROW];
        let mut deltas = [Moments::default(); N_MFCC];
        let mut rel_speech = Moments::default();
        let mut pitch = Moments::default();
        let mut n_active = 0usize;
        let mut n_voiced = 0usize;
        let mut sorted = std::mem::take(&mut self.sorted);
        sorted.clear();
        for t in start..end {
            let r = self.row(t);
            if !active(r) {
                continue;
            }
            n_active += 1;
            for (c, &x) in cols.iter_mut().zip(r) {
                c.add(x);
            }
            sorted.push(r[R_RMS_DB]);
            rel_speech.add(r[R_SPEECH_DB] - r[R_RMS_DB]);
            if r[R_VOICED] > 0.5 {
                n_voiced += 1;
                pitch.add(r[R_PITCH_ST]);
            }
            if t > start {
                let p = self.row(t - 1);
                if active(p) {
                    for (k, d) in deltas.iter_mut().enumerate() {
                        d.add(r[R_MFCC + k] - p[R_MFCC + k]);
                    }
                }
            }
        }

        v.extend((1..N_MFCC).map(|k| cols[R_MFCC + k].mean()));
        v.extend((0..N_MFCC).map(|k| cols[R_MFCC + k].std()));
        v.extend(deltas.iter().map(Moments::std));
        let level = cols[R_MELMEAN].mean();
        v.extend((0..N_GROUPS).map(|g| {
            if n_active > 0 {
                cols[R_GRP + g].mean() - level
            } else {
                0.0
            }
        }));
        v.extend((0..N_GROUPS).map(|g| cols[R_GRP + g].std()));
        v.extend([
            cols[R_CENTROID].mean(),
            cols[R_CENTROID].std(),
            cols[R_BANDWIDTH].mean(),
            cols[R_ROLLOFF].mean(),
            cols[R_ROLLOFF].std(),
            cols[R_FLATNESS].mean(),
            cols[R_FLATNESS].std(),
        ]);
        v.extend((0..super::spectral::CONTRAST_BANDS).map(|b| cols[R_CONTRAST + b].mean()));

        // Flux peaks (onsets) per second, over every frame of the window.
        let mut all_flux = Moments::default();
        for t in start..end {
            all_flux.add(self.row(t)[R_FLUX]);
        }
        let peak_level = all_flux.mean() + all_flux.std();
        let mut peaks = 0usize;
        for t in start + 1..end.saturating_sub(1) {
            let (a, b, c) = (
                self.row(t - 1)[R_FLUX],
                self.row(t)[R_FLUX],
                self.row(t + 1)[R_FLUX],
            );
            if b > a && b >= c && b > peak_level && b > 0.0 {
                peaks += 1;
            }
        }
        let duration_s = (n as f64 * self.frame_hop_s) as f32;
        v.extend([
            cols[R_FLUX].mean(),
            cols[R_FLUX].std(),
            peaks as f32 / duration_s.max(f32::MIN_POSITIVE),
            cols[R_ZCR].mean(),
            cols[R_ZCR].std(),
        ]);

        // Level dynamics: spread, 10-90 % range, low-energy frames, silence.
        let level_range = quantile::select(&mut sorted, 0.9)
            .zip(quantile::select(&mut sorted, 0.1))
            .map_or(0.0, |(hi, lo)| hi - lo);
        self.sorted = sorted;
        let powers = (start..end).map(|t| 10f32.powf(self.row(t)[R_RMS_DB] / 10.0));
        let mean_power = powers.clone().sum::<f32>() / n as f32;
        let low_energy = if mean_power > 0.0 && n_active > 0 {
            powers.filter(|&p| p < 0.5 * mean_power).count() as f32 / n as f32
        } else {
            0.0
        };
        v.extend([
            cols[R_RMS_DB].std(),
            level_range,
            low_energy,
            1.0 - n_active as f32 / n as f32,
            rel_speech.mean(),
        ]);

        // Voice: periodicity, pitch statistics, voiced runs, vibrato.
        let (delta_abs, run_s, vib_extent, vib_ratio) = self.pitch_runs(start, end, &active);
        v.extend([
            cols[R_PERIODICITY].mean(),
            if n_active > 0 {
                n_voiced as f32 / n_active as f32
            } else {
                0.0
            },
            pitch.mean(),
            pitch.std(),
            delta_abs,
            run_s,
            vib_extent,
            vib_ratio,
            cols[R_PEAKINESS].mean(),
            cols[R_PEAKINESS].std(),
            self.syllable_modulation(start, end),
        ]);

        // Pitch-class profile: mean of the active frames' profiles, renormalised to sum 1 (frames
        // with nothing in the folded band count as 0).
        let chroma = &cols[R_CHROMA..R_CHROMA + N_CHROMA];
        let total: f32 = chroma.iter().map(Moments::mean).sum();
        let scale = if total > 0.0 { 1.0 / total } else { 0.0 };
        v.extend(chroma.iter().map(|c| c.mean() * scale));
        debug_assert_eq!(v.len(), TEXTURE_FEATURES.len());
        super::TextureWindow {
            start_s: start as f64 * self.frame_hop_s,
            values: v,
        }
    }

    /// Mean |pitch step| within voiced runs (semitones per frame), mean run length (s), and the
    /// length-weighted vibrato extent (semitones, amplitude of the strongest 4-8 Hz component of the
    /// detrended pitch) and the share of the pitch variance it explains.
    fn pitch_runs(
        &mut self,
        start: u64,
        end: u64,
        active: &impl Fn(&[f32]) -> bool,
    ) -> (f32, f32, f32, f32) {
        let mut steps = Moments::default();
        let mut runs = Moments::default();
        let (mut ext_sum, mut ratio_sum, mut weight) = (0.0f64, 0.0f64, 0.0f64);
        let min_run = (VIBRATO_MIN_RUN_S / self.frame_hop_s).ceil() as usize;
        let mut run = std::mem::take(&mut self.run);
        run.clear();
        for t in start..=end {
            let r = (t < end).then(|| self.row(t));
            let voiced = r.is_some_and(|r| active(r) && r[R_VOICED] > 0.5);
            let st = r.map_or(0.0, |r| r[R_PITCH_ST]);
            let continues = voiced && run.last().is_none_or(|&p| (st - p).abs() < RUN_BREAK_ST);
            if continues {
                if let Some(&p) = run.last() {
                    steps.add((st - p).abs());
                }
                run.push(st);
                continue;
            }
            if !run.is_empty() {
                runs.add(run.len() as f32 * self.frame_hop_s as f32);
                if run.len() >= min_run {
                    let (ext, ratio) = self.vibrato(&run);
                    let w = run.len() as f64;
                    ext_sum += ext * w;
                    ratio_sum += ratio * w;
                    weight += w;
                }
                run.clear();
            }
            if voiced {
                run.push(st);
            }
        }
        self.run = run;
        let (ext, ratio) = if weight > 0.0 {
            ((ext_sum / weight) as f32, (ratio_sum / weight) as f32)
        } else {
            (0.0, 0.0)
        };
        (steps.mean(), runs.mean(), ext, ratio)
    }

    /// Vibrato of one voiced run (semitones): amplitude of the strongest 4-8 Hz component after
    /// removing the run's linear trend, and the share of the residual variance it explains.
    fn vibrato(&self, run: &[f32]) -> (f64, f64) {
        let l = run.len().min(self.len);
        let n = l as f64;
        let xm = (n - 1.0) / 2.0;
        let ym = run[..l].iter().map(|&y| y as f64).sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, &y) in run[..l].iter().enumerate() {
            let dx = i as f64 - xm;
            sxy += dx * (y as f64 - ym);
            sxx += dx * dx;
        }
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let resid = |i: usize| run[i] as f64 - ym - slope * (i as f64 - xm);
        let var = (0..l).map(|i| resid(i) * resid(i)).sum::<f64>() / n;
        if var <= 1e-12 {
            return (0.0, 0.0);
        }
        let mut best = 0.0f64;
        for f in 0..VIBRATO_HZ.len() {
            let (c, s) = (&self.cos[f * self.len..], &self.sin[f * self.len..]);
            let (mut re, mut im) = (0.0, 0.0);
            for i in 0..l {
                re += resid(i) * c[i];
                im -= resid(i) * s[i];
            }
            best = best.max(2.0 * (re * re + im * im).sqrt() / n);
        }
        // A sinusoid of amplitude A has variance A^2 / 2.
        (best, (best * best / 2.0 / var).min(1.0))
    }

    /// Modulation index of the speech-band amplitude envelope at syllable rate (3-6 Hz): RMS
    /// amplitude of those components over the envelope's mean.
    fn syllable_modulation(&self, start: u64, end: u64) -> f32 {
        let n = (end - start) as usize;
        let mean = (start..end).map(|t| self.row(t)[R_ENV] as f64).sum::<f64>() / n as f64;
        // Envelope under -100 dBFS: nothing to modulate.
        if mean <= 1e-5 {
            return 0.0;
        }
        let mut power = 0.0;
        for f in 0..SYLLABLE_HZ.len() {
            let row = (VIBRATO_HZ.len() + f) * self.len;
            let (c, s) = (&self.cos[row..row + n], &self.sin[row..row + n]);
            let (mut re, mut im) = (0.0, 0.0);
            for (i, t) in (start..end).enumerate() {
                let e = self.row(t)[R_ENV] as f64 - mean;
                re += e * c[i];
                im -= e * s[i];
            }
            let amp = 2.0 * (re * re + im * im).sqrt() / n as f64;
            power += amp * amp;
        }
        ((power / SYLLABLE_HZ.len() as f64).sqrt() / mean) as f32
    }
}

fn fill_row(row: &mut [f32], rec: &[f32], layout: FrameLayout, flux: f32) {
    let mfcc = &rec[layout.mfcc_rel()];
    for k in 0..N_MFCC {
        row[R_MFCC + k] = mfcc.get(k).copied().unwrap_or(0.0);
    }
    let mel = &rec[layout.mel_rel()];
    let n_mels = mel.len();
    for g in 0..N_GROUPS {
        let (a, b) = (g * n_mels / N_GROUPS, (g + 1) * n_mels / N_GROUPS);
        row[R_GRP + g] = if b > a {
            mel[a..b].iter().sum::<f32>() / (b - a) as f32
        } else {
            0.0
        };
    }
    row[R_MELMEAN] = mel.iter().sum::<f32>() / n_mels.max(1) as f32;
    row[R_RMS_DB] = amplitude_db(rec[frame::RMS]);
    row[R_CENTROID] = rec[frame::CENTROID] / 1000.0;
    row[R_BANDWIDTH] = rec[frame::BANDWIDTH] / 1000.0;
    row[R_ROLLOFF] = rec[frame::ROLLOFF] / 1000.0;
    row[R_FLATNESS] = rec[frame::FLATNESS_REL];
    row[R_CONTRAST..R_CONTRAST + super::spectral::CONTRAST_BANDS]
        .copy_from_slice(&rec[layout.contrast_rel()]);
    row[R_FLUX] = flux;
    row[R_ZCR] = rec[frame::ZCR];
    row[R_PERIODICITY] = rec[frame::PERIODICITY];
    let pitch = rec[frame::PITCH];
    row[R_VOICED] = if pitch > 0.0 { 1.0 } else { 0.0 };
    row[R_PITCH_ST] = if pitch > 0.0 {
        12.0 * (pitch / PITCH_REF_HZ).log2()
    } else {
        0.0
    };
    row[R_PEAKINESS] = rec[frame::PEAKINESS];
    row[R_SPEECH_DB] = power_db(rec[frame::SPEECH_MS]);
    row[R_ENV] = rec[frame::SPEECH_MS].max(0.0).sqrt();
    row[R_CHROMA..R_CHROMA + N_CHROMA]
        .copy_from_slice(&rec[frame::CHROMA..frame::CHROMA + N_CHROMA]);
}

/// Floor of every level in dB.
pub const FLOOR_DB: f32 = -120.0;

/// `20 log10(amplitude)`, floored at [`FLOOR_DB`].
pub fn amplitude_db(a: f32) -> f32 {
    (20.0 * a.log10()).max(FLOOR_DB)
}

/// `10 log10(power)`, floored at [`FLOOR_DB`].
pub fn power_db(p: f32) -> f32 {
    (10.0 * p.log10()).max(FLOOR_DB)
}
