//! Effects stem: activity, ambience bed level over time and loud events.
//!
//! Everything is read from the stem's momentary loudness (400 ms blocks every 100 ms) and judged
//! against the stem itself, never against an absolute level:
//! - **Noise floor and activity.** The floor is the 1st percentile of the non-silent momentary
//!   loudness. Only when it lies far (>= 30 LU) below the stem's integrated loudness is it taken to
//!   be noise (hiss, dither, room tone of an otherwise empty stem), and activity is where the stem
//!   rises 6 LU above it; otherwise the quietest parts are content (an ambience bed running
//!   throughout) and every non-silent block is active. Gaps under 0.5 s are bridged, blips under
//!   0.3 s dropped.
//! - **Ambience bed.** The 10th percentile of the active blocks' loudness in a 10 s window centred
//!   on each second: what remains when the spot effects are gone. One value per second.
//! - **Events.** Stretches whose momentary loudness rises 10 LU above the local bed (and stay until
//!   it falls back under 6 LU above it), or whose 100 ms sample peak rises 15 dB above the bed's
//!   peaks (the 10th percentile of the 100 ms peaks in the same window; stay while 11 dB above):
//!   low, peaky sounds (a whale call, a boom) can hit 0 dBFS while adding little K-weighted
//!   loudness. Event runs less than 0.8 s apart are merged (a hit's bounce or rattle a second
//!   later is the same event).
//! - **Rarity.** An event must also stand out of its surroundings, judged on loudness sustained
//!   over a second (the power mean of 10 momentary blocks) or on its peaks: it must top the 90th
//!   percentile of the ±60 s around it (leaving out 1 s either side of the event) by 3 LU (3 dB).
//!   A bed that is itself eventful (whale calls in a sea ambience, a recurring creak) rises far above
//!   its own 10th percentile again and again: a sound that recurs every few seconds is part of the
//!   bed, a hit is not. The bed's recurring calls are short and vary in level, so on momentary
//!   loudness the loudest of them still top the 90th percentile; over a second they lose more
//!   than a hit that holds its level, and a context of ±60 s holds enough of them. Short hits
//!   (a gunshot, a slam) stand out by their peaks.
//!
//! Measured with `cargo build --release --example fx_events`, its JSON per reel
//! (`fx_events DEVn_FX.wav > OUT/DEVn.json`) and `python3 tools/reference/fx_eval.py REELS OUT
//! LEVELS`, where LEVELS = `tools/reference/fx_hit_levels.py REELS` measures on the stems how far
//! each hit rises above the median of its local bed. Precision / recall (all hits), before (rarity
//! on momentary loudness, ±30 s, merge 0.5 s) -> now:
//! - /tmp/dev-reels (47 hits): 0.75 / 0.57 -> 0.94 / 0.62;
//! - /tmp/cues2/reels-c (119 hits): 0.82 / 0.63 -> 0.95 / 0.61;
//! - /tmp/dev-reels-b (held out, not tuned on, 103 hits): 0.96 / 0.63 -> 1.00 / 0.63.
//!
//! Most missed hits are not loud events: the reels' quiet hits (peaks -18..-8 dBFS over beds of
//! -40..-32 LUFS) often rise under 10 LU above the bed. Of the hits 10 LU or more above the median
//! of their bed, 19/19, 68/71 and 58/61 lie inside an event; one-to-one (one event per hit, as
//! above) 17/19, 55/71 and 46/61: the others overlap (or follow within a second) another hit that
//! their event already counts. Of the 3 + 3 loud hits outside any event, two sit in whale-call
//! beds as loud as themselves and four rise only 10-13 LU above rain or surf beds and fail the
//! rarity test; three of them were events before (rarity on momentary loudness), which in turn
//! missed four that are events now.
//!
//! Onset sharpness (the 10 ms level rise at an event's start) was measured as an alternative and
//! does not separate hits from bed sounds here: bed whale calls rise 10-30 dB within 50 ms, and many
//! hits start inside a sound and rise by under 5 dB, so the detector stays on loudness and peaks.
//! Neither did a bed estimate that follows scene changes (the larger of the 10th percentiles 10 s
//! before and 10 s after), nor counting the excursions of similar level and duration around an
//! event (hits recur too: the reels hold one every 12-20 s).

use serde::Serialize;

use crate::features::FeatureTrack;
use crate::loudness::LoudnessTrace;
use crate::quantile;
use crate::timeline::{EffectsEvent, Span};

/// Where the floor is taken to be noise: this far below the integrated loudness, LU.
const NOISE_FLOOR_BELOW_PROGRAMME_LU: f64 = 30.0;
/// Activity starts this far above a noise floor, LU.
const ACTIVITY_ABOVE_FLOOR_LU: f64 = 6.0;
/// An event starts this far above the bed, LU ...
const EVENT_ENTER_LU: f64 = 10.0;
/// ... and lasts while it stays this far above it.
const EVENT_STAY_LU: f64 = 6.0;
/// Or when the 100 ms peak rises this far above the bed's peaks, dB, and lasts while it stays this
/// far above them.
const PEAK_ENTER_DB: f64 = 15.0;
const PEAK_STAY_DB: f64 = 11.0;
/// Bed window, seconds, and the percentile taken in it.
const BED_WINDOW_S: f64 = 10.0;
const BED_PERCENTILE: f64 = 0.10;
/// A bed value needs this fraction of its window to be active.
const BED_MIN_ACTIVE: f64 = 0.2;
const BRIDGE_GAP_S: f64 = 0.5;
const MIN_ACTIVITY_S: f64 = 0.3;
/// Event runs closer than this are one event (sounds up to ~1.1 s apart, as the 400 ms blocks
/// smear each sound over 0.3 s more): a hit's own bounces and tails (a double bark, a door's
/// rattle after the slam) dip under the stay level for about a second.
const MERGE_EVENTS_S: f64 = 0.8;
/// Rarity test: context either side of an event, seconds, the part of it left out next to the
/// event, the percentile of the context, and the margin above it, LU (or dB for peaks). The
/// context is long so that a bed's recurring sounds fill more than a tenth of it.
const RARITY_CONTEXT_S: f64 = 60.0;
const RARITY_EXCLUDE_S: f64 = 1.0;
const RARITY_PERCENTILE: f64 = 0.9;
const RARITY_MARGIN: f64 = 3.0;
/// With fewer finite context blocks than this the rarity test is not made (an isolated sound).
const RARITY_MIN_CONTEXT: usize = 10;
/// The rarity test compares loudness sustained over this many momentary blocks (1 s of steps,
/// a 1.3 s span): a bed's short recurring calls lose more to it than a hit that holds its level.
const SUSTAINED_BLOCKS: usize = 10;

/// The ambience bed level over time, one value per `step_s` (the window centred on each step's
/// middle). `None` where the window is mostly inactive.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EffectsBed {
    pub step_s: f64,
    pub lufs: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EffectsActivity {
    pub activity: Vec<Span>,
    pub events: Vec<EffectsEvent>,
    pub bed: EffectsBed,
    /// The stem's noise floor (momentary loudness, LUFS), when it has one distinct from content.
    pub noise_floor_lufs: Option<f64>,
}

pub fn detect(fx: &FeatureTrack, loudness: &LoudnessTrace) -> EffectsActivity {
    // The loudness trace carries everything this detector needs; the feature track is kept in the
    // signature for onset refinement.
    let _ = fx;
    let n = loudness.len();
    let step = loudness.step_s;
    if n == 0 || step <= 0.0 {
        return EffectsActivity::default();
    }
    // Momentary loudness per block; -inf for digital silence.
    let level: Vec<f64> = (0..n)
        .map(|i| loudness.momentary_lufs(i).unwrap_or(f64::NEG_INFINITY))
        .collect();
    // Blocks that cover the start of the stem are partial: judge from the first whole block.
    let first_whole = 3.min(n);
    let mut sorted: Vec<f64> = level[first_whole..]
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let Some(floor) = quantile::of_sorted(&sorted, 0.01) else {
        return EffectsActivity::default();
    };
    let programme = loudness.whole().integrated_lufs;
    let noise_floor = programme
        .filter(|p| p - floor >= NOISE_FLOOR_BELOW_PROGRAMME_LU)
        .map(|_| floor);
    let active_threshold = noise_floor.map_or(f64::NEG_INFINITY, |f| f + ACTIVITY_ABOVE_FLOOR_LU);
    let active: Vec<bool> = level
        .iter()
        .enumerate()
        .map(|(i, &l)| i >= first_whole && l.is_finite() && l > active_threshold)
        .collect();

    let steps_of = |s: f64| (s / step).round() as usize;
    let mut runs = runs_of(&active);
    bridge(&mut runs, steps_of(BRIDGE_GAP_S));
    runs.retain(|&(a, b)| b - a >= steps_of(MIN_ACTIVITY_S) + 3);
    let activity = runs.iter().map(|&(a, b)| block_span(a, b, step)).collect();

    let bed = bed_series(&level, &active, step);
    let bed_at = |i: usize| -> f64 {
        // The block ending at step i is centred one step earlier.
        let t = (i as f64 - 1.0).max(0.0) * step;
        bed.lufs
            .get((t / bed.step_s) as usize)
            .copied()
            .flatten()
            .unwrap_or(floor)
    };
    // Peaks, dB per 100 ms step (absent from a mix estimated from energies).
    let peak_db: Vec<f64> = loudness
        .sample_peak
        .iter()
        .map(|&p| {
            if p > 0.0 {
                20.0 * (p as f64).log10()
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let peak_bed = (peak_db.len() == n).then(|| bed_series(&peak_db, &active, step));
    let peak_above = |i: usize| -> f64 {
        let Some(pb) = peak_bed.as_ref() else {
            return f64::NEG_INFINITY;
        };
        match pb
            .lufs
            .get((i as f64 * step / pb.step_s) as usize)
            .copied()
            .flatten()
        {
            Some(b) => peak_db[i] - b,
            None => f64::NEG_INFINITY,
        }
    };
    let enters =
        |i: usize| level[i] - bed_at(i) >= EVENT_ENTER_LU || peak_above(i) >= PEAK_ENTER_DB;
    let stays = |i: usize| level[i] - bed_at(i) >= EVENT_STAY_LU || peak_above(i) >= PEAK_STAY_DB;
    let mut event_runs: Vec<(usize, usize)> = Vec::new();
    let mut i = first_whole;
    while i < n {
        if enters(i) {
            // Start where it first rose above the stay level.
            let mut a = i;
            while a > first_whole && stays(a - 1) {
                a -= 1;
            }
            let mut b = i + 1;
            while b < n && stays(b) {
                b += 1;
            }
            event_runs.push((a, b));
            i = b;
        } else {
            i += 1;
        }
    }
    bridge(&mut event_runs, steps_of(MERGE_EVENTS_S));
    let rarity = Rarity {
        context: steps_of(RARITY_CONTEXT_S),
        exclude: steps_of(RARITY_EXCLUDE_S),
    };
    let sustained = sustained_db(&level, SUSTAINED_BLOCKS);
    let events = event_runs
        .iter()
        .filter(|&&(a, b)| rarity.stands_out(&sustained, a, b) || rarity.stands_out(&peak_db, a, b))
        .filter_map(|&(a, b)| {
            let (peak_i, peak) = (a..b)
                .map(|i| (i, level[i]))
                .max_by(|x, y| x.1.total_cmp(&y.1))?;
            let span = block_span(a, b, step);
            Some(EffectsEvent {
                start_s: span.start_s,
                end_s: span.end_s,
                peak_lufs: peak,
                above_bed_lu: peak - bed_at(peak_i),
            })
        })
        .collect();

    EffectsActivity {
        activity,
        events,
        bed,
        noise_floor_lufs: noise_floor,
    }
}

/// The rarity test of an event run, in steps of the loudness trace.
struct Rarity {
    context: usize,
    exclude: usize,
}

impl Rarity {
    /// Whether the maximum of `x` over the run `[a, b)` tops the 90th percentile of the finite
    /// values around it by the margin. An event with too little context stands out by default;
    /// a series with no value in the run (no peaks) does not.
    fn stands_out(&self, x: &[f64], a: usize, b: usize) -> bool {
        let b = b.min(x.len());
        let Some(top) = x.get(a..b).and_then(|run| {
            run.iter()
                .copied()
                .filter(|v| v.is_finite())
                .reduce(f64::max)
        }) else {
            return false;
        };
        let before = a.saturating_sub(self.context)..a.saturating_sub(self.exclude);
        let after = (b + self.exclude).min(x.len())..(b + self.context).min(x.len());
        let mut ctx: Vec<f64> = x[before]
            .iter()
            .chain(&x[after])
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if ctx.len() < RARITY_MIN_CONTEXT {
            return true;
        }
        ctx.sort_unstable_by(f64::total_cmp);
        quantile::of_sorted(&ctx, RARITY_PERCENTILE).is_some_and(|p| top - p >= RARITY_MARGIN)
    }
}

/// The power mean of `k` consecutive blocks of a dB series, centred on each block, in dB (`-inf`
/// where every block is silent). The same shift of every input gives the same shift out.
fn sustained_db(level: &[f64], k: usize) -> Vec<f64> {
    let n = level.len();
    let mut cumulative = Vec::with_capacity(n + 1);
    cumulative.push(0.0);
    let mut sum = 0.0;
    for &l in level {
        // -inf (silence) is zero power.
        sum += 10f64.powf(l / 10.0);
        cumulative.push(sum);
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(k / 2);
            let hi = (lo + k).min(n);
            let mean = (cumulative[hi] - cumulative[lo]) / (hi - lo) as f64;
            if mean > 0.0 {
                10.0 * mean.log10()
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect()
}

/// The time span of the sound behind a run `[a, b)` of 400 ms blocks (block `i` ends at the end of
/// step `i`): a sound in step `j` lifts blocks `j..=j + 3`.
fn block_span(a: usize, b: usize, step: f64) -> Span {
    let end = b.saturating_sub(3).max(a + 1);
    Span::new(a as f64 * step, end as f64 * step)
}

fn runs_of(mask: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &m) in mask.iter().chain(std::iter::once(&false)).enumerate() {
        match (m, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Merges runs separated by fewer than `gap` steps.
fn bridge(runs: &mut Vec<(usize, usize)>, gap: usize) {
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
    for &(a, b) in runs.iter() {
        match out.last_mut() {
            Some(last) if a < last.1 + gap => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    *runs = out;
}

/// 10th percentile of the active steps' `level` (loudness or peaks) over a 10 s window centred on
/// each second.
fn bed_series(level: &[f64], active: &[bool], step: f64) -> EffectsBed {
    let n = level.len();
    let seconds = ((n as f64 * step).ceil() as usize).max(1);
    let half = (BED_WINDOW_S / 2.0 / step).round() as usize;
    let mut window: Vec<f64> = Vec::with_capacity(2 * half + 1);
    let lufs = (0..seconds)
        .map(|k| {
            // Blocks are centred one step before their index.
            let centre = ((k as f64 + 0.5) / step) as usize + 1;
            let lo = centre.saturating_sub(half);
            let hi = (centre + half).min(n);
            window.clear();
            window.extend((lo..hi).filter(|&i| active[i]).map(|i| level[i]));
            if (window.len() as f64) < BED_MIN_ACTIVE * (2 * half) as f64 {
                return None;
            }
            window.sort_unstable_by(f64::total_cmp);
            quantile::of_sorted(&window, BED_PERCENTILE)
        })
        .collect();
    EffectsBed { step_s: 1.0, lufs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ChannelRole;
    use crate::loudness::LoudnessMeter;
    use crate::rng::Rng;

    fn db(x: f64) -> f32 {
        10f64.powf(x / 20.0) as f32
    }

    /// The loudness trace of mono samples at `rate`, as the pipeline meters a stem.
    fn trace_of(x: &[f32], rate: u32) -> LoudnessTrace {
        let mut m = LoudnessMeter::new(&[ChannelRole::Mono], rate, false).unwrap();
        m.push(x).unwrap();
        m.finish()
    }

    /// A bed at `bed_db` with bursts `(start_s, dur_s, level_db)`, and digital silence in `gaps`.
    fn fx_trace(
        seconds: f64,
        bed_db: f64,
        bursts: &[(f64, f64, f64)],
        gaps: &[(f64, f64)],
    ) -> LoudnessTrace {
        let rate = 16_000u32;
        let mut noise = Rng::new(9);
        let x: Vec<f32> = (0..(seconds * rate as f64) as usize)
            .map(|i| {
                let t = i as f64 / rate as f64;
                if gaps.iter().any(|&(a, b)| (a..b).contains(&t)) {
                    return 0.0;
                }
                let mut v = db(bed_db) * noise.noise();
                for &(s, d, l) in bursts {
                    if (s..s + d).contains(&t) {
                        v += db(l) * noise.noise();
                    }
                }
                v
            })
            .collect();
        trace_of(&x, rate)
    }

    #[test]
    fn hits_above_the_bed_are_events_and_the_bed_is_measured_at_any_level() {
        let bursts = [(10.0, 1.0, -10.0), (25.0, 2.0, -14.0), (40.0, 0.5, -8.0)];
        for offset in [0.0, -25.0] {
            let b: Vec<_> = bursts.iter().map(|&(s, d, l)| (s, d, l + offset)).collect();
            let t = fx_trace(60.0, -40.0 + offset, &b, &[]);
            let fx = detect(&FeatureTrack::default(), &t);
            assert_eq!(fx.events.len(), 3, "offset {offset}: {:?}", fx.events);
            for (e, &(s, d, _)) in fx.events.iter().zip(&b) {
                assert!(
                    (e.start_s - s).abs() <= 0.3 && (e.end_s - (s + d)).abs() <= 0.4,
                    "offset {offset}: event {e:?} vs burst at {s} for {d}"
                );
                assert!(e.above_bed_lu > 15.0, "{e:?}");
            }
            // The bed tracks the noise level, not the bursts.
            let bed = fx.bed.lufs[30].unwrap();
            // (The median momentary loudness of the last 10 s, where only the bed plays; at -65 dBFS
            // it is under the -70 LUFS gate, so not an integrated loudness.)
            let mut tail: Vec<f64> = (500..600).filter_map(|i| t.momentary_lufs(i)).collect();
            tail.sort_unstable_by(f64::total_cmp);
            let bed_ref = tail[tail.len() / 2];
            assert!((bed - bed_ref).abs() < 1.5, "bed {bed} vs {bed_ref}");
            // A bed that runs throughout is activity, not noise.
            assert_eq!(fx.noise_floor_lufs, None);
            assert_eq!(fx.activity.len(), 1, "{:?}", fx.activity);
        }
    }

    #[test]
    fn a_sound_that_recurs_in_the_bed_is_not_an_event_but_a_single_hit_is() {
        // A -40 dB bed with a 12 dB louder swell for 1 s in every 4 (waves, a whale calling), and one
        // hit at 30 s: the swells rise 10 LU above the bed's 10th percentile again and again, but
        // they are the bed; only the hit stands out of its surroundings.
        let mut bursts: Vec<(f64, f64, f64)> = (0..15)
            .map(|k| (2.0 + 4.0 * k as f64, 1.0, -28.0))
            .filter(|&(s, _, _)| !(28.0..33.0).contains(&s))
            .collect();
        bursts.push((30.0, 1.0, -10.0));
        let t = fx_trace(60.0, -40.0, &bursts, &[]);
        let fx = detect(&FeatureTrack::default(), &t);
        assert_eq!(fx.events.len(), 1, "{:?}", fx.events);
        let e = &fx.events[0];
        assert!(
            (e.start_s - 30.0).abs() <= 0.3 && (e.end_s - 31.0).abs() <= 0.4,
            "{e:?}"
        );
    }

    /// A -45 dB bed with a 0.7 s call every 3 s at -15, -17, -19 or -21 dB (a whale, a creak),
    /// and one 2.5 s hit at -15 dB at 60 s, all shifted by `offset` dB.
    fn bed_with_calls_and_a_hit(offset: f64) -> LoudnessTrace {
        let mut bursts: Vec<(f64, f64, f64)> = (0..40)
            .map(|k| {
                (
                    1.0 + 3.0 * k as f64,
                    0.7,
                    [-15.0, -17.0, -19.0, -21.0][k % 4],
                )
            })
            .filter(|&(s, _, _)| !(56.0..64.0).contains(&s))
            .collect();
        bursts.push((60.0, 2.5, -15.0));
        let b: Vec<_> = bursts.iter().map(|&(s, d, l)| (s, d, l + offset)).collect();
        fx_trace(120.0, -45.0 + offset, &b, &[])
    }

    #[test]
    fn short_calls_recurring_in_the_bed_are_not_events_but_a_sustained_hit_as_loud_is() {
        // The loudest calls are as loud as the hit and rise 30 LU above the bed's 10th percentile,
        // and their level varies so that the loudest top the 90th percentile of the momentary
        // loudness around them; but they are the bed's own recurring sound. The hit holds its
        // level for 2.5 s and stands out of them in loudness sustained over a second.
        let fx = detect(&FeatureTrack::default(), &bed_with_calls_and_a_hit(0.0));
        assert_eq!(fx.events.len(), 1, "{:?}", fx.events);
        let e = &fx.events[0];
        assert!(
            (e.start_s - 60.0).abs() <= 0.3 && (e.end_s - 62.5).abs() <= 0.4,
            "{e:?}"
        );
        assert!(e.above_bed_lu > 25.0, "{e:?}");
    }

    #[test]
    fn the_same_stem_20_db_quieter_gives_the_same_events_and_a_bed_20_lu_lower() {
        let loud = detect(&FeatureTrack::default(), &bed_with_calls_and_a_hit(0.0));
        let quiet = detect(&FeatureTrack::default(), &bed_with_calls_and_a_hit(-20.0));
        assert_eq!(loud.events.len(), quiet.events.len(), "{:?}", quiet.events);
        for (l, q) in loud.events.iter().zip(&quiet.events) {
            assert!((l.start_s - q.start_s).abs() < 0.05, "{l:?} vs {q:?}");
            assert!((l.end_s - q.end_s).abs() < 0.05, "{l:?} vs {q:?}");
            assert!(
                (l.above_bed_lu - q.above_bed_lu).abs() < 0.5,
                "{l:?} vs {q:?}"
            );
        }
        for (l, q) in loud.bed.lufs.iter().zip(&quiet.bed.lufs) {
            if let (Some(l), Some(q)) = (l, q) {
                assert!((l - q - 20.0).abs() < 0.5, "bed {l} vs {q}");
            }
        }
    }

    #[test]
    fn a_hit_and_its_bounce_a_second_later_are_one_event_a_second_hit_is_another() {
        // Hit 20.0-20.5 s, its bounce 21.5-21.8 s (1 s gap); another hit at 30 s.
        let t = fx_trace(
            50.0,
            -40.0,
            &[(20.0, 0.5, -12.0), (21.5, 0.3, -14.0), (30.0, 0.5, -12.0)],
            &[],
        );
        let fx = detect(&FeatureTrack::default(), &t);
        assert_eq!(fx.events.len(), 2, "{:?}", fx.events);
        let e = &fx.events[0];
        assert!(
            (e.start_s - 20.0).abs() <= 0.3 && (e.end_s - 21.8).abs() <= 0.4,
            "{e:?}"
        );
        assert!(
            (fx.events[1].start_s - 30.0).abs() <= 0.3,
            "{:?}",
            fx.events
        );
    }

    #[test]
    fn activity_is_above_the_stems_own_noise_floor() {
        // A stem of faint noise (-95 dBFS) with two sounds; silence is not activity either.
        let t = fx_trace(
            40.0,
            -95.0,
            &[(5.0, 8.0, -30.0), (20.0, 6.0, -35.0)],
            &[(30.0, 40.0)],
        );
        let fx = detect(&FeatureTrack::default(), &t);
        assert!(fx.noise_floor_lufs.is_some());
        assert_eq!(fx.activity.len(), 2, "{:?}", fx.activity);
        let a = &fx.activity[0];
        assert!(
            (a.start_s - 5.0).abs() < 0.3 && (a.end_s - 13.0).abs() < 0.3,
            "{a:?}"
        );
        let b = &fx.activity[1];
        assert!(
            (b.start_s - 20.0).abs() < 0.3 && (b.end_s - 26.0).abs() < 0.3,
            "{b:?}"
        );
    }

    #[test]
    fn a_peaky_sound_that_adds_little_loudness_is_an_event_by_its_peaks() {
        // Clicks near full scale every 100 ms for 1 s over a bed of noise peaking at -36 dBFS:
        // they raise the loudness only a few LU above the bed, their peaks are 35 dB above its
        // peaks.
        let rate = 16_000usize;
        let mut noise = Rng::new(3);
        let x: Vec<f32> = (0..rate * 40)
            .map(|i| {
                let click = (20 * rate..21 * rate).contains(&i) && i % (rate / 10) == 0;
                db(-36.0) * noise.noise() + if click { 0.9 } else { 0.0 }
            })
            .collect();
        let fx = detect(&FeatureTrack::default(), &trace_of(&x, rate as u32));
        assert_eq!(fx.events.len(), 1, "{:?}", fx.events);
        let e = &fx.events[0];
        assert!(
            e.start_s <= 20.1 && e.end_s >= 20.9 && e.end_s <= 21.5,
            "{e:?}"
        );
        assert!(
            e.above_bed_lu < 10.0,
            "by its peaks, not its loudness: {e:?}"
        );
    }

    #[test]
    fn an_empty_or_silent_stem_has_nothing() {
        let t = fx_trace(5.0, -200.0, &[], &[(0.0, 5.0)]);
        assert_eq!(
            detect(&FeatureTrack::default(), &t),
            EffectsActivity::default()
        );
        assert_eq!(
            detect(&FeatureTrack::default(), &LoudnessTrace::default()),
            EffectsActivity::default()
        );
    }
}
