//! Scores the scene segmentation alone, under several settings, on development reels: each reel is
//! analysed once (decode, condition, features, dialogue), then `timeline::scenes::segment` runs once
//! per setting and its boundaries are matched one-to-one to `truth.json`'s scene starts within
//! ±2 s (as `score.py` does). Prints, per setting, precision/recall/F1 and the signed boundary errors,
//! so that a change to the segmentation can be judged in seconds instead of re-analysing every reel.
//!
//! `cargo run --release --example scene_eval -- /tmp/dev-reels [SETTING ...]`
//! where a SETTING is `key=value[,key=value...]` over `window_s`, `threshold`, `min_scene_s`,
//! `dialogue_snap_s`, `peak_top`, `cut_radius_s`, `cut_min_gain`, `firm_novelty`,
//! `min_step_gain` (for example `window_s=6,threshold=5`); none means the defaults only.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use stemscope::discover::{DiscoverOptions, StemKind, discover};
use stemscope::pipeline::{AnalyzeOptions, TitleAnalysis, analyze_stems, build_report};
use stemscope::timeline::Span;
use stemscope::timeline::scenes::{self, SegmentConfig, StemInput};

/// Truth boundaries farther than this from every found one are misses (score.py's tolerance), s.
const TOLERANCE_S: f64 = 2.0;

struct Reel {
    name: String,
    truth: Vec<f64>,
    title: TitleAnalysis,
    dialogue: Vec<Span>,
    /// The reel without its leader, as the report's scenes cover it.
    programme: Span,
}

fn load(dir: &Path) -> Result<Reel> {
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("truth.json"))
            .with_context(|| format!("{}: no truth.json", dir.display()))?,
    )?;
    let truth: Vec<f64> = truth["scenes"]
        .as_array()
        .map(|s| {
            s.iter()
                .skip(1)
                .filter_map(|x| x["start_s"].as_f64())
                .collect()
        })
        .unwrap_or_default();
    let sets = discover(dir, &DiscoverOptions::default())?;
    let Some(set) = sets.first() else {
        bail!("{}: no stems", dir.display());
    };
    let opts = AnalyzeOptions::default();
    let title = analyze_stems(set, &opts)?;
    let report = build_report(set, &title, &opts);
    Ok(Reel {
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        truth,
        dialogue: report.dialogue,
        programme: Span::new(
            report.scenes.first().map_or(0.0, |s| s.start_s),
            report.scenes.last().map_or(report.duration_s, |s| s.end_s),
        ),
        title,
    })
}

fn parse_setting(s: &str) -> Result<SegmentConfig> {
    let mut c = SegmentConfig::default();
    for kv in s.split(',').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("{kv}: expected key=value"))?;
        let v: f64 = v.parse().with_context(|| format!("{kv}: not a number"))?;
        match k {
            "window_s" => c.window_s = v,
            "threshold" => c.threshold = v,
            "min_scene_s" => c.min_scene_s = v,
            "dialogue_snap_s" => c.dialogue_snap_s = v,
            "peak_top" => c.peak_top = v,
            "cut_radius_s" => c.cut_radius_s = v,
            "cut_min_gain" => c.cut_min_gain = v,
            "firm_novelty" => c.firm_novelty = v,
            "min_step_gain" => c.min_step_gain = v,
            _ => bail!("{k}: unknown setting"),
        }
    }
    Ok(c)
}

/// Signed errors of matched boundaries, and the counts of false and missed ones.
fn matches(found: &[f64], truth: &[f64]) -> (Vec<f64>, usize, usize) {
    let mut used = vec![false; found.len()];
    let mut errors = Vec::new();
    let mut missed = 0;
    for &t in truth {
        let best = found
            .iter()
            .enumerate()
            .filter(|(j, f)| !used[*j] && (**f - t).abs() <= TOLERANCE_S)
            .min_by(|a, b| (a.1 - t).abs().total_cmp(&(b.1 - t).abs()));
        match best {
            Some((j, f)) => {
                used[j] = true;
                errors.push(f - t);
            }
            None => missed += 1,
        }
    }
    let false_found = used.iter().filter(|u| !**u).count();
    (errors, false_found, missed)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(
        args.next()
            .context("usage: scene_eval REELS [SETTING ...]")?,
    );
    let mut settings: Vec<String> = args.collect();
    if settings.is_empty() {
        settings.push(String::new());
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .with_context(|| format!("{}: cannot list", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("truth.json").is_file())
        .collect();
    dirs.sort();
    let reels = dirs.iter().map(|d| load(d)).collect::<Result<Vec<_>>>()?;
    for setting in &settings {
        let config = parse_setting(setting)?;
        let (mut errors, mut false_found, mut missed) = (Vec::new(), 0, 0);
        for reel in &reels {
            let input = |k: StemKind| {
                reel.title.get(k).map(|a| StemInput {
                    features: &a.features,
                    loudness: &a.loudness,
                })
            };
            let found: Vec<f64> = scenes::segment(
                input(StemKind::Effects),
                input(StemKind::Dialogue),
                &reel.dialogue,
                reel.programme,
                &config,
            )
            .iter()
            .map(|b| b.time_s)
            .collect();
            let (e, f, m) = matches(&found, &reel.truth);
            println!(
                "  {} found {:?} truth {:?}",
                reel.name,
                found
                    .iter()
                    .map(|t| (t * 10.0).round() / 10.0)
                    .collect::<Vec<_>>(),
                reel.truth
                    .iter()
                    .map(|t| (t * 10.0).round() / 10.0)
                    .collect::<Vec<_>>()
            );
            errors.extend(e);
            false_found += f;
            missed += m;
        }
        let hit = errors.len() as f64;
        let p = hit / (hit + false_found as f64).max(1.0);
        let r = hit / (hit + missed as f64).max(1.0);
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        errors.sort_by(f64::total_cmp);
        let within = |s: f64| errors.iter().filter(|e| e.abs() <= s).count();
        println!(
            "[{}] P {p:.3} R {r:.3} F1 {f1:.3} ({} false, {} missed); {} of {} within 1 s, {} within 0.5 s; errors {:?}",
            if setting.is_empty() {
                "defaults"
            } else {
                setting
            },
            false_found,
            missed,
            within(1.0),
            errors.len(),
            within(0.5),
            errors
                .iter()
                .map(|e| (e * 100.0).round() / 100.0)
                .collect::<Vec<_>>()
        );
    }
    Ok(())
}
