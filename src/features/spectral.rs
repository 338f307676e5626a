//! Scalar descriptors of one spectrum: centroid, bandwidth, roll-off, flatness, contrast (as librosa
//! defines them, for comparison), band energy, and harmonic peakiness in 200 Hz - 5 kHz.

use super::lanes::{self, LANES};
use super::mel::{AMIN, log10, power_to_db};

/// Number of spectral-contrast values (librosa's `n_bands = 6` octave bands plus the top band).
pub const CONTRAST_BANDS: usize = 7;
const CONTRAST_FMIN: f64 = 200.0;
const CONTRAST_QUANTILE: f64 = 0.02;
/// Above this many bins per side, contrast falls back to a copy and a selection.
const MAX_EXTREMES: usize = 16;
/// Mantissa bits of an `f32`, and the exponent bits of 1.0.
const MANTISSA: u32 = 0x007f_ffff;
const ONE: u32 = 127 << 23;
/// Values per lane between renormalisations of the flatness mantissa products (each < 2).
const FLATNESS_RENORM: usize = 64 * LANES;
/// Interleaved groups in the contrast bounds (at least `MAX_EXTREMES`).
const GROUPS: usize = 2 * MAX_EXTREMES;
/// Bins per block in the roll-off search.
const ROLLOFF_BLOCK: usize = 32;

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
    #[inline(always)]
    pub fn centroid_bandwidth_rolloff(&self, mag: &[f32]) -> (f32, f32, f32) {
        let Some((total, centroid, rolloff)) = self.moments(mag) else {
            return (0.0, 0.0, 0.0);
        };
        let n = mag.len().min(self.freqs.len());
        let (m8, m_rest) = mag[..n].as_chunks::<LANES>();
        let (f8, f_rest) = self.freqs[..n].as_chunks::<LANES>();
        // The tail padded with zero magnitudes (see `lanes::padded`).
        let tail = (lanes::padded(m_rest, 0.0), lanes::padded(f_rest, 0.0));
        let tail = (!m_rest.is_empty()).then_some((&tail.0, &tail.1));
        let mut acc = [0.0f32; LANES];
        for (m, f) in m8.iter().zip(f8).chain(tail) {
            for j in 0..LANES {
                let d = f[j] - centroid;
                acc[j] += m[j] * d * d;
            }
        }
        let bandwidth = (lanes::fold(acc) / total).max(0.0).sqrt();
        (centroid, bandwidth, rolloff)
    }

    /// Centroid and 85 % roll-off, in Hz, of a magnitude spectrum (both 0 for an all-zero one).
    #[inline(always)]
    pub fn centroid_rolloff(&self, mag: &[f32]) -> (f32, f32) {
        self.moments(mag).map_or((0.0, 0.0), |(_, c, r)| (c, r))
    }

    /// Sum, centroid and roll-off of a magnitude spectrum; None when it is all zero.
    #[inline(always)]
    fn moments(&self, mag: &[f32]) -> Option<(f32, f32, f32)> {
        let (total, weighted) = lanes::sum_and_dot(mag, &self.freqs);
        if total <= f32::MIN_POSITIVE {
            return None;
        }
        let centroid = weighted / total;
        // The first bin where the running sum reaches 85 %: whole blocks are skipped on their
        // (lane) sums, and only the block that crosses is scanned bin by bin.
        let threshold = 0.85 * total;
        let mut cum = 0.0f32;
        let mut rolloff = self.freqs.last().copied().unwrap_or(0.0);
        'blocks: for (b, block) in mag.chunks(ROLLOFF_BLOCK).enumerate() {
            let s = lanes::sum(block);
            if cum + s < threshold {
                cum += s;
                continue;
            }
            for (i, m) in block.iter().enumerate() {
                cum += m;
                if cum >= threshold {
                    rolloff = self.freqs[b * ROLLOFF_BLOCK + i];
                    break 'blocks;
                }
            }
        }
        Some((total, centroid, rolloff))
    }

    /// Mean square of the signal in the speech band (300 Hz - 3.4 kHz), from a power spectrum.
    #[inline(always)]
    pub fn speech_band_ms(&self, power: &[f32]) -> f32 {
        let (lo, hi) = self.speech_band;
        lanes::sum(power.get(lo..hi).unwrap_or(&[])) * self.ms_scale
    }

    /// Spectral contrast per octave band (librosa's, without its whole-signal `top_db` clip:
    /// `power_to_db(peak) - power_to_db(valley)` of magnitudes) into `out`, and the same with
    /// peak and valley floored at `floor_db` into `out_rel`. `buf` is scratch for wide bands.
    #[inline(always)]
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
                    let (v, v_rel) = db_pair(valley, floor_db);
                    let (p, p_rel) = db_pair(peak, floor_db);
                    (p - v, p_rel - v_rel)
                }
                None => (0.0, 0.0),
            };
        }
    }

    /// Harmonic peakiness in 200 Hz - 5 kHz: the share of the band's power that lies in spectral
    /// peaks (a local maximum over 6 dB above its ~±64 Hz neighbourhood, with its two neighbours).
    /// About 1 for a sum of sinusoids, a few percent for white noise; independent of level.
    #[inline(always)]
    pub fn peakiness(&self, power: &[f32]) -> f32 {
        let (lo, hi) = self.peak_band;
        let w = self.peak_halfwidth;
        let n = power.len();
        if hi <= lo + 2 || n < 3 {
            return 0.0;
        }
        let total = lanes::sum(&power[lo..hi]);
        if total <= AMIN {
            return 0.0;
        }
        // Candidate peaks are bins k0..k1; neighbourhoods k - w ..= k + w are clipped to a..b.
        let (a, b) = (lo.saturating_sub(w), (hi + w).min(n));
        let (k0, k1) = (lo.max(1), hi.min(n - 1));
        if k0 >= k1 {
            return 0.0;
        }
        // A peak stands over 6 dB above its neighbourhood's mean: p > 4 sum / count, compared as
        // p * count > 4 sum (no division). Each sum adds the neighbourhood in bin order.
        let contribution = |k: usize| {
            let (s, e) = (k.saturating_sub(w).max(a), (k + w + 1).min(b));
            let sum = power[s..e].iter().fold(0.0f32, |acc, &p| acc + p);
            let (l, p, r) = (power[k - 1], power[k], power[k + 1]);
            if (p > l) & (p >= r) & (p * (e - s) as f32 > 4.0 * sum) {
                l + p + r
            } else {
                0.0
            }
        };
        // Bins whose neighbourhood is not clipped, eight at a time, branch-free.
        let ki0 = (a + w).clamp(k0, k1);
        let ki1 = b.saturating_sub(w + 1).clamp(ki0, k1);
        let count = (2 * w + 1) as f32;
        let mut peaky = [0.0f32; LANES];
        let mut k = ki0;
        while k + LANES <= ki1 {
            let mut sum = [0.0f32; LANES];
            for d in 0..=2 * w {
                let src = &power[k + d - w..k + d - w + LANES];
                for j in 0..LANES {
                    sum[j] += src[j];
                }
            }
            let (l, p, r) = (
                &power[k - 1..k - 1 + LANES],
                &power[k..k + LANES],
                &power[k + 1..k + 1 + LANES],
            );
            for j in 0..LANES {
                let hit = (p[j] > l[j]) & (p[j] >= r[j]) & (p[j] * count > 4.0 * sum[j]);
                peaky[j] += if hit { l[j] + p[j] + r[j] } else { 0.0 };
            }
            k += LANES;
        }
        // The rest one by one: the interior's tail, and clipped neighbourhoods at the edges.
        let rest: f32 = (k..ki1)
            .chain(k0..ki0)
            .chain(ki1..k1)
            .map(contribution)
            .sum();
        ((lanes::fold(peaky) + rest) / total).min(1.0)
    }
}

/// `10 log10` of a (magnitude) value twice: floored at [`AMIN`] as librosa's `power_to_db`, and
/// floored at `floor_db` (the level-independent variant). One logarithm serves both.
#[inline(always)]
fn db_pair(x: f32, floor_db: f32) -> (f32, f32) {
    let db = 10.0 * log10(x.max(f32::MIN_POSITIVE));
    let absolute = if x >= AMIN { db } else { power_to_db(AMIN) };
    (absolute, db.max(floor_db))
}

/// Spectral flatness of a power spectrum: geometric over arithmetic mean of `max(power, floor)`
/// (librosa `spectral_flatness`, power = 2, with `floor = AMIN`).
#[inline(always)]
pub fn flatness(power: &[f32], floor: f32) -> f32 {
    flatness_n(power, [floor])[0]
}

/// [`flatness`] with `F` floors at once (one pass over the spectrum).
///
/// The geometric mean comes from summing exponents and multiplying mantissas (in eight lanes,
/// renormalised every `FLATNESS_RENORM` values so the products stay far from overflow), which
/// avoids one logarithm per bin; logarithms are taken of the eight lane products only.
#[inline(always)]
pub fn flatness_n<const F: usize>(power: &[f32], floors: [f32; F]) -> [f32; F] {
    if power.is_empty() {
        return [0.0; F];
    }
    // Normal floats, so the exponent/mantissa split below holds.
    let floors = floors.map(|f| f.max(f32::MIN_POSITIVE));
    let mut arith = [[0.0f32; LANES]; F];
    let mut mant = [[1.0f32; LANES]; F];
    let mut exps = [[0i32; LANES]; F];
    // One group of eight floored values into the lanes. The exponents are summed biased (the
    // bias comes off once at the end), so a padding value of 0 adds 0 to every sum and
    // multiplies the products by 1: a padded tail gives exactly the result of a scalar one.
    #[inline(always)]
    fn step(
        v: [f32; LANES],
        arith: &mut [f32; LANES],
        exps: &mut [i32; LANES],
        mant: &mut [f32; LANES],
    ) {
        for j in 0..LANES {
            arith[j] += v[j];
        }
        for j in 0..LANES {
            exps[j] += (v[j].to_bits() >> 23) as i32;
        }
        for j in 0..LANES {
            mant[j] *= f32::from_bits((v[j].to_bits() & MANTISSA) | ONE);
        }
    }
    for block in power.chunks(FLATNESS_RENORM) {
        let (chunks, rest) = block.as_chunks::<LANES>();
        for c in chunks {
            for f in 0..F {
                let v = c.map(|x| lanes::max(x, floors[f]));
                step(v, &mut arith[f], &mut exps[f], &mut mant[f]);
            }
        }
        if !rest.is_empty() {
            for f in 0..F {
                let v = std::array::from_fn(|j| match rest.get(j) {
                    Some(&x) => lanes::max(x, floors[f]),
                    None => 0.0,
                });
                step(v, &mut arith[f], &mut exps[f], &mut mant[f]);
            }
        }
        // Fold the products' exponents out: each mantissa is back in [1, 2).
        for (m, e) in mant.iter_mut().zip(exps.iter_mut()) {
            for j in 0..LANES {
                let bits = m[j].to_bits();
                e[j] += (bits >> 23) as i32 - 127;
                m[j] = f32::from_bits((bits & MANTISSA) | ONE);
            }
        }
    }
    let n = power.len() as f64;
    std::array::from_fn(|f| {
        let bias = 127.0 * n;
        let log2_sum: f64 = exps[f].iter().map(|&e| e as f64).sum::<f64>() - bias
            + mant[f].iter().map(|&m| (m as f64).log2()).sum::<f64>();
        let gmean = (log2_sum / n * std::f64::consts::LN_2).exp();
        let amean = lanes::fold(arith[f]) as f64 / n;
        if amean <= 0.0 {
            0.0
        } else {
            (gmean / amean).clamp(0.0, 1.0) as f32
        }
    })
}

/// Means of the `k` smallest and `k` largest values of `v`.
#[inline(always)]
fn extremes_means(v: &[f32], k: usize, buf: &mut Vec<f32>) -> (f32, f32) {
    let k = k.clamp(1, v.len().max(1));
    if v.is_empty() {
        return (0.0, 0.0);
    }
    // The list length is a constant in each arm, so the lists live in registers.
    match k {
        1 => lanes::min_max(v),
        2 => extremes::<2>(v),
        3 => extremes::<3>(v),
        4 => extremes::<4>(v),
        5 => extremes::<5>(v),
        6 => extremes::<6>(v),
        7 => extremes::<7>(v),
        8 => extremes::<8>(v),
        9 => extremes::<9>(v),
        10 => extremes::<10>(v),
        11 => extremes::<11>(v),
        12 => extremes::<12>(v),
        13 => extremes::<13>(v),
        14 => extremes::<14>(v),
        15 => extremes::<15>(v),
        16 => extremes::<16>(v),
        _ => {
            buf.clear();
            buf.extend_from_slice(v);
            buf.select_nth_unstable_by(k - 1, f32::total_cmp);
            let low = buf[..k].iter().sum::<f32>() / k as f32;
            let n = buf.len();
            buf.select_nth_unstable_by(n - k, f32::total_cmp);
            let high = buf[n - k..].iter().sum::<f32>() / k as f32;
            (low, high)
        }
    }
}

/// Means of the `K` smallest and `K` largest values of `v` (`K <= v.len()`), through sorted
/// `K`-element lists.
///
/// Split the values into [`GROUPS`] interleaved groups (value i in group i % GROUPS): each group
/// holds its own minimum, so the K-th smallest group minimum bounds the K smallest values from
/// above (likewise for the largest). A vectorised pass finds the group extremes, hence the
/// bounds; only the chunks holding a value beyond a bound are inserted into the lists. The lists,
/// hence the means, are exactly those of inserting every value.
#[inline(always)]
fn extremes<const K: usize>(v: &[f32]) -> (f32, f32) {
    let mut low = [f32::INFINITY; K];
    let mut high = [f32::NEG_INFINITY; K];
    if v.len() < 2 * GROUPS {
        for &x in v {
            insert_low(x, &mut low);
            insert_high(x, &mut high);
        }
    } else {
        let mut gmin = [f32::INFINITY; GROUPS];
        let mut gmax = [f32::NEG_INFINITY; GROUPS];
        let mut rows = v.chunks_exact(GROUPS);
        for row in &mut rows {
            for j in 0..GROUPS {
                gmin[j] = lanes::min(gmin[j], row[j]);
                gmax[j] = lanes::max(gmax[j], row[j]);
            }
        }
        for (j, &x) in rows.remainder().iter().enumerate() {
            gmin[j] = lanes::min(gmin[j], x);
            gmax[j] = lanes::max(gmax[j], x);
        }
        for j in 0..GROUPS {
            insert_low(gmin[j], &mut low);
            insert_high(gmax[j], &mut high);
        }
        let (t_low, t_high) = (low[K - 1], high[K - 1]);
        low = [f32::INFINITY; K];
        high = [f32::NEG_INFINITY; K];
        for chunk in v.chunks(LANES) {
            // Non-short-circuit tests over the chunk: vectorised, and rarely true.
            if chunk.iter().fold(false, |acc, &x| acc | (x <= t_low)) {
                for &x in chunk {
                    insert_low(x, &mut low);
                }
            }
            if chunk.iter().fold(false, |acc, &x| acc | (x >= t_high)) {
                for &x in chunk {
                    insert_high(x, &mut high);
                }
            }
        }
    }
    (
        low.iter().sum::<f32>() / K as f32,
        high.iter().sum::<f32>() / K as f32,
    )
}

/// Inserts `x` into `low`, ascending, dropping its largest value: afterwards `low` holds the
/// smallest of `low` and `x`. Branch-free: the i-th smallest of the union is
/// `max(low[i - 1], min(low[i], x))`.
#[inline(always)]
fn insert_low<const K: usize>(x: f32, low: &mut [f32; K]) {
    let mut prev = f32::NEG_INFINITY;
    for v in low.iter_mut() {
        let cur = *v;
        *v = lanes::max(prev, lanes::min(cur, x));
        prev = cur;
    }
}

/// [`insert_low`] for `high`, descending: it keeps the largest values.
#[inline(always)]
fn insert_high<const K: usize>(x: f32, high: &mut [f32; K]) {
    let mut prev = f32::INFINITY;
    for v in high.iter_mut() {
        let cur = *v;
        *v = lanes::min(prev, lanes::max(cur, x));
        prev = cur;
    }
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

    /// Peakiness straight from its definition, in f64.
    fn naive_peakiness(shape: &SpectralShape, power: &[f32]) -> f32 {
        let (lo, hi) = shape.peak_band;
        let w = shape.peak_halfwidth;
        let n = power.len();
        let (a, b) = (lo.saturating_sub(w), (hi + w).min(n));
        let total: f64 = power[lo..hi].iter().map(|&p| p as f64).sum();
        let mut peaky = 0.0f64;
        for k in lo.max(1)..hi.min(n - 1) {
            let (s, e) = (k.saturating_sub(w).max(a), (k + w + 1).min(b));
            let mean = power[s..e].iter().map(|&p| p as f64).sum::<f64>() / (e - s) as f64;
            let (l, p, r) = (power[k - 1], power[k], power[k + 1]);
            if p > l && p >= r && p as f64 > 4.0 * mean {
                peaky += (l + p + r) as f64;
            }
        }
        (peaky / total).min(1.0) as f32
    }

    #[test]
    fn peakiness_follows_its_definition_including_clipped_neighbourhoods() {
        let mut x = 99u32;
        for (sr, n_fft) in [
            (4000u32, 64usize),
            (8000, 256),
            (16_000, 1024),
            (22_050, 2048),
        ] {
            let shape = SpectralShape::new(sr, n_fft, &crate::features::stft::hann(n_fft));
            for trial in 0..20 {
                let power: Vec<f32> = (0..n_fft / 2 + 1)
                    .map(|i| {
                        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        let noise = (x >> 8) as f32 / (1u32 << 24) as f32;
                        // Harmonic peaks every 11 bins on some trials.
                        let peak = if trial % 2 == 0 && i % 11 == 5 {
                            50.0
                        } else {
                            0.0
                        };
                        noise + peak
                    })
                    .collect();
                let (fast, naive) = (shape.peakiness(&power), naive_peakiness(&shape, &power));
                assert!(
                    (fast - naive).abs() < 1e-5,
                    "{sr} Hz / {n_fft}, trial {trial}: {fast} vs {naive}"
                );
            }
        }
    }

    #[test]
    fn extremes_match_sorting() {
        let mut buf = Vec::new();
        // Lengths on both sides of the grouped path (2 * GROUPS), values with ties.
        for len in [5usize, 20, 63, 64, 65, 200] {
            let v: Vec<f32> = (0..len).map(|i| ((i * 73) % 61) as f32).collect();
            let mut s = v.clone();
            s.sort_by(f32::total_cmp);
            for k in [1, 2, 3, 4, 7, 16, 17, 40]
                .into_iter()
                .filter(|&k| k <= len)
            {
                let (lo, hi) = extremes_means(&v, k, &mut buf);
                let elo = s[..k].iter().sum::<f32>() / k as f32;
                let ehi = s[len - k..].iter().sum::<f32>() / k as f32;
                assert_eq!((lo, hi), (elo, ehi), "len {len}, k {k}");
            }
        }
    }
}
