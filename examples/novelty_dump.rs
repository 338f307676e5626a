//! Development aid: the music stem's novelty curves, one TSV row per tested point of each audible run,
//! for offline study of segue placement (scratch use, not a product). Columns: run start, run end,
//! time tested, 12 s novelty, the run's median 12 s novelty, pitch-class distance (-1: none), and the
//! novelty with 3, 4 and 6 s windows (-1 where a side is too short).
//!
//!     cargo run --release --example novelty_dump -- /tmp/dev-reels/DEV1 > DEV1.tsv
//!
//! With a second argument `levels`, it prints instead one row per texture window: start time, mean
//! level in dB, whether the window is usable for the change test, and its pitch-class profile;
//! with `desc`, one row per texture window: start time, usable flag and its z-scored descriptors;
//! with `onsets`, one row per frame: time and spectral flux (the onset strength); with `local`, one
//! row per local maximum of each run's 12 s curve (top within ±1 s, 1.0x the run median or more,
//! `min_segment_s` from the run's ends): run start, run end, time, ratio to the median, same-piece
//! veto (0/1), the beat reading there (`beat::OnsetEnvelope::read`: two-sided over one-sided comb,
//! strength before, strength after; -1 when a side is too short), and its dominance radius: the
//! distance to the nearest higher point of the curve (999 when none). Rows whose radius exceeds
//! `window_s` are the novelty peaks (`novelty::peaks`), the rest are secondary peaks.
//! With `rule`, every such local maximum's inputs to the split rule: run start, run end, time,
//! ratio, beat reading (continuity, strength before, after), pitch-class distance over `window_s`
//! and over `same_key_window_s` (-1: none), and the dominance radius (read by
//! `tools/reference/split_rule_generalisation.py` and `split_score_study.py`), then the level step
//! across it (`novelty::level_step_db`, dB, -99: none) and the largest 6 s, 3 s and 20 s novelty
//! within 1 s of it over those curves' run medians (-1: none). With `placement`, the learned
//! placement's inputs at each candidate around each change point found with that placement off
//! (a third argument sets the candidates' radius, seconds; the model's 2 s by default).
use std::path::Path;
use stemscope::detect::music::{
    CueConfig, LevelTrack, NoveltyConfig, PlacementModel, activity, beat, detect_music, novelty,
    placement,
};
use stemscope::discover::{DiscoverOptions, StemKind, discover};
use stemscope::pipeline::{AnalyzeOptions, analyze_stems};
use stemscope::timeline::Span;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_default();
    let sets = discover(Path::new(&dir), &DiscoverOptions::default())?;
    let set = sets.first().ok_or_else(|| anyhow::anyhow!("no stems"))?;
    let title = analyze_stems(set, &AnalyzeOptions::default())?;
    let (_, mx) = title
        .stems
        .iter()
        .find(|(k, _)| **k == StemKind::Music)
        .ok_or_else(|| anyhow::anyhow!("no mx"))?;
    let cfg = NoveltyConfig::default();
    let level = LevelTrack::of_stem(&mx.features, &mx.loudness);
    let runs = activity::audible_spans(&level, &Default::default());
    let desc = novelty::Descriptors::build(&mx.features, &level, &runs, &cfg);
    if std::env::args().nth(2).as_deref() == Some("levels") {
        // Per texture window: start time, mean level (dB, relative use only), usable flag, then
        // the pitch-class profile when there is one.
        let pcs = desc.chroma.len() / desc.len().max(1);
        for k in 0..desc.len() {
            let profile = tsv(&desc.chroma[k * pcs..(k + 1) * pcs], 4);
            let (t, usable) = (k as f64 * desc.hop_s, u8::from(desc.usable[k]));
            println!("{t:.2}\t{:.2}\t{usable}\t{profile}", desc.level_db[k]);
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("desc") {
        // Per texture window: start time, usable flag, then its z-scored descriptors.
        for k in 0..desc.len() {
            let row = tsv(&desc.values[k * desc.dims..(k + 1) * desc.dims], 3);
            let (t, usable) = (k as f64 * desc.hop_s, u8::from(desc.usable[k]));
            println!("{t:.2}\t{usable}\t{row}");
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("onsets") {
        // Per frame: time, spectral flux (the onset strength).
        let hop = mx.features.frame_hop_s;
        for (k, f) in mx.features.frames.iter().enumerate() {
            println!("{:.3}\t{:.5}", k as f64 * hop, f.flux);
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("local") {
        let env = beat::OnsetEnvelope::of_track(&mx.features, &cfg.beat);
        for run in &runs {
            let curve = novelty::novelty_curve(&desc, run, &cfg);
            let (med, maxima) = local_maxima(&curve, run, &cfg);
            for (t, v, radius) in maxima {
                let veto = novelty::same_piece(&desc, run, t, &cfg);
                let r = env.read(run, t, &cfg.beat);
                let (c, sb, sa) = r.map_or((-1.0, -1.0, -1.0), |r| {
                    (r.ratio, r.strength_before, r.strength_after)
                });
                println!(
                    "{:.2}\t{:.2}\t{:.2}\t{:.4}\t{}\t{:.4}\t{:.3}\t{:.3}\t{:.2}",
                    run.start_s,
                    run.end_s,
                    t,
                    v / med,
                    u8::from(veto),
                    c,
                    sb,
                    sa,
                    radius
                );
            }
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("placement") {
        // The learned placement's inputs: the pipeline's change points with that placement off,
        // then one row per candidate around each: change point, candidate time, the inputs
        // (`placement::PLACEMENT_FEATURES`). Read by `tools/reference/segue_placement_fit.py`.
        let off = CueConfig {
            placement: PlacementModel {
                radius_s: 0.0,
                ..PlacementModel::default()
            },
            ..CueConfig::default()
        };
        // An optional third argument widens or narrows the candidates (seconds) for study.
        let radius = std::env::args()
            .nth(3)
            .and_then(|r| r.parse().ok())
            .unwrap_or(PlacementModel::default().radius_s);
        let found = detect_music(&mx.features, &mx.loudness, &off);
        for run in &runs {
            let splits: Vec<f64> = found
                .segues
                .iter()
                .map(|s| s.at_s)
                .filter(|&t| t > run.start_s && t < run.end_s)
                .collect();
            let around = placement::candidates_of_run(
                &desc,
                run,
                &splits,
                off.segue_overlap_s,
                &cfg,
                radius,
            );
            for (&t, c) in splits.iter().zip(&around) {
                for (u, f) in c.times.iter().zip(&c.features) {
                    let cells: Vec<String> = f.iter().map(|x| format!("{x:.5}")).collect();
                    println!("{t:.4}\t{u:.4}\t{}", cells.join("\t"));
                }
            }
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("rule") {
        // The split rule's inputs at every local maximum of the 12 s curve (as `local` picks them):
        // run start, run end, time, ratio to the median, beat continuity, strength before,
        // strength after (-1: no reading), pitch-class distance over `window_s` and over
        // `same_key_window_s` (-1: none), dominance radius (over `window_s`: a novelty peak).
        let env = beat::OnsetEnvelope::of_track(&mx.features, &cfg.beat);
        let far_cfg = NoveltyConfig {
            window_s: cfg.same_key_window_s,
            ..cfg.clone()
        };
        // Curves of other window lengths (6, 3 and 20 s): the largest value within 1 s of the
        // point over the curve's median, with the refinement's side minimum, as
        // `novelty::refine_change_points` reads its curve.
        let with_window = |run: &Span, w: f64| {
            let c = curve_with(&desc, run, &cfg, w, cfg.min_side_s.min(w / 4.0));
            let med = median(&c);
            (c, med)
        };
        let near_max = |(c, med): &(Vec<(f64, f64)>, f64), t: f64| {
            let top = c
                .iter()
                .filter(|p| (p.0 - t).abs() <= 1.0)
                .map(|p| p.1)
                .fold(f64::NAN, f64::max);
            if *med > 0.0 && top.is_finite() {
                top / med
            } else {
                -1.0
            }
        };
        for run in &runs {
            let curve = novelty::novelty_curve(&desc, run, &cfg);
            let (med, maxima) = local_maxima(&curve, run, &cfg);
            let (six, three) = (with_window(run, 6.0), with_window(run, 3.0));
            let twenty = with_window(run, 20.0);
            for (t, v, radius) in maxima {
                let r = env.read(run, t, &cfg.beat);
                let (c, sb, sa) = r.map_or((-1.0, -1.0, -1.0), |r| {
                    (r.ratio, r.strength_before, r.strength_after)
                });
                let near = novelty::chroma_distance(&desc, run, t, &cfg).unwrap_or(-1.0);
                let far = novelty::chroma_distance(&desc, run, t, &far_cfg).unwrap_or(-1.0);
                let step = novelty::level_step_db(&desc, run, t).map_or(-99.0, f64::from);
                println!(
                    "{:.2}\t{:.2}\t{:.2}\t{:.4}\t{:.4}\t{:.3}\t{:.3}\t{:.4}\t{:.4}\t{:.2}\t{:.2}\t{:.4}\t{:.4}\t{:.4}",
                    run.start_s,
                    run.end_s,
                    t,
                    v / med,
                    c,
                    sb,
                    sa,
                    near,
                    far,
                    radius,
                    step,
                    near_max(&six, t),
                    near_max(&three, t),
                    near_max(&twenty, t)
                );
            }
        }
        return Ok(());
    }
    for run in &runs {
        let curve = novelty::novelty_curve(&desc, run, &cfg);
        let med = median(&curve);
        let scales: Vec<Vec<(f64, f64)>> = [3.0, 4.0, 6.0]
            .iter()
            .map(|&w| curve_with(&desc, run, &cfg, w, 1.0))
            .collect();
        for (t, x) in &curve {
            let cd = novelty::chroma_distance(&desc, run, *t, &cfg).unwrap_or(-1.0);
            let at = |c: &Vec<(f64, f64)>| {
                c.iter()
                    .find(|p| (p.0 - t).abs() < 1e-6)
                    .map_or(-1.0, |p| p.1)
            };
            println!(
                "{:.2}\t{:.2}\t{:.2}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
                run.start_s,
                run.end_s,
                t,
                x,
                med,
                cd,
                at(&scales[0]),
                at(&scales[1]),
                at(&scales[2])
            );
        }
    }
    Ok(())
}

/// The novelty curve of `run` with windows `window_s` long and sides of `min_side_s` at least.
fn curve_with(
    desc: &novelty::Descriptors,
    run: &Span,
    cfg: &NoveltyConfig,
    window_s: f64,
    min_side_s: f64,
) -> Vec<(f64, f64)> {
    let cfg = NoveltyConfig {
        window_s,
        min_side_s,
        ..cfg.clone()
    };
    novelty::novelty_curve(desc, run, &cfg)
}

/// A curve's median value (0 when empty), as `novelty::maxima` takes it.
fn median(curve: &[(f64, f64)]) -> f64 {
    let mut v: Vec<f64> = curve.iter().map(|c| c.1).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// `values` tab-separated with `decimals` decimals.
fn tsv(values: &[f32], decimals: usize) -> String {
    let cells: Vec<String> = values.iter().map(|v| format!("{v:.decimals$}")).collect();
    cells.join("\t")
}

/// The run's median and the split candidates of its 12 s novelty `curve` ([`novelty::maxima`]),
/// each with its dominance radius: the distance to the nearest higher point of the curve (999 when
/// none). No candidates when the median is not positive.
fn local_maxima(
    curve: &[(f64, f64)],
    run: &Span,
    cfg: &NoveltyConfig,
) -> (f64, Vec<(f64, f64, f64)>) {
    let (median, found) = novelty::maxima(curve, run, cfg);
    if median <= 0.0 {
        return (median, Vec::new());
    }
    let with_radius = found
        .into_iter()
        .map(|(t, v, _)| {
            let radius = curve
                .iter()
                .filter(|&&(_, w)| w > v)
                .map(|&(u, _)| (u - t).abs())
                .fold(999.0, f64::min);
            (t, v, radius)
        })
        .collect();
    (median, with_radius)
}
