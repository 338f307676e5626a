//! STFT frames: a periodic Hann window and a real-input FFT, giving the power spectrum `|X[k]|^2` of
//! one frame, unnormalised, like `numpy.abs(librosa.stft(...))**2`.
//!
//! The real FFT of `n` samples is one complex FFT of `n / 2` points (rustfft, which picks its AVX
//! kernels at run time) of the even samples as real parts and the odd ones as imaginary parts,
//! followed by the usual split step. The split step is written here rather than taken from a
//! real-FFT crate because only the power of each bin is needed: computed directly, eight bins at a
//! time in a loop the compiler vectorises, it costs a fraction of a generic complex-output step
//! (which was a fifth of the time of librosa's feature list).
//!
//! The FFT plan is made once and shared (`Arc`, plans are immutable); each thread brings its own
//! [`StftScratch`], so frames can be transformed in parallel without allocating per frame.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::lanes::LANES;

/// The periodic ("DFT-even") Hann window of `n` points, as `scipy.signal.get_window("hann", n)`.
pub fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()) as f32)
        .collect()
}

/// Windowed power spectrum of `n_fft`-sample frames (`n_fft` even).
pub struct Stft {
    window: Vec<f32>,
    /// Complex FFT of `n_fft / 2` points.
    fft: Arc<dyn Fft<f32>>,
    /// Real and imaginary parts of the twiddles `exp(-2 pi i k / n_fft)`, `k = 0..=n_fft / 4`.
    twiddle_re: Vec<f32>,
    twiddle_im: Vec<f32>,
}

/// Per-thread work buffers for [`Stft::power`].
pub struct StftScratch {
    input: Vec<Complex<f32>>,
    spectrum: Vec<Complex<f32>>,
    fft: Vec<Complex<f32>>,
}

impl Stft {
    /// The STFT of `n_fft`-sample frames; an odd `n_fft` is rounded up to the next even number.
    pub fn new(n_fft: usize) -> Self {
        let n_fft = (n_fft.max(2) + 1) & !1;
        let half = n_fft / 2;
        let angle = |k: usize| -2.0 * std::f64::consts::PI * k as f64 / n_fft as f64;
        Stft {
            window: hann(n_fft),
            fft: FftPlanner::new().plan_fft_forward(half),
            twiddle_re: (0..=half / 2).map(|k| angle(k).cos() as f32).collect(),
            twiddle_im: (0..=half / 2).map(|k| angle(k).sin() as f32).collect(),
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
        let half = self.window.len() / 2;
        StftScratch {
            input: vec![Complex::default(); half],
            spectrum: vec![Complex::default(); half],
            fft: vec![Complex::default(); self.fft.get_outofplace_scratch_len()],
        }
    }

    /// Writes the power spectrum of `frame` (`n_fft` samples) into `power` (`n_bins` values).
    /// A shorter `frame` is zero-padded; extra values in either are ignored.
    #[inline(always)]
    pub fn power(&self, frame: &[f32], s: &mut StftScratch, power: &mut [f32]) {
        let half = s.spectrum.len();
        if power.len() < half + 1 || half < 2 {
            power.fill(0.0);
            return;
        }
        if frame.len() < self.window.len() {
            s.input.fill(Complex::default());
        }
        for ((z, x), w) in s
            .input
            .iter_mut()
            .zip(frame.chunks_exact(2))
            .zip(self.window.chunks_exact(2))
        {
            *z = Complex::new(x[0] * w[0], x[1] * w[1]);
        }
        if frame.len() < self.window.len() && frame.len() % 2 == 1 {
            let i = frame.len() - 1;
            s.input[i / 2].re = frame[i] * self.window[i];
        }
        // The buffers have the plan's lengths (`scratch()`), so this cannot fail.
        self.fft
            .process_outofplace_with_scratch(&mut s.input, &mut s.spectrum, &mut s.fft);
        split_power(&s.spectrum, &self.twiddle_re, &self.twiddle_im, power);
    }
}

/// The power spectrum `|X[k]|^2`, `k = 0..=m`, of the `2m` real samples whose even samples are the
/// real parts and odd samples the imaginary parts of `z`, given `Z`, the `m`-point FFT of `z`.
///
/// With `A = Z[k]` and `B = conj(Z[m - k])`, the spectra of the even and odd samples are
/// `E = (A + B) / 2` and `O = (A - B) / 2i`; then `X[k] = E + W^k O` and
/// `X[m - k] = conj(E - W^k O)` with `W = exp(-2 pi i / 2m)`: each pair `(k, m - k)` takes one
/// twiddle and gives two bins.
#[inline(always)]
fn split_power(z: &[Complex<f32>], tw_re: &[f32], tw_im: &[f32], power: &mut [f32]) {
    let m = z.len();
    let power = &mut power[..=m];
    power[0] = (z[0].re + z[0].im) * (z[0].re + z[0].im);
    power[m] = (z[0].re - z[0].im) * (z[0].re - z[0].im);
    // Both bins of the pair (k, m - k), as (|E + W^k O|^2, |E - W^k O|^2).
    #[inline(always)]
    fn pair(a: Complex<f32>, b: Complex<f32>, c: f32, s: f32) -> (f32, f32) {
        let (er, ei) = (0.5 * (a.re + b.re), 0.5 * (a.im - b.im));
        let (or, oi) = (0.5 * (a.im + b.im), 0.5 * (b.re - a.re));
        let (qr, qi) = (c * or - s * oi, c * oi + s * or);
        let (lr, li, hr, hi) = (er + qr, ei + qi, er - qr, ei - qi);
        (lr * lr + li * li, hr * hr + hi * hi)
    }
    let last = m / 2;
    let mut k = 1;
    // Eight pairs at a time while the two runs of bins cannot overlap (k + 7 < m - k - 7).
    while k + LANES <= last {
        let a = &z[k..k + LANES];
        let b = &z[m - k - (LANES - 1)..=m - k];
        let (c, s) = (&tw_re[k..k + LANES], &tw_im[k..k + LANES]);
        let mut lo = [0.0f32; LANES];
        let mut hi = [0.0f32; LANES];
        for j in 0..LANES {
            (lo[j], hi[j]) = pair(a[j], b[LANES - 1 - j], c[j], s[j]);
        }
        power[k..k + LANES].copy_from_slice(&lo);
        for (p, &h) in power[m - k - (LANES - 1)..=m - k]
            .iter_mut()
            .zip(hi.iter().rev())
        {
            *p = h;
        }
        k += LANES;
    }
    // The last pairs one by one; for k = m / 2 (m even) both values are the same bin.
    while k <= last {
        let (lo, hi) = pair(z[k], z[m - k], tw_re[k], tw_im[k]);
        power[m - k] = hi;
        power[k] = lo;
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The power spectrum straight from the DFT's definition, in f64.
    fn naive_power(x: &[f32], window: &[f32]) -> Vec<f64> {
        let n = window.len();
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for (i, (&v, &w)) in x.iter().zip(window).enumerate() {
                    let a = -2.0 * std::f64::consts::PI * (k * i % n) as f64 / n as f64;
                    re += (v * w) as f64 * a.cos();
                    im += (v * w) as f64 * a.sin();
                }
                re * re + im * im
            })
            .collect()
    }

    #[test]
    fn power_spectrum_matches_the_dft_definition() {
        let mut seed = 7u32;
        // Sizes with and without a full block of eight pairs, m odd and even.
        for n in [4usize, 6, 34, 64, 94, 512, 1024] {
            let stft = Stft::new(n);
            let mut scratch = stft.scratch();
            let mut power = vec![0.0; stft.n_bins()];
            let x: Vec<f32> = (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                    (0.3 * i as f32).sin() + noise
                })
                .collect();
            stft.power(&x, &mut scratch, &mut power);
            let expected = naive_power(&x, stft.window());
            let scale = expected.iter().fold(0.0f64, |m, &v| m.max(v));
            for (k, (&p, &e)) in power.iter().zip(&expected).enumerate() {
                assert!(
                    (p as f64 - e).abs() <= 1e-5 * scale,
                    "n {n} bin {k}: {p} vs {e}"
                );
            }
        }
    }
}
