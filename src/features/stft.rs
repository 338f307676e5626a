//! STFT frames: a periodic Hann window and a real-to-complex FFT (realfft), giving the power spectrum
//! `|X[k]|^2` of one frame, unnormalised, like `numpy.abs(librosa.stft(...))**2`.
//!
//! The FFT plan is made once and shared (`Arc`, plans are immutable); each thread brings its own
//! [`StftScratch`], so frames can be transformed in parallel without allocating per frame.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// The periodic ("DFT-even") Hann window of `n` points, as `scipy.signal.get_window("hann", n)`.
pub fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()) as f32)
        .collect()
}

/// Windowed power spectrum of `n_fft`-sample frames.
pub struct Stft {
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

/// Per-thread work buffers for [`Stft::power`].
pub struct StftScratch {
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    fft: Vec<Complex<f32>>,
}

impl Stft {
    pub fn new(n_fft: usize, planner: &mut RealFftPlanner<f32>) -> Self {
        Stft {
            window: hann(n_fft),
            fft: planner.plan_fft_forward(n_fft),
        }
    }

    pub fn n_fft(&self) -> usize {
        self.window.len()
    }

    /// Number of non-negative frequency bins, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.window.len() / 2 + 1
    }

    pub fn window(&self) -> &[f32] {
        &self.window
    }

    pub fn scratch(&self) -> StftScratch {
        StftScratch {
            input: self.fft.make_input_vec(),
            spectrum: self.fft.make_output_vec(),
            fft: self.fft.make_scratch_vec(),
        }
    }

    /// Writes the power spectrum of `frame` (`n_fft` samples) into `power` (`n_bins` values).
    #[inline(always)]
    pub fn power(&self, frame: &[f32], s: &mut StftScratch, power: &mut [f32]) {
        for ((x, &f), &w) in s.input.iter_mut().zip(frame).zip(&self.window) {
            *x = f * w;
        }
        if self
            .fft
            .process_with_scratch(&mut s.input, &mut s.spectrum, &mut s.fft)
            .is_err()
        {
            // Only reachable with mismatched buffer lengths, which `scratch()` rules out.
            power.fill(0.0);
            return;
        }
        for (p, c) in power.iter_mut().zip(&s.spectrum) {
            *p = c.re * c.re + c.im * c.im;
        }
    }
}
