//! Beat continuity through a candidate change point: one recording keeps its beat grid across a
//! section change, two pieces crossfading almost never line theirs up.
//!
//! The onset envelope is the frame flux (`ln(1 + flux)`) less its mean over
//! [`BeatConfig::detrend_s`], rectified, then the maximum over ±[`BeatConfig::smear_s`] so a comb
//! tooth a frame or two off its onset still reads it. At a candidate time the envelope of
//! [`BeatConfig::side_s`] either side of a [`BeatConfig::guard_s`] gap (the crossfade) is searched
//! for the best comb: a period in [`BeatConfig::min_period_s`, `max_period_s`] and any phase, read
//! as the mean envelope under its teeth. Three bests are taken over the same combs: the side before,
//! the side after, and both sides at once with one phase carried through the gap. Their ratio,
//! `both / mean(before, after)`, is the **continuity**: near 1 when one grid serves both sides, lower
//! when each side needs its own tempo or phase.
//!
//! A piece without a beat (a drone, rubato strings) has a best comb that only picks noise, and its
//! continuity says nothing either way. A side's **strength** is how far its best-standing comb
//! rises above chance: the comb's mean less the side's mean envelope, in standard errors of a mean
//! of that many envelope values (`(mean - m) / sd * sqrt(teeth)`). Noise reads 3-4 whatever its
//! distribution (the best of some 10^5 combs), a synthetic steady beat 7-11, the sides of the
//! development novelty peaks 3.6-11.5. When either side is under [`BeatConfig::min_strength`] (5)
//! the reading is no evidence ([`BeatReading::continuity`] gives `None`): a beat that stops at the
//! change, or two beatless sides, neither keeps nor breaks a grid. The plain ratio of the best comb
//! to the mean envelope does not serve as strength: it is the noise's own tail (uniform noise 1.4,
//! exponential 2.0, the development peaks 1.8 and up).
//!
//! The period grid is geometric with a step small enough that a comb's teeth drift by under one
//! smear radius across both sides, so a tempo between grid periods is not under-read on the longer
//! two-sided span.

use crate::features::FeatureTrack;
use crate::timeline::Span;

/// Settings of the beat-continuity reading.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatConfig {
    /// Length of each side read, seconds.
    pub side_s: f64,
    /// Gap either side of the tested time that is not read (the crossfade), seconds.
    pub guard_s: f64,
    /// Shortest and longest comb period, seconds (240 to 40 beats a minute).
    pub min_period_s: f64,
    pub max_period_s: f64,
    /// The envelope is the maximum over this radius, seconds.
    pub smear_s: f64,
    /// The flux less its mean over this window, seconds (level and density changes are not onsets).
    pub detrend_s: f64,
    /// A side whose best comb stands fewer than this many standard errors above its mean envelope
    /// has no beat to carry, and the reading is no evidence (noise reads 3-4).
    pub min_strength: f64,
    /// A side needs this many seconds inside the run to be read.
    pub min_side_s: f64,
}

impl Default for BeatConfig {
    fn default() -> Self {
        BeatConfig {
            side_s: 10.0,
            guard_s: 1.5,
            min_period_s: 0.25,
            max_period_s: 1.5,
            smear_s: 0.02,
            detrend_s: 1.0,
            min_strength: 5.0,
            min_side_s: 4.0,
        }
    }
}

/// What the combs read at one candidate time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeatReading {
    /// Best two-sided comb over the mean of the two sides' own best combs (0 to about 1).
    pub ratio: f64,
    /// Each side's best comb in standard errors above its mean envelope (see the module doc).
    pub strength_before: f64,
    pub strength_after: f64,
}

impl BeatReading {
    /// The continuity, or `None` when a side has no beat (strength under `min_strength`).
    pub fn continuity(&self, min_strength: f64) -> Option<f64> {
        (self.strength_before >= min_strength && self.strength_after >= min_strength)
            .then_some(self.ratio)
    }
}

/// The onset envelope of a stem on its frame grid.
#[derive(Debug, Clone, Default)]
pub struct OnsetEnvelope {
    hop_s: f64,
    values: Vec<f32>,
}

impl OnsetEnvelope {
    /// Builds the envelope from the track's frame flux.
    pub fn of_track(track: &FeatureTrack, cfg: &BeatConfig) -> OnsetEnvelope {
        let hop_s = track.frame_hop_s;
        let n = track.frames.len();
        if hop_s <= 0.0 || n == 0 {
            return OnsetEnvelope::default();
        }
        // Two stem-long vectors at a time (prefix sums, then the rectified envelope and its
        // smear): the log flux is recomputed rather than kept, as this runs on a whole film.
        let log_flux = |i: usize| {
            let x = track.frames[i].flux.max(0.0) as f64;
            if x.is_finite() { x.ln_1p() } else { 0.0 }
        };
        let mut prefix = vec![0f64; n + 1];
        for i in 0..n {
            prefix[i + 1] = prefix[i] + log_flux(i);
        }
        let half = ((cfg.detrend_s / hop_s / 2.0).round() as usize).max(1);
        let rect: Vec<f32> = (0..n)
            .map(|i| {
                let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
                let mean = (prefix[b] - prefix[a]) / (b - a) as f64;
                (log_flux(i) - mean).max(0.0) as f32
            })
            .collect();
        drop(prefix);
        let r = (cfg.smear_s / hop_s).round() as usize;
        let values = (0..n)
            .map(|i| {
                rect[i.saturating_sub(r)..(i + r + 1).min(n)]
                    .iter()
                    .copied()
                    .fold(0f32, f32::max)
            })
            .collect();
        OnsetEnvelope { hop_s, values }
    }

    /// Reads the combs either side of `t`, the sides kept inside `run`; `None` when a side is
    /// shorter than [`BeatConfig::min_side_s`] or the periods do not fit.
    pub fn read(&self, run: &Span, t: f64, cfg: &BeatConfig) -> Option<BeatReading> {
        if self.values.is_empty() || self.hop_s <= 0.0 {
            return None;
        }
        let n = self.values.len() as f64;
        let frame = |s: f64| (s / self.hop_s).round().clamp(0.0, n) as usize;
        let lo = run.start_s.max(t - cfg.guard_s - cfg.side_s);
        let hi = run.end_s.min(t + cfg.guard_s + cfg.side_s);
        let (a0, a1) = (frame(lo), frame(t - cfg.guard_s));
        let (c0, c1) = (frame(t + cfg.guard_s), frame(hi));
        let min_side = (cfg.min_side_s / self.hop_s).round() as usize;
        if a1 < a0 + min_side.max(1) || c1 < c0 + min_side.max(1) {
            return None;
        }
        let (p_lo, p_hi) = (cfg.min_period_s / self.hop_s, cfg.max_period_s / self.hop_s);
        if !(p_lo >= 1.0 && p_hi >= p_lo) {
            return None;
        }
        let env = &self.values;
        // Drift across the whole span at most one smear radius (half a frame at least).
        let span = (c1 - a0) as f64;
        let tol = ((cfg.smear_s / self.hop_s).max(0.5)).min(p_lo / 4.0);
        // Mean and spread of each side's envelope: a comb of `k` teeth placed by chance reads the
        // mean, give or take the spread over sqrt(k).
        let moments = |a: usize, b: usize| {
            let n = (b - a) as f64;
            let s1 = env[a..b].iter().map(|&v| v as f64).sum::<f64>() / n;
            let s2 = env[a..b].iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n;
            (s1, (s2 - s1 * s1).max(0.0).sqrt())
        };
        let (mom_b, mom_a) = (moments(a0, a1), moments(c0, c1));
        let z = |(m, sd): (f64, f64), s: f64, k: usize| {
            if sd > 0.0 {
                (s - k as f64 * m) / (sd * (k as f64).sqrt())
            } else {
                0.0
            }
        };
        // Best comb mean before / after / both, and the best standard score of a comb on each side.
        let mut best = [0f64; 3];
        let mut strength = [0f64; 2];
        let mut p = p_lo;
        while p <= p_hi + 1e-9 {
            let phases = p.ceil() as usize;
            for phase in 0..phases {
                let (mut sb, mut nb, mut sa, mut na) = (0f64, 0usize, 0f64, 0usize);
                let mut x = a0 as f64 + phase as f64;
                while x < c1 as f64 {
                    let i = round_index(x);
                    if i < a1 {
                        sb += env[i] as f64;
                        nb += 1;
                    } else if i >= c0 && i < c1 {
                        sa += env[i] as f64;
                        na += 1;
                    }
                    x += p;
                }
                if nb > 0 && na > 0 {
                    best[0] = best[0].max(sb / nb as f64);
                    best[1] = best[1].max(sa / na as f64);
                    best[2] = best[2].max((sb + sa) / (nb + na) as f64);
                    strength[0] = strength[0].max(z(mom_b, sb, nb));
                    strength[1] = strength[1].max(z(mom_a, sa, na));
                }
            }
            // Next period: the teeth over the whole span move by at most `tol` frames.
            p += (2.0 * tol * p / span).max(1e-3);
        }
        let sides = 0.5 * (best[0] + best[1]);
        Some(BeatReading {
            ratio: if sides > 0.0 { best[2] / sides } else { 1.0 },
            strength_before: strength[0],
            strength_after: strength[1],
        })
    }
}

/// `x.round() as usize` for `x >= 0`, without the libm call that `f64::round` compiles to on the
/// baseline x86-64 target (no SSE4.1): the call, and the register spills around it, were a third of
/// the comb search's time. Truncation and the remainder are exact in floating point, so the index
/// is the same for every `x`, half-way points included (ties away from zero, like `round`).
#[inline]
fn round_index(x: f64) -> usize {
    let whole = x as usize;
    whole + usize::from(x - whole as f64 >= 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::music::tests::Noise;
    use crate::features::FrameSummary;

    /// A frame track `len_s` long whose flux is noise plus, where `beat(t)` gives a period and a
    /// phase (seconds), a 30 ms onset on each beat.
    fn track(len_s: f64, beat: impl Fn(f64) -> Option<(f64, f64)>) -> FeatureTrack {
        let hop = 0.01;
        let mut noise = Noise(0x2545_f491_4f6c_dd1d);
        let frames = (0..(len_s / hop) as usize)
            .map(|i| {
                let t = i as f64 * hop;
                let on = beat(t).is_some_and(|(p, ph)| (t - ph).rem_euclid(p) < 0.03);
                FrameSummary {
                    flux: 1.0 - (1.0 - noise.unit()).ln() + if on { 4.0 } else { 0.0 },
                    ..Default::default()
                }
            })
            .collect();
        FeatureTrack {
            frame_hop_s: hop,
            frames,
            ..Default::default()
        }
    }

    fn read(track: &FeatureTrack) -> BeatReading {
        let cfg = BeatConfig::default();
        OnsetEnvelope::of_track(track, &cfg)
            .read(&Span::new(0.0, 60.0), 30.0, &cfg)
            .unwrap()
    }

    const MIN_STRENGTH: f64 = 5.0;

    #[test]
    fn one_beat_grid_through_the_gap_reads_full_continuity() {
        let r = read(&track(60.0, |_| Some((0.5, 0.1))));
        assert!(
            r.continuity(MIN_STRENGTH).is_some_and(|c| c > 0.98),
            "{r:?}"
        );
    }

    #[test]
    fn a_phase_jump_at_the_same_tempo_breaks_the_grid() {
        // The same 0.6 s beat, half a beat later after the change.
        let r = read(&track(60.0, |t| {
            Some((0.6, if t < 30.0 { 0.1 } else { 0.4 }))
        }));
        assert!(r.continuity(MIN_STRENGTH).is_some_and(|c| c < 0.8), "{r:?}");
    }

    #[test]
    fn two_tempi_read_low_continuity() {
        let r = read(&track(60.0, |t| {
            Some(if t < 30.0 { (0.5, 0.1) } else { (0.7, 0.3) })
        }));
        assert!(r.continuity(MIN_STRENGTH).is_some_and(|c| c < 0.8), "{r:?}");
    }

    #[test]
    fn a_tempo_between_grid_periods_is_not_under_read() {
        // 0.4837 s: off any round number of 10 ms frames; the teeth must not drift off the onsets
        // across the 23 s span.
        let r = read(&track(60.0, |_| Some((0.4837, 0.05))));
        assert!(
            r.continuity(MIN_STRENGTH).is_some_and(|c| c > 0.97),
            "{r:?}"
        );
    }

    #[test]
    fn sides_without_a_beat_give_no_evidence() {
        // Noise alone: the best comb picks chance peaks and its continuity is meaningless.
        assert_eq!(read(&track(60.0, |_| None)).continuity(MIN_STRENGTH), None);
        // A beat that stops at the change: one side has nothing to carry.
        let r = read(&track(60.0, |t| (t < 30.0).then_some((0.5, 0.1))));
        assert_eq!(r.continuity(MIN_STRENGTH), None, "{r:?}");
    }

    #[test]
    fn the_default_strength_floor_is_the_one_these_specifications_use() {
        assert_eq!(BeatConfig::default().min_strength, MIN_STRENGTH);
    }

    #[test]
    fn the_comb_index_is_the_rounded_position() {
        let mut rng = crate::rng::Rng::new(7);
        let halves = (0..2000).map(|k| k as f64 * 0.5);
        let near_halves = (0..2000).flat_map(|k| {
            let h = k as f64 + 0.5;
            [h.next_down(), h.next_up()]
        });
        let random = (0..100_000).map(|_| rng.range(0.0, 1.0e6));
        for x in halves.chain(near_halves).chain(random) {
            assert_eq!(round_index(x), x.round() as usize, "{x:e}");
        }
    }

    #[test]
    fn a_side_shorter_than_the_minimum_is_not_read() {
        let cfg = BeatConfig::default();
        let env = OnsetEnvelope::of_track(&track(60.0, |_| Some((0.5, 0.1))), &cfg);
        assert!(env.read(&Span::new(27.0, 60.0), 30.0, &cfg).is_none());
        assert!(
            OnsetEnvelope::default()
                .read(&Span::new(0.0, 60.0), 30.0, &cfg)
                .is_none()
        );
    }
}
