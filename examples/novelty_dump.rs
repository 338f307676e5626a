//! Development aid: the music stem's novelty curves, one TSV row per tested point of each audible run,
//! for offline study of segue placement (scratch use, not a product). Columns: run start, run end,
//! time tested, 12 s novelty, the run's median 12 s novelty, pitch-class distance (-1: none), and the
//! novelty with 3, 4 and 6 s windows (-1 where a side is too short).
//!
//!     cargo run --release --example novelty_dump -- /tmp/dev-reels/DEV1 > DEV1.tsv
//!
//! With a second argument `levels`, it prints instead one row per texture window: start time, mean
//! level in dB, whether the window is usable for the change test, and its pitch-class profile;
//! with `onsets`, one row per frame: time and spectral flux (the onset strength); with `peaks`, one
//! row per novelty peak of each run (see `novelty::peaks`) at 1.0x the run median or more: run start,
//! run end, time, ratio to the median, same-piece veto (0/1), and the beat reading there
//! (`beat::OnsetEnvelope::read`: two-sided over one-sided comb, strength before, strength after;
//! -1 when a side is too short). With `local`, the same columns for every local maximum of the
//! 12 s curve (top within ±1 s, 1.0x the median or more, `min_segment_s` from the run's ends), plus
//! its dominance radius: the distance to the nearest higher point of the curve (999 when none);
//! `peaks` are those whose radius exceeds `window_s`, the rest are secondary peaks. With `date`,
//! one row per change point as the detector finds it (`novelty::change_points`, then
//! `novelty::refine_change_points`): the 12 s peak, the refined time, the beat reading at the
//! refined time (ratio, strengths), then for each gap of 1.5, 3 and 4.5 s the change dated by the
//! beat grids (`date_change` below: each side's best comb fitted beyond the gap, the teeth within
//! ±3 s split where the earlier grid stops and the later one starts agreeing), the two combs'
//! periods and strengths, and the split's gain; then per gap the time a sliding 2.5 s window dates
//! (where the two grids' agreement is equal); studied by tools/reference/beat_date_study.py.
use std::path::Path;
use stemscope::detect::music::beat::{BeatConfig, OnsetEnvelope};
use stemscope::detect::music::{LevelTrack, NoveltyConfig, activity, beat, novelty};
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
    if std::env::args().nth(2).as_deref() == Some("onsets") {
        // Per frame: time, spectral flux (the onset strength).
        let hop = mx.features.frame_hop_s;
        for (k, f) in mx.features.frames.iter().enumerate() {
            println!("{:.3}\t{:.5}", k as f64 * hop, f.flux);
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("date") {
        // Per change point as detected: the 12 s peak, today's refined time, the beat reading at
        // the peak (two-sided over one-sided, strengths), then per (gap, radius) the beat-dated
        // time, the two grids' periods and strengths, and the step's gain.
        let env = beat::OnsetEnvelope::of_track(&mx.features, &cfg.beat);
        for run in &runs {
            let curve = novelty::novelty_curve(&desc, run, &cfg);
            let same = |t: f64| novelty::same_piece(&desc, run, t, &cfg);
            let cont = |t: f64| {
                env.read(run, t, &cfg.beat)
                    .and_then(|r| r.continuity(cfg.beat.min_strength))
            };
            let raw = novelty::change_points(&curve, run, &cfg, same, cont);
            let refined = novelty::refine_change_points(&desc, run, raw.clone(), &cfg);
            for (&t0, &t1) in raw.iter().zip(&refined) {
                let r = env.read(run, t1, &cfg.beat);
                let (c, sb, sa) = r.map_or((-1.0, -1.0, -1.0), |r| {
                    (r.ratio, r.strength_before, r.strength_after)
                });
                let mut row = format!("{t0:.2}\t{t1:.2}\t{c:.4}\t{sb:.2}\t{sa:.2}");
                for (gap, radius) in [(1.5, 3.0), (3.0, 3.0), (4.5, 3.0)] {
                    match date_change(&env, run, t1, gap, radius, 1.0, &cfg.beat) {
                        Some(d) => {
                            row += &format!(
                                "\t{:.2}\t{:.4}\t{:.4}\t{:.2}\t{:.2}\t{:.3}",
                                d.t_s,
                                d.before.period_s,
                                d.after.period_s,
                                d.before.strength,
                                d.after.strength,
                                d.gain
                            )
                        }
                        None => row += "\t-1\t-1\t-1\t-1\t-1\t-1",
                    }
                }
                // Then the sliding-window crossing for each gap (-1: none).
                for gap in [1.5, 3.0, 4.5] {
                    let c = date_change(&env, run, t1, gap, 3.0, 1.0, &cfg.beat)
                        .and_then(|d| d.crossing_s)
                        .unwrap_or(-1.0);
                    row += &format!("\t{c:.2}");
                }
                println!("{row}");
            }
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("local") {
        let env = beat::OnsetEnvelope::of_track(&mx.features, &cfg.beat);
        for run in &runs {
            let curve = novelty::novelty_curve(&desc, run, &cfg);
            let (med, _) = novelty::peaks(&curve, run, &cfg);
            if med <= 0.0 {
                continue;
            }
            for &(t, v) in &curve {
                if v < med
                    || t < run.start_s + cfg.min_segment_s
                    || t > run.end_s - cfg.min_segment_s
                {
                    continue;
                }
                let radius = curve
                    .iter()
                    .filter(|&&(_, w)| w > v)
                    .map(|&(u, _)| (u - t).abs())
                    .fold(999.0, f64::min);
                if radius <= 1.0 {
                    continue;
                }
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
    if std::env::args().nth(2).as_deref() == Some("peaks") {
        let env = beat::OnsetEnvelope::of_track(&mx.features, &cfg.beat);
        for run in &runs {
            let curve = novelty::novelty_curve(&desc, run, &cfg);
            let (med, found) = novelty::peaks(&curve, run, &cfg);
            for (t, v) in found.into_iter().filter(|&(_, v)| med > 0.0 && v >= med) {
                let veto = novelty::same_piece(&desc, run, t, &cfg);
                let r = env.read(run, t, &cfg.beat);
                let (c, sb, sa) = r.map_or((-1.0, -1.0, -1.0), |r| {
                    (r.ratio, r.strength_before, r.strength_after)
                });
                println!(
                    "{:.2}\t{:.2}\t{:.2}\t{:.4}\t{}\t{:.4}\t{:.3}\t{:.3}",
                    run.start_s,
                    run.end_s,
                    t,
                    v / med,
                    u8::from(veto),
                    c,
                    sb,
                    sa
                );
            }
        }
        return Ok(());
    }
    if std::env::args().nth(2).as_deref() == Some("levels") {
        // Per texture window: start time, mean level (dB, relative use only), usable flag, then
        // the pitch-class profile when there is one.
        let pcs = desc.chroma.len() / desc.len().max(1);
        for k in 0..desc.len() {
            let profile: Vec<String> = desc.chroma[k * pcs..(k + 1) * pcs]
                .iter()
                .map(|v| format!("{v:.4}"))
                .collect();
            println!(
                "{:.2}\t{:.2}\t{}\t{}",
                k as f64 * desc.hop_s,
                desc.level_db[k],
                u8::from(desc.usable[k]),
                profile.join("\t")
            );
        }
        return Ok(());
    }
    for run in &runs {
        let curve = novelty::novelty_curve(&desc, run, &cfg);
        let mut v: Vec<f64> = curve.iter().map(|c| c.1).collect();
        v.sort_by(f64::total_cmp);
        let med = if v.is_empty() { 0.0 } else { v[v.len() / 2] };
        let scales: Vec<Vec<(f64, f64)>> = [3.0, 4.0, 6.0]
            .iter()
            .map(|&w| {
                novelty::novelty_curve(
                    &desc,
                    run,
                    &NoveltyConfig {
                        window_s: w,
                        min_side_s: 1.0,
                        ..cfg.clone()
                    },
                )
            })
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

/// The sliding window of the crossing reading, seconds.
const CROSS_WINDOW_S: f64 = 2.5;

/// One side's best comb: its teeth at `origin_s + k * period_s` for every integer `k`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Comb {
    period_s: f64,
    origin_s: f64,
    /// Standard errors above the side's mean envelope (see `beat`'s module doc).
    strength: f64,
}

/// Where the onset envelope stops following one grid and starts following another.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BeatDate {
    /// The time dated, seconds.
    t_s: f64,
    /// The sliding-window reading's time (`None`: the balance does not cross).
    crossing_s: Option<f64>,
    before: Comb,
    after: Comb,
    /// The split's score less the better of no change either way (all teeth read as the earlier
    /// grid's, or all as the later one's): how much the change explains, for confidence.
    gain: f64,
}

/// The best comb (highest standard score) over `[from_s, to_s)`; `None` when shorter than
/// `min_side_s`.
fn side_comb(e: &OnsetEnvelope, from_s: f64, to_s: f64, cfg: &BeatConfig) -> Option<Comb> {
    if e.values().is_empty() || e.hop_s() <= 0.0 {
        return None;
    }
    let n = e.values().len() as f64;
    let frame = |s: f64| (s / e.hop_s()).round().clamp(0.0, n) as usize;
    let (a0, a1) = (frame(from_s), frame(to_s));
    let min_side = (cfg.min_side_s / e.hop_s()).round() as usize;
    if a1 < a0 + min_side.max(1) {
        return None;
    }
    let (p_lo, p_hi) = (cfg.min_period_s / e.hop_s(), cfg.max_period_s / e.hop_s());
    if !(p_lo >= 1.0 && p_hi >= p_lo) {
        return None;
    }
    let env = &e.values()[a0..a1];
    let len = env.len() as f64;
    let m = env.iter().map(|&v| v as f64).sum::<f64>() / len;
    let m2 = env.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / len;
    let sd = (m2 - m * m).max(0.0).sqrt();
    if sd <= 0.0 {
        return None;
    }
    let tol = ((cfg.smear_s / e.hop_s()).max(0.5)).min(p_lo / 4.0);
    let mut best: Option<(f64, f64, f64)> = None;
    let mut p = p_lo;
    while p <= p_hi + 1e-9 {
        for phase in 0..p.ceil() as usize {
            let (mut s, mut k) = (0f64, 0usize);
            let mut x = phase as f64;
            while x < len {
                let i = x.round() as usize;
                if i < env.len() {
                    s += env[i] as f64;
                    k += 1;
                }
                x += p;
            }
            if k > 0 {
                let z = (s - k as f64 * m) / (sd * (k as f64).sqrt());
                if best.is_none_or(|b| z > b.0) {
                    best = Some((z, p, phase as f64));
                }
            }
        }
        p += (2.0 * tol * p / len).max(1e-3);
    }
    best.map(|(z, p, phase)| Comb {
        period_s: p * e.hop_s(),
        origin_s: (a0 as f64 + phase) * e.hop_s(),
        strength: z,
    })
}

/// Dates the change near `t` from the two grids: the earlier piece's comb fitted on
/// `side_s` before `t - gap_s`, the later one's on `side_s` after `t + gap_s`, then the time
/// `u` within `radius_s` of `t` that best splits the teeth in between into the earlier grid's
/// agreeing before `u` and the later grid's after it. Each tooth reads the envelope less its
/// local mean (over `local_s`), scaled by its grid's period so both grids count per second.
fn date_change(
    e: &OnsetEnvelope,
    run: &Span,
    t: f64,
    gap_s: f64,
    radius_s: f64,
    local_s: f64,
    cfg: &BeatConfig,
) -> Option<BeatDate> {
    let before = side_comb(e, run.start_s.max(t - gap_s - cfg.side_s), t - gap_s, cfg)?;
    let after = side_comb(e, t + gap_s, run.end_s.min(t + gap_s + cfg.side_s), cfg)?;
    let n = e.values().len();
    let hop = e.hop_s();
    let mut prefix = vec![0f64; n + 1];
    for (i, &v) in e.values().iter().enumerate() {
        prefix[i + 1] = prefix[i] + v as f64;
    }
    let half = ((local_s / hop / 2.0).round() as usize).max(1);
    let excess = |s: f64| -> Option<f64> {
        let i = (s / hop).round();
        if i < 0.0 || i >= n as f64 {
            return None;
        }
        let i = i as usize;
        let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
        Some(e.values()[i] as f64 - (prefix[b] - prefix[a]) / (b - a) as f64)
    };
    let (lo, hi) = (t - radius_s, t + radius_s);
    // Teeth in the scanned span: (time, weighted excess, +1 earlier grid / -1 later grid).
    let mut teeth: Vec<(f64, f64, bool)> = Vec::new();
    for (comb, early) in [(before, true), (after, false)] {
        let k0 = ((lo - comb.origin_s) / comb.period_s).ceil() as i64;
        let mut k = k0;
        loop {
            let s = comb.origin_s + k as f64 * comb.period_s;
            if s > hi {
                break;
            }
            if let Some(e) = excess(s) {
                teeth.push((s, e * comb.period_s, early));
            }
            k += 1;
        }
    }
    teeth.sort_by(|a, b| a.0.total_cmp(&b.0));
    // S(u) = sum of earlier teeth before u + sum of later teeth from u on.
    let later_total: f64 = teeth.iter().filter(|x| !x.2).map(|x| x.1).sum();
    let mut s = later_total;
    let (mut best_s, mut best_u) = (s, lo);
    for (i, &(tt, e, early)) in teeth.iter().enumerate() {
        if early {
            s += e
        } else {
            s -= e
        }
        let next = teeth.get(i + 1).map_or(hi, |x| x.0);
        let u = 0.5 * (tt + next);
        if s > best_s {
            best_s = s;
            best_u = u;
        }
    }
    let base = later_total.max(teeth.iter().filter(|x| x.2).map(|x| x.1).sum());
    // The sliding-window reading: each grid's agreement per second over `CROSS_WINDOW_S`, and the
    // down-crossing of (earlier - later) nearest `t`, where the two are equally strong.
    let balance = |u: f64| {
        let w = CROSS_WINDOW_S / 2.0;
        teeth
            .iter()
            .filter(|x| (x.0 - u).abs() <= w)
            .map(|x| if x.2 { x.1 } else { -x.1 })
            .sum::<f64>()
    };
    let steps = (2.0 * radius_s / 0.05).round() as usize;
    let mut crossing: Option<f64> = None;
    let mut prev = balance(lo);
    for k in 1..=steps {
        let u = lo + k as f64 * 0.05;
        let d = balance(u);
        if prev > 0.0 && d <= 0.0 {
            let c = u - 0.05 * d / (d - prev);
            if crossing.is_none_or(|x| (x - t).abs() > (c - t).abs()) {
                crossing = Some(c);
            }
        }
        prev = d;
    }
    Some(BeatDate {
        t_s: best_u,
        crossing_s: crossing,
        before,
        after,
        gain: best_s - base,
    })
}
