//! Chroma: a frame's spectrum folded onto the 12 pitch classes (C, C#, ... B), normalised to sum 1.
//!
//! Two pieces of music usually differ in key, so in which pitch classes their notes fall; a part
//! entering inside one piece (a voice, a bass line) changes the spectral shape but hardly the
//! pitch-class profile. The profile is level-independent (normalised per frame).
//!
//! Only 250 Hz - 4 kHz is folded: below, the ~16 Hz bins of a 1024-point FFT at 16 kHz are wider
//! than a semitone (15 Hz at 250 Hz), so a bin cannot be given a pitch class; above, harmonics are
//! dense and noise dominates. Each bin's magnitude is shared between the two pitch classes nearest
//! its centre frequency in proportion to closeness (a sparse two-entry table built once).

/// Number of pitch classes.
pub const N_CHROMA: usize = 12;
/// Folded band, Hz.
const FMIN_HZ: f64 = 250.0;
const FMAX_HZ: f64 = 4000.0;
/// Frequency of C0: pitch class 0 is C.
const C0_HZ: f64 = 16.351_597_831_287_414;

/// Precomputed bin -> pitch-class weights, in runs of consecutive bins that share their lower
/// pitch class (one run per semitone of the band), so a frame is folded with short dot products
/// and two stores per semitone rather than two scattered adds per bin.
#[derive(Debug, Clone)]
pub struct ChromaFold {
    /// First bin folded; `weight[i]` belongs to bin `first + i`.
    first: usize,
    /// Weight of each bin's lower pitch class; the upper one (`pc + 1` mod 12) gets `1 - weight`.
    weight: Vec<f32>,
    /// `(start, end, pc)`: bins `first + start..first + end` have lower pitch class `pc`.
    runs: Vec<(usize, usize, usize)>,
}

impl ChromaFold {
    pub fn new(sample_rate: u32, n_fft: usize) -> Self {
        let bin_hz = sample_rate as f64 / n_fft.max(1) as f64;
        let n_bins = n_fft / 2 + 1;
        let first = ((FMIN_HZ / bin_hz).ceil() as usize).min(n_bins);
        let last = ((FMAX_HZ / bin_hz).floor() as usize + 1).clamp(first, n_bins);
        let mut weight = Vec::with_capacity(last - first);
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for (i, k) in (first..last).enumerate() {
            let p = 12.0 * (k as f64 * bin_hz / C0_HZ).log2();
            let lo = p.floor();
            let pc = (lo as i64).rem_euclid(N_CHROMA as i64) as usize;
            weight.push((1.0 - (p - lo)) as f32);
            match runs.last_mut() {
                Some(run) if run.2 == pc && run.1 == i => run.1 = i + 1,
                _ => runs.push((i, i + 1, pc)),
            }
        }
        ChromaFold {
            first,
            weight,
            runs,
        }
    }

    /// Folds the magnitude spectrum `mag` into `out` (12 values summing to 1, or all 0 when the band
    /// is silent).
    pub fn apply(&self, mag: &[f32], out: &mut [f32]) {
        let mut acc = [0f32; N_CHROMA];
        let band = mag.get(self.first..).unwrap_or(&[]);
        for &(a, b, pc) in &self.runs {
            let (m, w) = (
                &band[a.min(band.len())..b.min(band.len())],
                &self.weight[a..b],
            );
            let (mut low, mut all) = (0f32, 0f32);
            for (&m, &w) in m.iter().zip(w) {
                low += w * m;
                all += m;
            }
            acc[pc] += low;
            acc[(pc + 1) % N_CHROMA] += all - low;
        }
        let total: f32 = acc.iter().sum();
        let scale = if total > super::frame::TINY {
            1.0 / total
        } else {
            0.0
        };
        for (o, a) in out.iter_mut().zip(acc) {
            *o = a * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bin_at_a_semitone_centre_goes_to_its_pitch_class() {
        let fold = ChromaFold::new(16_000, 1024);
        let bin_hz = 16_000.0 / 1024.0;
        // 1000 Hz is 0.35 of a semitone above B5: most of it goes to B (11), the rest to C (0).
        let k = (1000.0 / bin_hz) as usize;
        let mut mag = vec![0f32; 513];
        mag[k] = 1.0;
        let mut out = [0f32; N_CHROMA];
        fold.apply(&mag, &mut out);
        let f = k as f64 * bin_hz;
        let p = (12.0 * (f / C0_HZ).log2()).rem_euclid(12.0);
        let nearest = (p.round() as usize) % N_CHROMA;
        let best = (0..N_CHROMA).max_by(|&a, &b| out[a].total_cmp(&out[b]));
        assert_eq!(best, Some(nearest), "{out:?}");
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn silence_and_out_of_band_read_zero() {
        let fold = ChromaFold::new(16_000, 1024);
        let mut mag = vec![0f32; 513];
        let mut out = [1f32; N_CHROMA];
        fold.apply(&mag, &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
        mag[5] = 1.0; // 78 Hz, under the folded band
        fold.apply(&mag, &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
