//! Places each found segue at the middle of its crossfade with a learned score over candidate times.
//!
//! The content-change curves peak where the descriptors turn over, which a piece's own drift and a
//! level step between the pieces move off the middle of the gain ramps. The level itself says
//! where the ramps cross: in an equal-power crossfade of two unrelated pieces the mix's power
//! passes the mean of the two pieces' powers at the middle. Neither alone places a crossfade well
//! (session 20 moved points to the level crossing and lost); weighed together they do. Two more
//! readings separate a crossfade from a piece's own event (a fill, a break) where a curve may peak
//! too: each curve's value over its run median (how strong the change is for this music, where the
//! shape only says where it peaks), and how far the descriptors lie off the line between the two
//! pieces' (a crossfade mixes them and lies near it; an event of one piece does not). So around
//! each change point the candidates one texture hop apart within [`PlacementModel::radius_s`] are
//! scored by a linear model over [`PLACEMENT_FEATURES`] (a conditional logit fitted on where real
//! crossfades lie, `models/segue-placement-v2.json`, `tools/reference/segue_placement_fit.py`),
//! and the point moves to the best.

use crate::timeline::Span;

use super::novelty::{self, Descriptors, NoveltyConfig};

/// The model's inputs at one candidate time, in the order of [`PlacementModel::weights`].
pub const PLACEMENT_FEATURES: [&str; 15] = [
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
    "log_novelty_4s_guard_0.5_over_run_median",
    "log_novelty_4s_guard_0.75_over_run_median",
    "log_novelty_6s_guard_0.75_over_run_median",
    "log_novelty_8s_guard_1_over_run_median",
    "off_line_between_pieces",
];

/// Number of inputs per candidate.
pub const FEATURE_COUNT: usize = PLACEMENT_FEATURES.len();

/// Window and guard (seconds) of the novelty curves read at each candidate: short ones peak
/// sharply where the content turns over, the 8 s one is steadier against a piece's own changes.
const CURVES: [(f64, f64); N_CURVES] = [(4.0, 0.5), (4.0, 0.75), (6.0, 0.75), (8.0, 1.0)];

/// Number of novelty curves; each gives two inputs, its shape and its strength.
const N_CURVES: usize = 4;

/// Floor of a curve's value over its run median before the log: a candidate the curve does not
/// reach (too near the run's end) reads as this, not minus infinity.
const MIN_RATIO: f64 = 1e-3;

/// Each side of a placement curve's test needs this many seconds of usable windows.
const CURVE_MIN_SIDE_S: f64 = 1.0;

/// Half-width of the level read at a candidate, seconds: the texture windows whose centres lie
/// this close (each window is itself 1 s long).
const LEVEL_RADIUS_S: f64 = 0.5;

/// The pieces' reference descriptors are the means of the usable windows centred between
/// [`REFERENCE_GAP_S`] and [`REFERENCE_GAP_S`] + [`REFERENCE_LEN_S`] before and after the change
/// point: clear of the candidates, and of most of a crossfade found up to 2 s off.
const REFERENCE_GAP_S: f64 = 2.5;
const REFERENCE_LEN_S: f64 = 4.0;

/// A reference needs this many usable windows (one second of hops).
const REFERENCE_MIN_WINDOWS: usize = 4;

/// Half-width of the descriptor read at a candidate, seconds.
const DESCRIPTOR_RADIUS_S: f64 = 0.25;

/// Level step between the pieces beyond which the offset-step interaction saturates, dB.
const STEP_CLAMP_DB: f64 = 20.0;

/// The line between the two pieces' reference descriptors, built once per change point.
struct PieceLine {
    origin: Vec<f64>,
    along: Vec<f64>,
    norm_sq: f64,
}

impl PieceLine {
    /// The line from `before` to `after`; `None` where they coincide.
    fn between(before: Vec<f64>, after: &[f64]) -> Option<Self> {
        let along: Vec<f64> = after.iter().zip(&before).map(|(b, a)| b - a).collect();
        let norm_sq: f64 = along.iter().map(|v| v * v).sum();
        (norm_sq > 0.0).then_some(PieceLine {
            origin: before,
            along,
            norm_sq,
        })
    }

    /// How far the descriptors at `t` lie off the line (root mean square over the dimensions of
    /// the part not along it; 0 where no window is centred near `t`). A crossfade's windows mix
    /// the two pieces and lie near it; a piece's own event (a fill, a break), where a content
    /// curve may peak as well, lies off it.
    fn distance_at(&self, d: &Descriptors, t: f64) -> f64 {
        let Some(x) = mean_descriptor(
            d,
            t - DESCRIPTOR_RADIUS_S,
            t + DESCRIPTOR_RADIUS_S,
            false,
            1,
        ) else {
            return 0.0;
        };
        let offsets = || x.iter().zip(&self.origin).map(|(x, a)| x - a);
        let share = offsets().zip(&self.along).map(|(y, v)| y * v).sum::<f64>() / self.norm_sq;
        let off_sq: f64 = offsets()
            .zip(&self.along)
            .map(|(y, v)| (y - share * v).powi(2))
            .sum();
        (off_sq / x.len() as f64).sqrt()
    }
}

/// Mean descriptors of the windows centred in `from_s..=to_s` (the usable ones only when
/// `usable_only`), if there are at least `min_windows`.
fn mean_descriptor(
    d: &Descriptors,
    from_s: f64,
    to_s: f64,
    usable_only: bool,
    min_windows: usize,
) -> Option<Vec<f64>> {
    let mut sum = vec![0f64; d.dims];
    let mut n = 0usize;
    for k in d
        .centred_within(from_s, to_s)
        .filter(|&k| !usable_only || d.usable[k])
    {
        for (s, &v) in sum.iter_mut().zip(d.row(k)) {
            *s += f64::from(v);
        }
        n += 1;
    }
    (n >= min_windows.max(1) && d.dims > 0).then(|| sum.iter().map(|s| s / n as f64).collect())
}

/// The learned placement (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementModel {
    /// Candidates lie within this many seconds of the change point (0 disables the placement).
    pub radius_s: f64,
    /// One weight per entry of [`PLACEMENT_FEATURES`].
    pub weights: [f64; FEATURE_COUNT],
}

impl Default for PlacementModel {
    /// The shipped model, `models/segue-placement-v2.json` (a test checks they agree).
    fn default() -> Self {
        PlacementModel {
            radius_s: 2.0,
            weights: [
                2.2959, 2.6523, 2.0647, 1.7072, -0.1553, -0.6696, -0.2476, 0.553, -0.4507, -1.4829,
                -0.2212, -0.3049, -0.2658, 1.9313, -2.1091,
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

/// The novelty curves the candidates read, computed once per run, with each curve's median over
/// the run: a candidate's value over it says how strong a change is there for this music, where
/// the shape (the value over the largest among the candidates) only says where it peaks.
pub struct PlacementCurves {
    curves: [Vec<(f64, f64)>; N_CURVES],
    medians: [f64; N_CURVES],
}

impl PlacementCurves {
    /// The curves of `run` ([`CURVES`]), with the change test's other settings from `cfg`.
    pub fn of_run(d: &Descriptors, run: &Span, cfg: &NoveltyConfig) -> Self {
        let curves = CURVES.map(|(window_s, guard_s)| {
            let cfg = NoveltyConfig {
                window_s,
                guard_s,
                min_side_s: CURVE_MIN_SIDE_S,
                ..cfg.clone()
            };
            novelty::novelty_curve(d, run, &cfg)
        });
        // The upper median, as `novelty::maxima` takes it; 0 for an empty curve.
        let medians = std::array::from_fn(|i| {
            let mut vals: Vec<f64> = curves[i].iter().map(|&(_, v)| v).collect();
            vals.sort_by(f64::total_cmp);
            vals.get(vals.len() / 2).copied().unwrap_or(0.0)
        });
        PlacementCurves { curves, medians }
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
    // Each curve read at the candidates over its largest value there (its shape, not its scale)
    // and, as a log, over its run median (its strength).
    let values: [Vec<Option<f64>>; N_CURVES] = std::array::from_fn(|i| {
        times
            .iter()
            .map(|&u| value_at(&curves.curves[i], u, d.hop_s))
            .collect()
    });
    let shapes: [Vec<f64>; N_CURVES] = std::array::from_fn(|i| {
        let top = values[i].iter().flatten().copied().fold(f64::NAN, f64::max);
        values[i]
            .iter()
            .map(|x| match x {
                Some(x) if top > 0.0 => x / top,
                Some(x) => *x,
                None => 0.0,
            })
            .collect()
    });
    let strengths: [Vec<f64>; N_CURVES] = std::array::from_fn(|i| {
        let median = curves.medians[i];
        values[i]
            .iter()
            .map(|x| match x {
                Some(x) if median > 0.0 => (x / median).max(MIN_RATIO).ln(),
                _ => MIN_RATIO.ln(),
            })
            .collect()
    });
    // Without both pieces' levels there is no step and no middle level to compare with.
    let (step, middle_db) = match (before_db, after_db) {
        (Some(b), Some(a)) => {
            let (b, a) = (f64::from(b), f64::from(a));
            let mean_power = 0.5 * (10f64.powf(b / 10.0) + 10f64.powf(a / 10.0));
            (a - b, Some(10.0 * mean_power.log10()))
        }
        _ => (0.0, None),
    };
    let reference =
        |from_s: f64, to_s: f64| mean_descriptor(d, from_s, to_s, true, REFERENCE_MIN_WINDOWS);
    let line = reference(t - REFERENCE_GAP_S - REFERENCE_LEN_S, t - REFERENCE_GAP_S)
        .zip(reference(
            t + REFERENCE_GAP_S,
            t + REFERENCE_GAP_S + REFERENCE_LEN_S,
        ))
        .and_then(|(before, after)| PieceLine::between(before, &after));
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
                strengths[0][i],
                strengths[1][i],
                strengths[2][i],
                strengths[3][i],
                line.as_ref().map_or(0.0, |l| l.distance_at(d, u)),
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
    let levels = d
        .level_db
        .get(d.centred_within(t - LEVEL_RADIUS_S, t + LEVEL_RADIUS_S))?;
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
    fn the_curve_inputs_are_named_after_the_curves_they_read() {
        // `candidates` writes curve i's shape at input i and its strength at input 10 + i.
        for (i, (window_s, guard_s)) in CURVES.iter().enumerate() {
            let curve = format!("novelty_{window_s}s_guard_{guard_s}");
            assert_eq!(PLACEMENT_FEATURES[i], curve);
            let strength = format!("log_{curve}_over_run_median");
            assert_eq!(PLACEMENT_FEATURES[10 + i], strength);
        }
    }

    #[test]
    fn the_default_model_is_the_shipped_model_file() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../../models/segue-placement-v2.json")).unwrap();
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
