//! Mel filterbank and DCT, matching librosa's defaults so values can be compared: Slaney's mel scale
//! (linear below 1 kHz, logarithmic above), triangular filters with Slaney ("area") normalisation,
//! `power_to_db` with `amin = 1e-10`, and an orthonormal DCT-II for MFCC.

/// Smallest power `power_to_db` takes the log of (librosa's `amin`): -100 dB.
pub const AMIN: f32 = 1e-10;

/// `10 * log10(max(power, AMIN))`, librosa's `power_to_db` with `ref = 1.0` and no `top_db` (a
/// `top_db` clip is relative to the maximum of the whole signal, which a stream cannot know).
#[inline]
pub fn power_to_db(power: f32) -> f32 {
    10.0 * power.max(AMIN).log10()
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

/// Triangular mel filters stored sparsely: each band keeps only its non-zero span of FFT bins.
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
        let (mel_lo, mel_hi) = (hz_to_mel(fmin), hz_to_mel(fmax));
        let mel_f: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(mel_lo + (mel_hi - mel_lo) * i as f64 / (n_mels + 1) as f64))
            .collect();
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
            let first = row.iter().position(|&w| w > 0.0).unwrap_or(0);
            let last = row.iter().rposition(|&w| w > 0.0).map_or(first, |l| l + 1);
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

    /// The weights of band `m` and the FFT bin of its first weight.
    pub fn band(&self, m: usize) -> (usize, &[f32]) {
        (
            self.starts[m],
            &self.weights[self.offsets[m]..self.offsets[m + 1]],
        )
    }

    /// Mel power spectrum of one power spectrum.
    pub fn apply(&self, power: &[f32], mel: &mut [f32]) {
        for (m, out) in mel.iter_mut().enumerate() {
            let (start, w) = self.band(m);
            let bins = power.get(start..start + w.len()).unwrap_or(&[]);
            *out = w.iter().zip(bins).map(|(a, b)| a * b).sum();
        }
    }
}

/// Orthonormal DCT-II (scipy `dct(type=2, norm="ortho")`), first `n_out` coefficients.
pub struct Dct {
    n_in: usize,
    basis: Vec<f32>,
}

impl Dct {
    pub fn new(n_in: usize, n_out: usize) -> Self {
        let n = n_in as f64;
        let mut basis = Vec::with_capacity(n_in * n_out);
        for k in 0..n_out {
            let scale = if k == 0 {
                (1.0 / n).sqrt()
            } else {
                (2.0 / n).sqrt()
            };
            for i in 0..n_in {
                let arg = std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n);
                basis.push((scale * arg.cos()) as f32);
            }
        }
        Dct { n_in, basis }
    }

    pub fn apply(&self, input: &[f32], out: &mut [f32]) {
        for (o, row) in out.iter_mut().zip(self.basis.chunks_exact(self.n_in)) {
            *o = row.iter().zip(input).map(|(a, b)| a * b).sum();
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
    fn dct_ortho_preserves_energy_when_complete() {
        let dct = Dct::new(16, 16);
        let x: Vec<f32> = (0..16).map(|i| ((i * 7) % 5) as f32 - 2.0).collect();
        let mut y = vec![0.0; 16];
        dct.apply(&x, &mut y);
        let ex: f32 = x.iter().map(|v| v * v).sum();
        let ey: f32 = y.iter().map(|v| v * v).sum();
        assert!((ex - ey).abs() < 1e-4 * ex);
    }
}
