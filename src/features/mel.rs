//! Mel filterbank and DCT, matching librosa's defaults so values can be compared: Slaney's mel scale
//! (linear below 1 kHz, logarithmic above), triangular filters with Slaney ("area") normalisation,
//! `power_to_db` with `amin = 1e-10`, and an orthonormal DCT-II for MFCC.

use super::lanes::{self, LANES};

/// Smallest power `power_to_db` takes the log of (librosa's `amin`): -100 dB.
pub const AMIN: f32 = 1e-10;

/// `10 * log10(max(power, AMIN))`, librosa's `power_to_db` with `ref = 1.0` and no `top_db` (a
/// `top_db` clip is relative to the maximum of the whole signal, which a stream cannot know).
#[inline(always)]
pub fn power_to_db(power: f32) -> f32 {
    10.0 * log10(power.max(AMIN))
}

/// `log10(x)` for a positive normal `x` (no NaN, infinity, zero or subnormal: callers floor their
/// input first), within a few units in the last place of `f32::log10`.
///
/// Branch-free, so a loop over it vectorises (the library call does not): `x = 2^e m` with
/// `m` in [√½, √2), and `ln m = 2 atanh(t)`, `t = (m - 1) / (m + 1)`, `|t| <= 0.172`, by its
/// odd series to `t^9` (the next term is under 1e-9 of the result).
#[inline(always)]
pub fn log10(x: f32) -> f32 {
    const LOG10_2: f32 = std::f32::consts::LOG10_2;
    const LOG10_E: f32 = std::f32::consts::LOG10_E;
    let bits = x.to_bits();
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let big = m > std::f32::consts::SQRT_2;
    let (m, e) = if big { (m * 0.5, e + 1) } else { (m, e) };
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0))));
    e as f32 * LOG10_2 + (2.0 * t * series) * LOG10_E
}

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to mel on Slaney's scale (librosa `hz_to_mel(htk=False)`).
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

/// Mel to Hz on Slaney's scale (librosa `mel_to_hz(htk=False)`).
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// Edges of the triangles of an `n_mels`-band filterbank from `fmin` to `fmax` on Slaney's scale,
/// Hz (`n_mels + 2` values, librosa's `mel_frequencies(n_mels + 2, fmin, fmax)`): band m rises
/// from edge m, peaks at edge m + 1 and falls to edge m + 2.
pub fn mel_edges_hz(n_mels: usize, fmin: f64, fmax: f64) -> Vec<f64> {
    let (mel_lo, mel_hi) = (hz_to_mel(fmin), hz_to_mel(fmax));
    (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_lo + (mel_hi - mel_lo) * i as f64 / (n_mels + 1) as f64))
        .collect()
}

/// Triangular mel filters stored sparsely: each band keeps only its non-zero span of FFT bins,
/// zero-padded to whole [`LANES`] groups (extended to the left where the spectrum ends), so that
/// every band is one [`lanes::dot`] without a scalar tail.
pub struct MelFilterbank {
    starts: Vec<usize>,
    offsets: Vec<usize>,
    weights: Vec<f32>,
}

impl MelFilterbank {
    /// The filterbank of `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)` (norm="slaney").
    pub fn new(sample_rate: u32, n_fft: usize, n_mels: usize, fmin: f64, fmax: f64) -> Self {
        let n_bins = n_fft / 2 + 1;
        let sr = sample_rate as f64;
        let fft_freqs: Vec<f64> = (0..n_bins).map(|k| k as f64 * sr / n_fft as f64).collect();
        let mel_f = mel_edges_hz(n_mels, fmin, fmax);
        let mut starts = Vec::with_capacity(n_mels);
        let mut offsets = Vec::with_capacity(n_mels + 1);
        let mut weights = Vec::new();
        offsets.push(0);
        for m in 0..n_mels {
            let (lo, c, hi) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
            let enorm = 2.0 / (hi - lo);
            let row: Vec<f32> = fft_freqs
                .iter()
                .map(|&f| {
                    let lower = (f - lo) / (c - lo);
                    let upper = (hi - f) / (hi - c);
                    (lower.min(upper).max(0.0) * enorm) as f32
                })
                .collect();
            let mut first = row.iter().position(|&w| w > 0.0).unwrap_or(0);
            let mut last = row.iter().rposition(|&w| w > 0.0).map_or(first, |l| l + 1);
            // Zero weights up to a whole number of lanes: after the span, or before it where
            // the spectrum ends (a few weights more, no scalar remainder in `apply`).
            let padded = (last - first).div_ceil(LANES) * LANES;
            last = (first + padded).min(n_bins);
            first = last.saturating_sub(padded);
            starts.push(first);
            weights.extend_from_slice(&row[first..last]);
            offsets.push(weights.len());
        }
        MelFilterbank {
            starts,
            offsets,
            weights,
        }
    }

    pub fn n_mels(&self) -> usize {
        self.starts.len()
    }

    /// The weights of band `m` (zero-padded, see [`MelFilterbank`]) and the FFT bin of its first.
    pub fn band(&self, m: usize) -> (usize, &[f32]) {
        (
            self.starts[m],
            &self.weights[self.offsets[m]..self.offsets[m + 1]],
        )
    }

    /// Mel power spectrum of one power spectrum.
    #[inline(always)]
    pub fn apply(&self, power: &[f32], mel: &mut [f32]) {
        for (m, out) in mel.iter_mut().enumerate() {
            let (start, w) = self.band(m);
            let bins = power.get(start..start + w.len()).unwrap_or(&[]);
            *out = lanes::dot(w, bins);
        }
    }
}

/// Orthonormal DCT-II (scipy `dct(type=2, norm="ortho")`), first `n_out` coefficients.
pub struct Dct {
    n_out: usize,
    /// Row length of `basis`: `n_out` rounded up to whole [`LANES`] groups.
    stride: usize,
    /// The basis stored input-major (`basis[i * stride + k]`, zero-padded after `n_out`), so that
    /// one input value updates every coefficient in a loop the compiler vectorises, while each
    /// coefficient still sums its terms in input order (the same rounding as a row-by-row dot
    /// product).
    basis: Vec<f32>,
}

impl Dct {
    pub fn new(n_in: usize, n_out: usize) -> Self {
        let n = n_in as f64;
        let stride = n_out.div_ceil(LANES) * LANES;
        let mut basis = vec![0.0; n_in * stride];
        for k in 0..n_out {
            let scale = if k == 0 {
                (1.0 / n).sqrt()
            } else {
                (2.0 / n).sqrt()
            };
            for i in 0..n_in {
                let arg = std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n);
                basis[i * stride + k] = (scale * arg.cos()) as f32;
            }
        }
        Dct {
            n_out,
            stride,
            basis,
        }
    }

    /// The first `n_out` coefficients of `input` into `out`.
    #[inline(always)]
    pub fn apply(&self, input: &[f32], out: &mut [f32]) {
        self.apply_pair(input, &[], out, &mut [])
    }

    /// [`apply`](Self::apply) to two inputs at once (one pass over the basis); `b` may be empty
    /// (then `out_b` is left alone).
    #[inline(always)]
    pub fn apply_pair(&self, a: &[f32], b: &[f32], out_a: &mut [f32], out_b: &mut [f32]) {
        // Up to 32 coefficients, in accumulators the compiler keeps in registers.
        match self.stride {
            8 => self.apply_fixed::<8>(a, b, out_a, out_b),
            16 => self.apply_fixed::<16>(a, b, out_a, out_b),
            24 => self.apply_fixed::<24>(a, b, out_a, out_b),
            32 => self.apply_fixed::<32>(a, b, out_a, out_b),
            _ => self.apply_any(a, b, out_a, out_b),
        }
    }

    #[inline(always)]
    fn apply_fixed<const S: usize>(
        &self,
        a: &[f32],
        b: &[f32],
        out_a: &mut [f32],
        out_b: &mut [f32],
    ) {
        let rows = self.basis.as_chunks::<S>().0;
        // Input-major: each input adds its row to S accumulators held in registers.
        let project = |x: &[f32], out: &mut [f32]| {
            let mut acc = [0.0f32; S];
            for (&v, row) in x.iter().zip(rows) {
                for k in 0..S {
                    acc[k] += v * row[k];
                }
            }
            let n = self.n_out.min(out.len());
            out[..n].copy_from_slice(&acc[..n]);
        };
        project(a, out_a);
        if !b.is_empty() {
            project(b, out_b);
        }
    }

    /// The same for any number of coefficients, accumulating in `out` itself.
    fn apply_any(&self, a: &[f32], b: &[f32], out_a: &mut [f32], out_b: &mut [f32]) {
        for (input, out) in [(a, out_a), (b, out_b)] {
            if input.is_empty() || self.stride == 0 {
                continue;
            }
            let n = self.n_out.min(out.len());
            let out = &mut out[..n];
            out.fill(0.0);
            for (&x, row) in input.iter().zip(self.basis.chunks_exact(self.stride)) {
                for (o, &w) in out.iter_mut().zip(row) {
                    *o += x * w;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_mel_scale_is_linear_below_1khz_and_round_trips() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        for hz in [0.0, 55.0, 999.0, 1000.0, 4321.0, 8000.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6 * hz.max(1.0));
        }
    }

    #[test]
    fn each_band_of_the_filterbank_peaks_at_its_centre_edge() {
        // 64 bands over 0-8 kHz on a 1024-point FFT at 16 kHz: band m's largest weight is at
        // the bin nearest edge m + 1 (15.6 Hz bins), so the edges are the filterbank's own.
        let edges = mel_edges_hz(64, 0.0, 8000.0);
        assert_eq!(edges.len(), 66);
        assert_eq!((edges[0], edges[65].round()), (0.0, 8000.0));
        let fb = MelFilterbank::new(16_000, 1024, 64, 0.0, 8000.0);
        for m in 0..64 {
            let (start, w) = fb.band(m);
            let peak = w
                .iter()
                .enumerate()
                .fold((0, 0.0f32), |b, (i, &x)| if x > b.1 { (i, x) } else { b });
            let peak_hz = (start + peak.0) as f64 * 16_000.0 / 1024.0;
            assert!(
                (peak_hz - edges[m + 1]).abs() <= 15.7,
                "band {m}: {peak_hz} Hz"
            );
        }
    }

    #[test]
    fn fast_log10_is_within_a_few_ulp_of_the_library() {
        // Every binade from 1e-38 to 1e38, 2000 values each, and the exact powers of ten.
        let mut worst = 0.0f64;
        for e in -126..127 {
            for i in 0..2000 {
                let x = 2f32.powi(e) * (1.0 + i as f32 / 2000.0);
                let exact = (x as f64).log10();
                let err = (log10(x) as f64 - exact).abs() / exact.abs().max(1.0);
                worst = worst.max(err);
            }
        }
        assert!(
            worst < 4.0 * f32::EPSILON as f64,
            "worst relative error {worst:e}"
        );
        for p in -30..=30 {
            let x = 10f32.powi(p);
            assert!(
                (log10(x) - p as f32).abs() < 1e-5,
                "log10(1e{p}) = {}",
                log10(x)
            );
        }
    }

    #[test]
    fn dct_matches_its_definition_for_any_number_of_coefficients() {
        // Widths with register accumulators (padded to 8..=32) and the general path (to 40).
        let n_in = 37;
        let x: Vec<f32> = (0..n_in).map(|i| ((i * 29) % 13) as f32 - 6.0).collect();
        for n_out in [1usize, 7, 8, 20, 32, 33, 37] {
            let dct = Dct::new(n_in, n_out);
            let mut y = vec![f32::NAN; n_out];
            dct.apply(&x, &mut y);
            for (k, &v) in y.iter().enumerate() {
                let scale = if k == 0 {
                    1.0 / n_in as f64
                } else {
                    2.0 / n_in as f64
                }
                .sqrt();
                let expected: f64 = x
                    .iter()
                    .enumerate()
                    .map(|(i, &xi)| {
                        let arg =
                            std::f64::consts::PI * (k * (2 * i + 1)) as f64 / (2 * n_in) as f64;
                        xi as f64 * scale * arg.cos()
                    })
                    .sum();
                assert!(
                    (v as f64 - expected).abs() < 1e-4,
                    "n_out {n_out} k {k}: {v} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn dct_ortho_preserves_energy_when_complete() {
        let dct = Dct::new(16, 16);
        let x: Vec<f32> = (0..16).map(|i| ((i * 7) % 5) as f32 - 2.0).collect();
        let mut y = vec![0.0; 16];
        dct.apply(&x, &mut y);
        let ex: f32 = x.iter().map(|v| v * v).sum();
        let ey: f32 = y.iter().map(|v| v * v).sum();
        assert!((ex - ey).abs() < 1e-4 * ex);
        let mut pair = (vec![0.0; 16], vec![0.0; 16]);
        let z: Vec<f32> = x.iter().map(|v| 2.0 * v).collect();
        dct.apply_pair(&x, &z, &mut pair.0, &mut pair.1);
        assert_eq!(pair.0, y);
        assert_eq!(pair.1, y.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
    }
}
