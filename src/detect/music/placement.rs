//! Places each found segue at the middle of its crossfade with a learned score over candidate times.
//!
//! The content-change curves peak where the descriptors turn over, which a piece's own drift and a
//! level step between the pieces move off the middle of the gain ramps. The level itself says
//! where the ramps cross: in an equal-power crossfade of two unrelated pieces the mix's power
//! passes the mean of the two pieces' powers at the middle. Neither alone places a crossfade well
//! (session 20 moved points to the level crossing and lost); weighed together they do. So around
//! each change point the candidates one texture hop apart within [`PlacementModel::radius_s`] are
//! scored by a linear model over [`PLACEMENT_FEATURES`] (a conditional logit fitted on where real
//! crossfades lie, `models/segue-placement-v1.json`, `tools/reference/segue_placement_fit.py`),
//! and the point moves to the best.

use crate::timeline::Span;

use super::novelty::{self, Descriptors, NoveltyConfig};

/// The model's inputs at one candidate time, in the order of [`PlacementModel::weights`].
pub const PLACEMENT_FEATURES: [&str; 10] = [
    "novelty_4s_guard_0.5",
    "novelty_4s_guard_0.75",
    "novelty_6s_guard_0.75",
    "novelty_8s_guard_1",
    "offset_s",
    "abs_offset_s",
    "offset_sq",
    "offset_x_step",
    "abs_offset_x_abs_step",
    "level_off_middle",
];

/// Number of inputs per candidate.
pub const FEATURE_COUNT: usize = PLACEMENT_FEATURES.len();

/// Window and guard (seconds) of the novelty curves read at each candidate: short ones peak
/// sharply where the content turns over, the 8 s one is steadier against a piece's own changes.
const CURVES: [(f64, f64); 4] = [(4.0, 0.5), (4.0, 0.75), (6.0, 0.75), (8.0, 1.0)];

/// Each side of a placement curve's test needs this many seconds of usable windows.
const CURVE_MIN_SIDE_S: f64 = 1.0;

/// Half-width of the level read at a candidate, seconds: the texture windows whose centres lie
/// this close (each window is itself 1 s long).
const LEVEL_RADIUS_S: f64 = 0.5;

/// Level step between the pieces beyond which the offset-step interaction saturates, dB.
const STEP_CLAMP_DB: f64 = 20.0;

/// The learned placement (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementModel {
    /// Candidates lie within this many seconds of the change point (0 disables the placement).
    pub radius_s: f64,
    /// One weight per entry of [`PLACEMENT_FEATURES`].
    pub weights: [f64; FEATURE_COUNT],
}

impl Default for PlacementModel {
    /// The shipped model, `models/segue-placement-v1.json` (a test checks they agree).
    fn default() -> Self {
        PlacementModel {
            radius_s: 2.0,
            weights: [
                1.5686, 1.4294, 2.2001, 2.2731, -0.1587, -0.7902, -0.2832, 0.4187, -0.4222, -1.7399,
            ],
        }
    }
}

/// The candidate times around one change point and the model's inputs at each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    /// Candidate times in order, seconds; the change point itself is among them.
    pub times: Vec<f64>,
    /// The inputs at each time, in [`PLACEMENT_FEATURES`] order.
    pub features: Vec<[f64; FEATURE_COUNT]>,
}

/// The novelty curves the candidates read, computed once per run.
pub struct PlacementCurves(Vec<Vec<(f64, f64)>>);

impl PlacementCurves {
    /// The curves of `run` ([`CURVES`]), with the change test's other settings from `cfg`.
    pub fn of_run(d: &Descriptors, run: &Span, cfg: &NoveltyConfig) -> Self {
        let curves = CURVES
            .iter()
            .map(|&(window_s, guard_s)| {
                let cfg = NoveltyConfig {
                    window_s,
                    guard_s,
                    min_side_s: CURVE_MIN_SIDE_S,
                    ..cfg.clone()
                };
                novelty::novelty_curve(d, run, &cfg)
            })
            .collect();
        PlacementCurves(curves)
    }
}

/// The candidates around change point `t` of `run`, between pieces whose levels are `before_db`
/// and `after_db` ([`novelty::piece_level_db`]; `None` where unread), `radius_s` either side.
pub fn candidates(
    d: &Descriptors,
    curves: &PlacementCurves,
    t: f64,
    before_db: Option<f32>,
    after_db: Option<f32>,
    radius_s: f64,
) -> Candidates {
    if d.hop_s <= 0.0 || radius_s <= 0.0 {
        return Candidates::default();
    }
    let steps = (radius_s / d.hop_s).round() as i64;
    let offsets: Vec<f64> = (-steps..=steps).map(|k| k as f64 * d.hop_s).collect();
    let times: Vec<f64> = offsets.iter().map(|o| t + o).collect();
    // Each curve read at the candidates over its largest value there: its shape, not its scale.
    let shapes: Vec<Vec<f64>> = curves
        .0
        .iter()
        .map(|c| {
            let v: Vec<Option<f64>> = times.iter().map(|&u| value_at(c, u, d.hop_s)).collect();
            let top = v.iter().flatten().copied().fold(f64::NAN, f64::max);
            v.iter()
                .map(|x| match x {
                    Some(x) if top > 0.0 => x / top,
                    Some(x) => *x,
                    None => 0.0,
                })
                .collect()
        })
        .collect();
    // Without both pieces' levels there is no step and no middle level to compare with.
    let (step, middle_db) = match (before_db, after_db) {
        (Some(b), Some(a)) => {
            let (b, a) = (f64::from(b), f64::from(a));
            let mean_power = 0.5 * (10f64.powf(b / 10.0) + 10f64.powf(a / 10.0));
            (a - b, Some(10.0 * mean_power.log10()))
        }
        _ => (0.0, None),
    };
    let features = times
        .iter()
        .zip(&offsets)
        .enumerate()
        .map(|(i, (&u, &o))| {
            let off_middle = middle_db
                .zip(mean_level_db(d, u))
                .map_or(0.0, |(m, l)| (l - m).abs() / 10.0);
            [
                shapes[0][i],
                shapes[1][i],
                shapes[2][i],
                shapes[3][i],
                o,
                o.abs(),
                o * o,
                o * step.clamp(-STEP_CLAMP_DB, STEP_CLAMP_DB) / 10.0,
                o.abs() * step.abs() / 10.0,
                off_middle,
            ]
        })
        .collect();
    Candidates { times, features }
}

/// The curve's value at the test time nearest `t`, if one lies within half a hop.
fn value_at(curve: &[(f64, f64)], t: f64, hop_s: f64) -> Option<f64> {
    let i = curve.partition_point(|&(u, _)| u < t);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| curve.get(j))
        .filter(|&&(u, _)| (u - t).abs() <= hop_s / 2.0 + 1e-9)
        .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
        .map(|&(_, v)| v)
}

/// Mean level (dB) of the texture windows whose centres lie within [`LEVEL_RADIUS_S`] of `t`.
fn mean_level_db(d: &Descriptors, t: f64) -> Option<f64> {
    // Window k is centred at k * hop + len / 2: the indices whose centres lie within the radius.
    let index = |u: f64| (u - d.len_s / 2.0) / d.hop_s;
    let first = index(t - LEVEL_RADIUS_S - 1e-9).ceil().max(0.0) as usize;
    let last = (index(t + LEVEL_RADIUS_S + 1e-9).floor() + 1.0).max(0.0) as usize;
    let levels = d.level_db.get(first..last.min(d.level_db.len()))?;
    (!levels.is_empty())
        .then(|| levels.iter().map(|&l| f64::from(l)).sum::<f64>() / levels.len() as f64)
}

/// The change points `splits` of `run` (in time order), each moved to its best-scored candidate
/// ([`candidates_of_run`]).
pub fn place_segues(
    d: &Descriptors,
    run: &Span,
    splits: Vec<f64>,
    crossfade_s: f64,
    cfg: &NoveltyConfig,
    model: &PlacementModel,
) -> Vec<f64> {
    if splits.is_empty() || model.radius_s <= 0.0 {
        return splits;
    }
    let around = candidates_of_run(d, run, &splits, crossfade_s, cfg, model.radius_s);
    splits
        .iter()
        .zip(&around)
        .map(|(&t, c)| best_candidate(c, model).unwrap_or(t))
        .collect()
}

/// The candidates around each of the change points `splits` of `run` (in time order), `radius_s`
/// either side. Each piece's level is read between its neighbouring change points, half a
/// crossfade (`crossfade_s`) clear of them, as [`novelty::place_by_level_step`] reads it.
pub fn candidates_of_run(
    d: &Descriptors,
    run: &Span,
    splits: &[f64],
    crossfade_s: f64,
    cfg: &NoveltyConfig,
    radius_s: f64,
) -> Vec<Candidates> {
    if splits.is_empty() {
        return Vec::new();
    }
    let curves = PlacementCurves::of_run(d, run, cfg);
    let levels = novelty::piece_levels(d, run, splits, crossfade_s);
    splits
        .iter()
        .zip(levels.windows(2))
        .map(|(&t, pair)| candidates(d, &curves, t, pair[0], pair[1], radius_s))
        .collect()
}

/// The candidate time with the highest score (the earliest of equals), `None` without candidates.
pub fn best_candidate(c: &Candidates, model: &PlacementModel) -> Option<f64> {
    c.times
        .iter()
        .zip(&c.features)
        .map(|(&t, f)| {
            (
                t,
                f.iter()
                    .zip(&model.weights)
                    .map(|(x, w)| x * w)
                    .sum::<f64>(),
            )
        })
        .reduce(|best, x| if x.1 > best.1 { x } else { best })
        .map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_is_the_shipped_model_file() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../../models/segue-placement-v1.json")).unwrap();
        let names: Vec<&str> = file["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(names, PLACEMENT_FEATURES);
        let model = PlacementModel::default();
        assert_eq!(file["radius_s"].as_f64().unwrap(), model.radius_s);
        let weights: Vec<f64> = file["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(weights, model.weights);
    }
}
