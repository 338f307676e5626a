//! Scalar descriptors of one spectrum: centroid, bandwidth, roll-off, flatness, contrast (as librosa
//! defines them, for comparison), band energy, and harmonic peakiness in 200 Hz - 5 kHz.

use super::mel::{AMIN, power_to_db};

/// Number of spectral-contrast values (librosa's `n_bands = 6` octave bands plus the top band).
pub const CONTRAST_BANDS: usize = 7;
const CONTRAST_FMIN: f64 = 200.0;
const CONTRAST_QUANTILE: f64 = 0.02;
/// Above this many bins per side, contrast falls back to a copy and a selection.
const MAX_EXTREMES: usize = 16;

/// One octave band of the spectral contrast: bins `lo..hi`, mean of the `k` smallest / largest.
#[derive(Debug, Clone, Copy)]
struct ContrastBand {
    lo: usize,
    hi: usize,
    k: usize,
}

/// Band layouts precomputed for one (sample rate, n_fft).
pub struct SpectralShape {
    freqs: Vec<f32>,
    contrast: Vec<Option<ContrastBand>>,
    /// Bins of the peakiness band (200 Hz - 5 kHz).
    peak_band: (usize, usize),
    /// Half-width, in bins, of the neighbourhood a peak must stand out of.
    peak_halfwidth: usize,
    /// Bins of the speech band (300 Hz - 3.4 kHz).
    speech_band: (usize, usize),
    /// `2 / (n_fft * sum(w^2))`: one-sided power to mean square (Parseval, window-compensated).
    ms_scale: f32,
}

fn bin_of(hz: f64, sr: f64, n_fft: usize, n_bins: usize) -> usize {
    ((hz * n_fft as f64 / sr).round() as usize).min(n_bins)
}

impl SpectralShape {
    pub fn new(sample_rate: u32, n_fft: usize, window: &[f32]) -> Self {
        let sr = sample_rate as f64;
        let n_bins = n_fft / 2 + 1;
        let freqs: Vec<f64> = (0..n_bins).map(|k| k as f64 * sr / n_fft as f64).collect();
        // librosa.feature.spectral_contrast, band by band (including its one-bin overlaps).
        let mut contrast = Vec::with_capacity(CONTRAST_BANDS);
        for k in 0..CONTRAST_BANDS {
            let f_low = if k == 0 {
                0.0
            } else {
                CONTRAST_FMIN * 2f64.powi(k as i32 - 1)
            };
            let f_high = CONTRAST_FMIN * 2f64.powi(k as i32);
            let inside: Vec<usize> = (0..n_bins)
                .filter(|&i| freqs[i] >= f_low && freqs[i] <= f_high)
                .collect();
            let (Some(&first), Some(&last)) = (inside.first(), inside.last()) else {
                contrast.push(None);
                continue;
            };
            let mut lo = first;
            let mut hi = last + 1;
            if k > 0 && lo > 0 {
                lo -= 1;
            }
            if k == CONTRAST_BANDS - 1 {
                hi = n_bins;
            }
            let count = hi - lo;
            let k_ext = ((CONTRAST_QUANTILE * count as f64).round_ties_even() as usize).max(1);
            if k < CONTRAST_BANDS - 1 {
                hi -= 1;
            }
            contrast.push((hi > lo).then_some(ContrastBand {
                lo,
                hi,
                k: k_ext.min(hi - lo),
            }));
        }
        let bin_hz = sr / n_fft as f64;
        let wss: f64 = window.iter().map(|&w| (w as f64) * (w as f64)).sum();
        SpectralShape {
            freqs: freqs.iter().map(|&f| f as f32).collect(),
            contrast,
            peak_band: (
                bin_of(200.0, sr, n_fft, n_bins),
                bin_of(5000.0, sr, n_fft, n_bins),
            ),
            peak_halfwidth: ((64.0 / bin_hz).round() as usize).max(2),
            speech_band: (
                bin_of(300.0, sr, n_fft, n_bins),
                bin_of(3400.0, sr, n_fft, n_bins) + 1,
            ),
            ms_scale: (2.0 / (n_fft as f64 * wss.max(f64::MIN_POSITIVE))) as f32,
        }
    }

    pub fn freqs(&self) -> &[f32] {
        &self.freqs
    }

    /// Centroid, bandwidth (p = 2) and 85 % roll-off, in Hz, of a magnitude spectrum (librosa's
    /// definitions; all 0 for an all-zero spectrum).
    pub fn centroid_bandwidth_rolloff(&self, mag: &[f32]) -> (f32, f32, f32) {
        let total: f32 = mag.iter().sum();
        if total <= f32::MIN_POSITIVE {
            return (0.0, 0.0, 0.0);
        }
        let weighted: f32 = mag.iter().zip(&self.freqs).map(|(m, f)| m * f).sum();
        let centroid = weighted / total;
        let spread: f32 = mag
            .iter()
            .zip(&self.freqs)
            .map(|(m, f)| m * (f - centroid) * (f - centroid))
            .sum();
        let bandwidth = (spread / total).max(0.0).sqrt();
        let threshold = 0.85 * total;
        let mut cum = 0.0f32;
        let mut rolloff = self.freqs.last().copied().unwrap_or(0.0);
        for (m, f) in mag.iter().zip(&self.freqs) {
            cum += m;
            if cum >= threshold {
                rolloff = *f;
                break;
            }
        }
        (centroid, bandwidth, rolloff)
    }

    /// Mean square of the signal in the speech band (300 Hz - 3.4 kHz), from a power spectrum.
    pub fn speech_band_ms(&self, power: &[f32]) -> f32 {
        let (lo, hi) = self.speech_band;
        power.get(lo..hi).unwrap_or(&[]).iter().sum::<f32>() * self.ms_scale
    }

    /// Spectral contrast per octave band (librosa's, without its whole-signal `top_db` clip:
    /// `power_to_db(peak) - power_to_db(valley)` of magnitudes) into `out`, and the same with
    /// peak and valley floored at `floor_db` into `out_rel`. `buf` is scratch for wide bands.
    pub fn contrast(
        &self,
        mag: &[f32],
        buf: &mut Vec<f32>,
        out: &mut [f32],
        out_rel: &mut [f32],
        floor_db: f32,
    ) {
        for ((o, r), band) in out.iter_mut().zip(out_rel.iter_mut()).zip(&self.contrast) {
            (*o, *r) = match band {
                Some(b) => {
                    let (valley, peak) = extremes_means(&mag[b.lo..b.hi], b.k, buf);
                    let (v, p) = (power_to_db(valley), power_to_db(peak));
                    let rel = |x: f32| (10.0 * x.max(f32::MIN_POSITIVE).log10()).max(floor_db);
                    (p - v, rel(peak) - rel(valley))
                }
                None => (0.0, 0.0),
            };
        }
    }

    /// Harmonic peakiness in 200 Hz - 5 kHz: the share of the band's power that lies in spectral
    /// peaks (a local maximum over 6 dB above its ~±64 Hz neighbourhood, with its two neighbours).
    /// About 1 for a sum of sinusoids, a few percent for white noise; independent of level.
    /// `prefix` is scratch.
    pub fn peakiness(&self, power: &[f32], prefix: &mut Vec<f32>) -> f32 {
        let (lo, hi) = self.peak_band;
        let w = self.peak_halfwidth;
        let n = power.len();
        if hi <= lo + 2 || n < 3 {
            return 0.0;
        }
        let a = lo.saturating_sub(w);
        let b = (hi + w).min(n);
        prefix.clear();
        prefix.push(0.0);
        let mut acc = 0.0f32;
        for &p in &power[a..b] {
            acc += p;
            prefix.push(acc);
        }
        let total: f32 = power[lo..hi].iter().sum();
        if total <= AMIN {
            return 0.0;
        }
        let mut peaky = 0.0f32;
        for k in lo.max(1)..hi.min(n - 1) {
            let p = power[k];
            if p > power[k - 1] && p >= power[k + 1] {
                let (s, e) = (k.saturating_sub(w).max(a), (k + w + 1).min(b));
                let mean = (prefix[e - a] - prefix[s - a]) / (e - s) as f32;
                if p > 4.0 * mean {
                    peaky += power[k - 1] + p + power[k + 1];
                }
            }
        }
        (peaky / total).min(1.0)
    }
}

/// Spectral flatness of a power spectrum: geometric over arithmetic mean of `max(power, floor)`
/// (librosa `spectral_flatness`, power = 2, with `floor = AMIN`). The geometric mean comes from
/// summing exponents and multiplying mantissas, which avoids one logarithm per bin.
pub fn flatness(power: &[f32], floor: f32) -> f32 {
    // A normal float, so the exponent/mantissa split below holds.
    let floor = floor.max(f32::MIN_POSITIVE);
    if power.is_empty() {
        return 0.0;
    }
    let mut exps: i64 = 0;
    let mut acc = [1.0f64; 4];
    let mut arith = 0.0f64;
    for chunk in power.chunks(64) {
        let mut quads = chunk.chunks_exact(4);
        for q in &mut quads {
            for j in 0..4 {
                let v = q[j].max(floor);
                arith += v as f64;
                let bits = v.to_bits();
                exps += ((bits >> 23) & 0xff) as i64 - 127;
                acc[j] *= f32::from_bits((bits & 0x007f_ffff) | (127 << 23)) as f64;
            }
        }
        for &v in quads.remainder() {
            let v = v.max(floor);
            arith += v as f64;
            let bits = v.to_bits();
            exps += ((bits >> 23) & 0xff) as i64 - 127;
            acc[0] *= f32::from_bits((bits & 0x007f_ffff) | (127 << 23)) as f64;
        }
        // Each accumulator now holds at most 17 mantissas in [1, 2): fold its exponent out.
        for a in acc.iter_mut() {
            let bits = a.to_bits();
            exps += ((bits >> 52) & 0x7ff) as i64 - 1023;
            *a = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
        }
    }
    let log2_sum = exps as f64 + acc.iter().map(|a| a.log2()).sum::<f64>();
    let n = power.len() as f64;
    let gmean = (log2_sum / n * std::f64::consts::LN_2).exp();
    let amean = arith / n;
    if amean <= 0.0 {
        return 0.0;
    }
    (gmean / amean).clamp(0.0, 1.0) as f32
}

/// Means of the `k` smallest and `k` largest values of `v`.
fn extremes_means(v: &[f32], k: usize, buf: &mut Vec<f32>) -> (f32, f32) {
    let k = k.clamp(1, v.len().max(1));
    if v.is_empty() {
        return (0.0, 0.0);
    }
    if k > MAX_EXTREMES {
        buf.clear();
        buf.extend_from_slice(v);
        buf.select_nth_unstable_by(k - 1, f32::total_cmp);
        let low = buf[..k].iter().sum::<f32>() / k as f32;
        let n = buf.len();
        buf.select_nth_unstable_by(n - k, f32::total_cmp);
        let high = buf[n - k..].iter().sum::<f32>() / k as f32;
        return (low, high);
    }
    // Small k: keep sorted k-element lists; most values are rejected with one comparison.
    let mut low = [f32::INFINITY; MAX_EXTREMES];
    let mut high = [f32::NEG_INFINITY; MAX_EXTREMES];
    for &x in v {
        if x < low[k - 1] {
            let mut i = k - 1;
            while i > 0 && low[i - 1] > x {
                low[i] = low[i - 1];
                i -= 1;
            }
            low[i] = x;
        }
        if x > high[k - 1] {
            let mut i = k - 1;
            while i > 0 && high[i - 1] < x {
                high[i] = high[i - 1];
                i -= 1;
            }
            high[i] = x;
        }
    }
    let n = k.min(v.len());
    (
        low[..n].iter().sum::<f32>() / n as f32,
        high[..n].iter().sum::<f32>() / n as f32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatness_matches_direct_log_formula() {
        let p: Vec<f32> = (0..513)
            .map(|i| ((i * 37 % 101) as f32 + 0.5) * 1e-3)
            .collect();
        let n = p.len() as f64;
        let g = (p.iter().map(|&v| (v.max(AMIN) as f64).ln()).sum::<f64>() / n).exp();
        let a = p.iter().map(|&v| v as f64).sum::<f64>() / n;
        assert!((flatness(&p, AMIN) as f64 - g / a).abs() < 1e-6);
        assert_eq!(flatness(&[0.0; 513], AMIN), 1.0);
    }

    #[test]
    fn extremes_match_sorting() {
        let v: Vec<f32> = (0..200).map(|i| ((i * 73) % 199) as f32).collect();
        let mut s = v.clone();
        s.sort_by(f32::total_cmp);
        let mut buf = Vec::new();
        for k in [1, 2, 4, 16, 17, 40] {
            let (lo, hi) = extremes_means(&v, k, &mut buf);
            let elo = s[..k].iter().sum::<f32>() / k as f32;
            let ehi = s[s.len() - k..].iter().sum::<f32>() / k as f32;
            assert_eq!((lo, hi), (elo, ehi), "k = {k}");
        }
    }
}
