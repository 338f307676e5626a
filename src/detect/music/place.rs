//! Learned placement of a segue's change point: a correction, seconds, added to the point
//! [`super::novelty::refine_change_points`] placed, read from the novelty curves around it and the
//! level step across it.
//!
//! The 6 s windows that place a change point peak off the crossfade middle in ways that depend on
//! the two pieces: a segue into a much quieter piece is placed late, the quieter piece settling only
//! after the ramps (see the module doc of [`super`]), and the curves' shapes at 3, 4, 6 and 12 s
//! tell a sharp change from a drawn-out one. No single rule over these gained on both the generated
//! and the reel sets, so a ridge regression learns the correction from them: the inputs are each
//! scale's novelty at -2..2 s around the point in 0.25 s steps over that scale's run median, and the
//! level step (80th percentile of the usable windows' level 2-8 s after, less 2-8 s before, clipped
//! to ±15 dB, as is and as its positive and negative parts). The weights
//! (`models/segue-place-v1.json`) were fitted on segues that share no source with the reels: the
//! generated set g (8 stems of 30 min, 196 segues found) and 120 isolated crossfades (108 found);
//! the target is the truth crossfade middle less the found point, clipped to ±1.5 s, and the
//! correction is capped at ±1 s. Beyond the range of curve inputs seen in training (over 7.5x a
//! scale's median; real segues read up to 7.4) the point is left where it is: the synthetic
//! feature-level pieces of the tests, stationary noise, read 20-28x, and a linear model of 71
//! inputs extrapolated that far swings to its cap either way with a 0.125 s move of the grid.
//! Training and evaluation: `/tmp/lead/place19/data.py`,
//! `models.py`, `export.py` (session 19); see the README of `models/`.

use serde::Deserialize;
use std::sync::OnceLock;

use crate::timeline::Span;

use super::novelty::{Descriptors, NoveltyConfig, novelty_curve};

/// The placement model shipped with this build.
pub const BUILTIN_PLACE_JSON: &str = include_str!("../../../models/segue-place-v1.json");

/// A linear placement model (standardisation folded into the weights).
#[derive(Debug, Clone, Deserialize)]
pub struct PlaceModel {
    pub format: String,
    pub format_version: u32,
    /// Window lengths of the novelty curves read, seconds.
    pub scales_s: Vec<f64>,
    /// Where each curve is read, seconds from the change point.
    pub offsets_s: Vec<f64>,
    /// Each side of a scale's test needs this many seconds of usable windows.
    pub min_side_s: f64,
    /// The level step compares windows whose centres lie between these distances either side.
    pub step_near_s: f64,
    pub step_far_s: f64,
    pub step_percentile: f64,
    /// Fewer usable windows than this on a side: no step (0 dB).
    pub step_min_windows: usize,
    pub step_clip_db: f64,
    /// The correction is capped at this, seconds.
    pub max_shift_s: f64,
    /// A curve input above this lies outside what the model was trained on (largest in training
    /// 7.41): no correction there.
    pub max_curve_input: f64,
    /// One row per scale, one weight per offset.
    pub weights_curve: Vec<Vec<f64>>,
    /// Weights of the step (dB / 10), its positive part and its negative part.
    pub weights_step: Vec<f64>,
    pub intercept: f64,
}

impl PlaceModel {
    /// Parses a model and checks its shapes.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let m: PlaceModel = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if m.format != "stemscope-segue-place" || m.format_version != 1 {
            return Err(format!("format {} v{}", m.format, m.format_version));
        }
        if m.weights_curve.len() != m.scales_s.len()
            || m.weights_curve.iter().any(|w| w.len() != m.offsets_s.len())
            || m.weights_step.len() != 3
        {
            return Err("inconsistent shapes".into());
        }
        Ok(m)
    }

    /// The built-in model (parsed once).
    pub fn builtin() -> &'static PlaceModel {
        static MODEL: OnceLock<PlaceModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            PlaceModel::from_json(BUILTIN_PLACE_JSON).expect("models/segue-place-v1.json is valid")
        })
    }

    /// Change points of one run moved by the model. `curve` is the run's novelty curve with the
    /// detector's own windows: its tested points are where the other scales are read.
    pub fn place(
        &self,
        d: &Descriptors,
        run: &Span,
        curve: &[(f64, f64)],
        splits: Vec<f64>,
        cfg: &NoveltyConfig,
    ) -> Vec<f64> {
        if splits.is_empty() || curve.is_empty() || d.hop_s <= 0.0 {
            return splits;
        }
        let scales = self.scale_values(d, run, curve, cfg);
        splits
            .into_iter()
            .map(|t| t + self.shift(&self.inputs(d, curve, &scales, t)))
            .collect()
    }

    /// The correction for one change point's inputs (see [`PlaceModel::inputs`]), seconds; 0 when
    /// a curve input lies beyond the trained range.
    pub fn shift(&self, inputs: &[f64]) -> f64 {
        let n_curve = self.scales_s.len() * self.offsets_s.len();
        if inputs[..n_curve.min(inputs.len())]
            .iter()
            .any(|&x| x > self.max_curve_input)
        {
            return 0.0;
        }
        let weights = self
            .weights_curve
            .iter()
            .flatten()
            .chain(&self.weights_step);
        let y = self.intercept + inputs.iter().zip(weights).map(|(x, w)| x * w).sum::<f64>();
        y.clamp(-self.max_shift_s, self.max_shift_s)
    }

    /// Each scale's novelty at the points of `curve` (0 where a side is too short), and its median
    /// over the points that have a value.
    pub fn scale_values(
        &self,
        d: &Descriptors,
        run: &Span,
        curve: &[(f64, f64)],
        cfg: &NoveltyConfig,
    ) -> Vec<(Vec<f64>, f64)> {
        let tol = d.hop_s / 4.0;
        self.scales_s
            .iter()
            .map(|&w| {
                let c = novelty_curve(
                    d,
                    run,
                    &NoveltyConfig {
                        window_s: w,
                        min_side_s: self.min_side_s,
                        ..cfg.clone()
                    },
                );
                let vals: Vec<f64> = curve
                    .iter()
                    .map(|&(u, _)| at(&c, u, tol).filter(|&v| v > 0.0).unwrap_or(0.0))
                    .collect();
                let mut pos: Vec<f64> = vals.iter().copied().filter(|&v| v > 0.0).collect();
                pos.sort_by(f64::total_cmp);
                let median = pos.get(pos.len() / 2).copied().unwrap_or(1.0);
                (vals, median)
            })
            .collect()
    }

    /// The model's inputs at change point `t`: per scale, its novelty at each offset over its
    /// median (0 off the curve), then the level step / 10 dB, its positive and its negative part.
    pub fn inputs(
        &self,
        d: &Descriptors,
        curve: &[(f64, f64)],
        scales: &[(Vec<f64>, f64)],
        t: f64,
    ) -> Vec<f64> {
        let tol = d.hop_s / 4.0;
        let mut x = Vec::with_capacity(scales.len() * self.offsets_s.len() + 3);
        for (vals, median) in scales {
            for &o in &self.offsets_s {
                let i = curve.partition_point(|&(u, _)| u < t + o - tol);
                let v = match curve.get(i) {
                    Some(p) if (p.0 - (t + o)).abs() < tol => vals[i],
                    _ => 0.0,
                };
                x.push(v / median);
            }
        }
        let st = self
            .level_step(d, t)
            .clamp(-self.step_clip_db, self.step_clip_db)
            / 10.0;
        x.extend([st, st.max(0.0), st.min(0.0)]);
        x
    }

    /// The level step across `t`, dB: a high percentile of the usable windows' level after, less
    /// before (0 when a side has too few windows).
    pub fn level_step(&self, d: &Descriptors, t: f64) -> f64 {
        let side = |lo: f64, hi: f64| {
            let centre = |k: usize| k as f64 * d.hop_s + d.len_s / 2.0;
            let k0 = ((lo - d.len_s / 2.0) / d.hop_s).floor().max(0.0) as usize;
            let k1 = (((hi - d.len_s / 2.0) / d.hop_s).ceil().max(0.0) as usize + 1).min(d.len());
            let mut v: Vec<f64> = (k0.min(k1)..k1)
                .filter(|&k| d.usable[k])
                .filter(|&k| centre(k) > lo && centre(k) < hi)
                .map(|k| d.level_db[k] as f64)
                .collect();
            (v.len() >= self.step_min_windows.max(1))
                .then(|| percentile(&mut v, self.step_percentile))
        };
        match (
            side(t - self.step_far_s, t - self.step_near_s),
            side(t + self.step_near_s, t + self.step_far_s),
        ) {
            (Some(b), Some(a)) => a - b,
            _ => 0.0,
        }
    }
}

/// The value of `c` at time `t` (within `tol`).
fn at(c: &[(f64, f64)], t: f64, tol: f64) -> Option<f64> {
    let i = c.partition_point(|&(u, _)| u < t - tol);
    c.get(i).filter(|p| (p.0 - t).abs() < tol).map(|p| p.1)
}

/// Percentile `p` (0-100) with linear interpolation between order statistics.
fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let pos = (p / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    if i + 1 < v.len() {
        v[i] + f * (v[i + 1] - v[i])
    } else {
        v[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs of a typical segue peak (each scale 3x its median at the point, falling to about
    /// 1.3x 2 s away) and a level step of `step_db`.
    fn peak(m: &PlaceModel, step_db: f64) -> Vec<f64> {
        let mut x: Vec<f64> = m
            .scales_s
            .iter()
            .flat_map(|_| m.offsets_s.iter().map(|o| 1.0 + 2.0 * (-o * o / 2.0).exp()))
            .collect();
        let st = step_db / 10.0;
        x.extend([st, st.max(0.0), st.min(0.0)]);
        x
    }

    #[test]
    fn a_segue_into_a_much_quieter_piece_is_moved_earlier_than_one_into_a_louder_piece() {
        // Found change points into a quieter piece lie late (the quieter piece settles after the
        // ramps); into a louder one they do not: the learned correction must pull the first
        // earlier than the second, by about 0.8 s between ±12 dB.
        let m = PlaceModel::builtin();
        let (quieter, louder) = (m.shift(&peak(m, -12.0)), m.shift(&peak(m, 12.0)));
        assert!(
            louder - quieter > 0.5,
            "quieter {quieter:.2} s, louder {louder:.2} s"
        );
    }

    #[test]
    fn the_correction_stays_within_its_cap_and_off_the_trained_range_is_none() {
        let m = PlaceModel::builtin();
        for step in [-40.0, -12.0, 0.0, 12.0, 40.0] {
            let mut x = peak(m, step);
            assert!(m.shift(&x).abs() <= m.max_shift_s);
            x[3] = 20.0;
            assert_eq!(m.shift(&x), 0.0, "out of range, step {step} dB");
        }
    }

    #[test]
    fn the_level_step_is_the_after_level_less_the_before_level() {
        // 1 s windows on a 0.25 s hop, 12 dB quieter from 30 s on; all usable.
        let n = 240;
        let d = Descriptors {
            hop_s: 0.25,
            len_s: 1.0,
            dims: 1,
            values: vec![0.0; n],
            level_db: (0..n)
                .map(|k| if k < 120 { -20.0 } else { -32.0 })
                .collect(),
            usable: vec![true; n],
            chroma: Vec::new(),
        };
        let m = PlaceModel::builtin();
        assert!((m.level_step(&d, 30.5) + 12.0).abs() < 1e-6);
        // Without enough usable windows on a side there is no step.
        let mut d2 = d.clone();
        d2.usable[..115].iter_mut().for_each(|u| *u = false);
        assert_eq!(m.level_step(&d2, 30.5), 0.0);
    }
}
