//! Small signal-generation primitives for the synthesiser: a seeded random source, biquad filters, a
//! band-limited wavetable oscillator and a plucked string. All of them keep a few words of state and
//! never allocate per sample.

use std::f32::consts::PI;

pub use crate::rng::Rng;

/// A biquad in transposed direct form II with RBJ cookbook coefficients.
#[derive(Debug, Clone, Copy, Default)]
pub struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    z1: f32,
    z2: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    LowPass,
    HighPass,
    /// Band-pass with 0 dB gain at the centre.
    BandPass,
}

impl Biquad {
    pub fn new(kind: FilterKind, freq: f32, q: f32, sample_rate: f32) -> Self {
        let mut b = Biquad::default();
        b.set(kind, freq, q, sample_rate);
        b
    }

    /// Changes the coefficients and keeps the state (so a moving filter does not click).
    pub fn set(&mut self, kind: FilterKind, freq: f32, q: f32, sample_rate: f32) {
        let f = freq.clamp(10.0, 0.45 * sample_rate);
        let w0 = 2.0 * PI * f / sample_rate;
        let (s, c) = w0.sin_cos();
        let alpha = s / (2.0 * q.max(0.05));
        let (b0, b1, b2) = match kind {
            FilterKind::LowPass => ((1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0),
            FilterKind::HighPass => ((1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0),
            FilterKind::BandPass => (alpha, 0.0, -alpha),
        };
        let a0 = 1.0 + alpha;
        self.b0 = b0 / a0;
        self.b1 = b1 / a0;
        self.b2 = b2 / a0;
        self.a1 = -2.0 * c / a0;
        self.a2 = (1.0 - alpha) / a0;
    }

    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.z1;
        self.z1 = self.b1 * x - self.a1 * y + self.z2;
        self.z2 = self.b2 * x - self.a2 * y;
        y
    }
}

/// One-pole low-pass smoother.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnePole {
    a: f32,
    y: f32,
}

impl OnePole {
    pub fn new(cutoff_hz: f32, sample_rate: f32) -> Self {
        OnePole {
            a: 1.0 - (-2.0 * PI * cutoff_hz / sample_rate).exp(),
            y: 0.0,
        }
    }
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        self.y += self.a * (x - self.y);
        self.y
    }
}

const TABLE_LEN: usize = 2048;

/// A band-limited waveform (sum of harmonics), read with linear interpolation.
#[derive(Debug, Clone)]
pub struct Wavetable {
    table: Vec<f32>,
}

impl Wavetable {
    /// Harmonics `k = 1..=n` with amplitude `1 / k^tilt`, normalised to a peak of 1.
    pub fn harmonics(n: usize, tilt: f32) -> Self {
        let mut table: Vec<f32> = (0..=TABLE_LEN)
            .map(|i| {
                let ph = i as f32 / TABLE_LEN as f32 * 2.0 * PI;
                (1..=n)
                    .map(|k| (k as f32 * ph).sin() / (k as f32).powf(tilt))
                    .sum()
            })
            .collect();
        let peak = table.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-9);
        table.iter_mut().for_each(|v| *v /= peak);
        Wavetable { table }
    }

    /// Value at phase `ph` in [0, 1).
    #[inline]
    pub fn at(&self, ph: f32) -> f32 {
        let x = ph * TABLE_LEN as f32;
        let i = (x as usize).min(TABLE_LEN - 1);
        let frac = x - i as f32;
        self.table[i] + frac * (self.table[i + 1] - self.table[i])
    }
}

/// Phase accumulator in [0, 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct Phase(pub f32);

impl Phase {
    /// Advances by `freq / sample_rate`; returns true when the phase wrapped (a new period began).
    #[inline]
    pub fn step(&mut self, inc: f32) -> bool {
        self.0 += inc;
        if self.0 >= 1.0 {
            self.0 -= self.0.floor();
            true
        } else {
            false
        }
    }
}

/// Karplus-Strong plucked string over a fixed buffer (no allocation per note).
#[derive(Debug, Clone)]
pub struct Pluck {
    buf: Vec<f32>,
    len: usize,
    pos: usize,
    decay: f32,
}

impl Pluck {
    /// `lowest_hz` sets the buffer size once.
    pub fn new(lowest_hz: f32, sample_rate: f32) -> Self {
        let cap = (sample_rate / lowest_hz).ceil() as usize + 2;
        Pluck {
            buf: vec![0.0; cap],
            len: 1,
            pos: 0,
            decay: 0.0,
        }
    }

    pub fn strike(&mut self, freq: f32, amp: f32, decay: f32, sample_rate: f32, rng: &mut Rng) {
        self.len = ((sample_rate / freq.max(1.0)).round() as usize).clamp(2, self.buf.len());
        self.pos = 0;
        self.decay = decay;
        for v in &mut self.buf[..self.len] {
            *v = rng.noise() * amp;
        }
    }

    #[inline]
    pub fn process(&mut self) -> f32 {
        let out = self.buf[self.pos];
        let next = if self.pos + 1 == self.len {
            0
        } else {
            self.pos + 1
        };
        self.buf[self.pos] = 0.5 * (out + self.buf[next]) * self.decay;
        self.pos = next;
        out
    }
}

/// MIDI note number to Hz.
pub fn midi_hz(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

pub fn db_to_gain(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible_and_uniform_enough() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mean: f64 = (0..10_000).map(|_| a.uniform()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
        let n: Vec<f32> = (0..10_000).map(|_| a.noise()).collect();
        assert!(n.iter().all(|v| (-1.0..1.0).contains(v)));
    }

    #[test]
    fn band_pass_passes_its_centre_and_rejects_far_frequencies() {
        let sr = 48_000.0;
        let gain_at = |f: f32| {
            let mut bq = Biquad::new(FilterKind::BandPass, 1000.0, 5.0, sr);
            let mut peak = 0.0f32;
            for i in 0..48_000 {
                let y = bq.process((2.0 * PI * f * i as f32 / sr).sin());
                if i > 24_000 {
                    peak = peak.max(y.abs());
                }
            }
            peak
        };
        assert!((gain_at(1000.0) - 1.0).abs() < 0.05);
        assert!(gain_at(100.0) < 0.05);
        assert!(gain_at(10_000.0) < 0.05);
    }

    #[test]
    fn pluck_decays() {
        let mut rng = Rng::new(1);
        let mut p = Pluck::new(40.0, 48_000.0);
        p.strike(220.0, 0.5, 0.996, 48_000.0, &mut rng);
        let e0: f32 = (0..4800).map(|_| p.process().powi(2)).sum();
        let _: f32 = (0..48_000).map(|_| p.process()).sum();
        let e1: f32 = (0..4800).map(|_| p.process().powi(2)).sum();
        assert!(e1 < e0 * 0.1, "{e0} {e1}");
    }
}
