//! Gated statistics over runs of a [`LoudnessTrace`]: integrated loudness (BS.1770-4), loudness
//! range (EBU Tech 3342 v3) and peaks, computed the way a reference meter computes them on a whole
//! signal (libebur128 for integrated loudness, ffmpeg's `ebur128` filter for the loudness range), so
//! that a segment's figures equal those of the reference run on that segment alone.

use super::{BLOCK_STEPS, LoudnessStats, LoudnessTrace, SHORT_TERM_STEPS};

/// Energy of -70 LUFS: blocks below it are not counted (absolute gate).
pub const ABSOLUTE_GATE_ENERGY: f64 = 1.172_465_304_582_298e-7;
/// -10 LU relative gate for integrated loudness, as an energy factor.
const RELATIVE_GATE_INTEGRATED: f64 = 0.1;
/// -20 LU relative gate for loudness range, as an energy factor.
const RELATIVE_GATE_LRA: f64 = 0.01;

/// LUFS of a mean-square K-weighted energy; `None` for zero (digital silence) or invalid values.
pub fn energy_to_lufs(energy: f64) -> Option<f64> {
    (energy > 0.0 && energy.is_finite()).then(|| 10.0 * energy.log10() - 0.691)
}

/// dB of a linear peak; `None` for zero.
fn peak_db(peak: f32) -> Option<f64> {
    (peak > 0.0 && peak.is_finite()).then(|| 20.0 * (peak as f64).log10())
}

/// Figures over the disjoint, sorted step runs `[first, end)`.
pub fn stats(trace: &LoudnessTrace, runs: &[(usize, usize)]) -> LoudnessStats {
    LoudnessStats {
        integrated_lufs: integrated(trace, runs),
        lra_lu: loudness_range(trace, runs),
        sample_peak_dbfs: max_over(&trace.sample_peak, runs).and_then(peak_db),
        true_peak_dbtp: trace
            .true_peak
            .as_ref()
            .and_then(|tp| max_over(tp, runs))
            .and_then(peak_db),
    }
}

/// Gated mean of the 400 ms blocks wholly inside the runs, LUFS.
pub fn integrated(trace: &LoudnessTrace, runs: &[(usize, usize)]) -> Option<f64> {
    let blocks = runs.iter().flat_map(|&(a, b)| {
        let first = a + BLOCK_STEPS - 1;
        trace
            .momentary
            .get(first.min(b)..b.min(trace.momentary.len()))
            .unwrap_or(&[])
            .iter()
            .map(|&e| e as f64)
    });
    gated_mean(blocks)
}

/// Two-stage gating (absolute, then -10 LU relative) of block energies.
pub fn gated_mean(blocks: impl Iterator<Item = f64> + Clone) -> Option<f64> {
    relative_gated_energy(blocks.filter(|&e| e >= ABSOLUTE_GATE_ENERGY)).and_then(energy_to_lufs)
}

/// The relative gate alone: the mean of the energies at or above -10 LU under their mean (0.1
/// times it), `None` when there are none. Relative only, so it reads a signal the same at any
/// level; [`gated_mean`] puts the absolute gate in front of it.
pub fn relative_gated_energy(energies: impl Iterator<Item = f64> + Clone) -> Option<f64> {
    let (n, sum) = energies
        .clone()
        .fold((0usize, 0.0), |(n, s), e| (n + 1, s + e));
    if n == 0 {
        return None;
    }
    let threshold = (sum / n as f64) * RELATIVE_GATE_INTEGRATED;
    let (n, sum) = energies
        .filter(|&e| e >= threshold)
        .fold((0usize, 0.0), |(n, s), e| (n + 1, s + e));
    (n > 0).then(|| sum / n as f64)
}

/// Loudness range over the short-term blocks inside the runs, LU: every 100 ms step from 3 s after
/// each run's start (EBU Tech 3342 v3 asks for blocks overlapping by at least 2.9 s, i.e. 10 Hz;
/// ffmpeg's `ebur128` filter does the same, libebur128 takes one per second).
pub fn loudness_range(trace: &LoudnessTrace, runs: &[(usize, usize)]) -> Option<f64> {
    let mut values: Vec<f64> = runs
        .iter()
        .flat_map(|&(a, b)| {
            let b = b.min(trace.short_term.len());
            (a + SHORT_TERM_STEPS - 1..b).map(|i| trace.short_term[i] as f64)
        })
        .filter(|&e| e >= ABSOLUTE_GATE_ENERGY)
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let power = values.iter().sum::<f64>() / values.len() as f64;
    let threshold = power * RELATIVE_GATE_LRA;
    let gated = &values[values.partition_point(|&v| v < threshold)..];
    // Nearest-rank percentiles as ffmpeg's ebur128 filter takes them: the k-th smallest value with
    // k = round(p * n) (at least the first), so that short measurements agree with it.
    let rank =
        |p: f64| ((p * gated.len() as f64).round_ties_even() as usize).clamp(1, gated.len()) - 1;
    let high = *gated.get(rank(0.95))?;
    let low = *gated.get(rank(0.10))?;
    Some(energy_to_lufs(high)? - energy_to_lufs(low)?)
}

fn max_over(values: &[f32], runs: &[(usize, usize)]) -> Option<f32> {
    runs.iter()
        .flat_map(|&(a, b)| {
            values
                .get(a.min(values.len())..b.min(values.len()))
                .unwrap_or(&[])
        })
        .copied()
        .reduce(f32::max)
}
