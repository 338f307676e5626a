//! Periodicity and pitch of one frame by the normalised cross-correlation function (NCCF), computed
//! through the FFT: the autocorrelation of a zero-padded 40 ms segment, normalised per lag by the
//! energies of the two overlapping parts, so it lies in [-1, 1] and does not depend on level.
//!
//! The chosen lag is the first local maximum reaching 90 % of the best one in 60 Hz - 1 kHz (which
//! avoids picking a multiple of the period), refined by parabolic interpolation.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Lowest and highest fundamental searched, Hz (low male speech to soprano).
pub const PITCH_FMIN: f64 = 60.0;
pub const PITCH_FMAX: f64 = 1000.0;
/// Length of the correlated segment, seconds.
const SEGMENT_S: f64 = 0.040;
/// Periodicity from which a frame counts as voiced (its pitch is reported).
pub const VOICED_THRESHOLD: f32 = 0.5;
/// Mean square under which a segment is treated as silent (-140 dBFS).
const SILENT_MS: f64 = 1e-14;

pub struct PitchTracker {
    sample_rate: f64,
    segment: usize,
    min_lag: usize,
    max_lag: usize,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
}

pub struct PitchScratch {
    time: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    fft: Vec<Complex<f32>>,
    energy: Vec<f64>,
    nccf: Vec<f32>,
}

impl PitchTracker {
    /// `frame_len` bounds the segment (it is taken from the middle of each STFT frame).
    pub fn new(sample_rate: u32, frame_len: usize, planner: &mut RealFftPlanner<f32>) -> Self {
        let sr = sample_rate as f64;
        let segment = ((SEGMENT_S * sr).round() as usize).clamp(8, frame_len.max(8));
        let min_lag = ((sr / PITCH_FMAX).floor() as usize).max(2);
        let max_lag = ((sr / PITCH_FMIN).ceil() as usize)
            .min(segment / 2)
            .max(min_lag + 2);
        let n = (segment + max_lag + 2).next_power_of_two();
        PitchTracker {
            sample_rate: sr,
            segment,
            min_lag,
            max_lag,
            fwd: planner.plan_fft_forward(n),
            inv: planner.plan_fft_inverse(n),
        }
    }

    pub fn segment_len(&self) -> usize {
        self.segment
    }

    pub fn scratch(&self) -> PitchScratch {
        PitchScratch {
            time: self.fwd.make_input_vec(),
            spectrum: self.fwd.make_output_vec(),
            fft: self.fwd.make_scratch_vec(),
            energy: vec![0.0; self.segment + 1],
            nccf: vec![0.0; self.max_lag + 2],
        }
    }

    /// Periodicity in [0, 1] and pitch in Hz (0 when the periodicity is under
    /// [`VOICED_THRESHOLD`]) of `frame`, whose middle `segment_len()` samples are used.
    #[inline(always)]
    pub fn analyze(&self, frame: &[f32], s: &mut PitchScratch) -> (f32, f32) {
        let p = self.segment;
        if frame.len() < p {
            return (0.0, 0.0);
        }
        let start = (frame.len() - p) / 2;
        let seg = &frame[start..start + p];
        let mean = sum_f64(seg) / p as f64;
        // Zero-mean segment, its squares, and their running sum: energy[i] = sum of the first i.
        for ((t, e), &x) in s.time.iter_mut().zip(&mut s.energy[1..]).zip(seg) {
            let v = x as f64 - mean;
            *t = v as f32;
            *e = v * v;
        }
        s.energy[0] = 0.0;
        prefix_sum(&mut s.energy[..=p]);
        let total = s.energy[p];
        if total / (p as f64) < SILENT_MS {
            return (0.0, 0.0);
        }
        s.time[p..].fill(0.0);
        let n = s.time.len();
        if self
            .fwd
            .process_with_scratch(&mut s.time, &mut s.spectrum, &mut s.fft)
            .is_err()
        {
            return (0.0, 0.0);
        }
        for c in s.spectrum.iter_mut() {
            *c = Complex::new(c.re * c.re + c.im * c.im, 0.0);
        }
        if self
            .inv
            .process_with_scratch(&mut s.spectrum, &mut s.time, &mut s.fft)
            .is_err()
        {
            return (0.0, 0.0);
        }
        // s.time[lag] is now n * sum_i x[i] x[i + lag] (linear: the padding prevents wrap-around).
        // The energies need f64 (their differences cancel); the ratio itself is taken in f32, a
        // branch-free loop the compiler vectorises. `1 / n` is a power of two: exact in f32.
        let scale = 1.0 / n as f32;
        let min_denom_sq = total * total * 1e-18;
        let (lo, hi) = (self.min_lag - 1, self.max_lag + 1);
        // Energies of the two overlapping parts: the first p - lag samples, the last p - lag.
        let heads = s.energy[p - hi..=p - lo].iter().rev();
        let tails = s.energy[lo..=hi].iter();
        for (((r, &c), &e1), &e) in s.nccf[lo..=hi]
            .iter_mut()
            .zip(&s.time[lo..=hi])
            .zip(heads)
            .zip(tails)
        {
            let d = e1 * (total - e);
            let ratio = (c * scale / (d as f32).sqrt()).clamp(-1.0, 1.0);
            *r = if d > min_denom_sq { ratio } else { 0.0 };
        }
        let best = s.nccf[self.min_lag..=self.max_lag]
            .iter()
            .fold(f32::NEG_INFINITY, |m, &r| m.max(r));
        if best <= 0.0 {
            return (0.0, 0.0);
        }
        let nccf = &s.nccf;
        let chosen = (self.min_lag..=self.max_lag)
            .find(|&l| nccf[l] >= 0.9 * best && nccf[l] >= nccf[l - 1] && nccf[l] >= nccf[l + 1])
            .unwrap_or(self.min_lag);
        let (a, b, c) = (nccf[chosen - 1], nccf[chosen], nccf[chosen + 1]);
        let curve = a - 2.0 * b + c;
        let delta = if curve < 0.0 {
            (0.5 * (a - c) / curve).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let periodicity = b.clamp(0.0, 1.0);
        let pitch = if periodicity >= VOICED_THRESHOLD {
            (self.sample_rate / (chosen as f64 + delta as f64)) as f32
        } else {
            0.0
        };
        (periodicity, pitch)
    }
}

/// Sum of `v` in f64, four lanes (see [`super::lanes`]).
#[inline(always)]
fn sum_f64(v: &[f32]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut chunks = v.chunks_exact(4);
    for c in &mut chunks {
        for j in 0..4 {
            acc[j] += c[j] as f64;
        }
    }
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        *a += x as f64;
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3])
}

/// In-place running sum. Four contiguous blocks are summed as independent chains (a single chain
/// of dependent additions is latency-bound), then each block is offset by the total before it.
#[inline(always)]
fn prefix_sum(v: &mut [f64]) {
    let len = v.len() / 4;
    if len < 2 {
        let mut acc = 0.0;
        for x in v.iter_mut() {
            acc += *x;
            *x = acc;
        }
        return;
    }
    let (head, tail) = v.split_at_mut(4 * len);
    let (b0, rest) = head.split_at_mut(len);
    let (b1, rest) = rest.split_at_mut(len);
    let (b2, b3) = rest.split_at_mut(len);
    let mut acc = [0.0f64; 4];
    for (((x0, x1), x2), x3) in b0
        .iter_mut()
        .zip(b1.iter_mut())
        .zip(b2.iter_mut())
        .zip(b3.iter_mut())
    {
        acc[0] += *x0;
        *x0 = acc[0];
        acc[1] += *x1;
        *x1 = acc[1];
        acc[2] += *x2;
        *x2 = acc[2];
        acc[3] += *x3;
        *x3 = acc[3];
    }
    // The tail continues the last block's chain.
    for x in tail.iter_mut() {
        acc[3] += *x;
        *x = acc[3];
    }
    let mut offset = acc[0];
    for block in [b1, b2] {
        block.iter_mut().for_each(|x| *x += offset);
        offset = block[len - 1];
    }
    b3.iter_mut()
        .chain(tail.iter_mut())
        .for_each(|x| *x += offset);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> (PitchTracker, PitchScratch) {
        let mut planner = RealFftPlanner::new();
        let t = PitchTracker::new(16_000, 1024, &mut planner);
        let s = t.scratch();
        (t, s)
    }

    #[test]
    fn harmonic_tone_gives_its_fundamental_with_high_periodicity() {
        let (t, mut s) = tracker();
        for f0 in [82.0f64, 150.0, 220.0, 440.0, 880.0] {
            let frame: Vec<f32> = (0..1024)
                .map(|i| {
                    let ph = 2.0 * std::f64::consts::PI * f0 * i as f64 / 16_000.0;
                    (0.3 * ph.sin() + 0.2 * (2.0 * ph).sin() + 0.1 * (3.0 * ph).sin()) as f32
                })
                .collect();
            let (per, pitch) = t.analyze(&frame, &mut s);
            assert!(per > 0.95, "f0 {f0}: periodicity {per}");
            assert!(
                (pitch as f64 / f0 - 1.0).abs() < 0.01,
                "f0 {f0}: pitch {pitch}"
            );
        }
    }

    #[test]
    fn noise_and_silence_are_not_voiced() {
        let (t, mut s) = tracker();
        let mut x = 12345u32;
        let noise: Vec<f32> = (0..1024)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let (per, pitch) = t.analyze(&noise, &mut s);
        assert!(
            per < VOICED_THRESHOLD && pitch == 0.0,
            "noise: {per} {pitch}"
        );
        assert_eq!(t.analyze(&[0.0; 1024], &mut s), (0.0, 0.0));
    }

    #[test]
    fn blocked_prefix_sum_is_the_running_sum() {
        for n in [0usize, 1, 2, 7, 8, 9, 641] {
            let v: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64).collect();
            let mut blocked = v.clone();
            prefix_sum(&mut blocked);
            let mut acc = 0.0;
            let running: Vec<f64> = v
                .iter()
                .map(|x| {
                    acc += x;
                    acc
                })
                .collect();
            assert_eq!(blocked, running, "n = {n}");
        }
    }
}
