//! Where a stem is audible: a level track (dB over time), the stem's own floor, and hysteresis
//! thresholds relative to that floor, so that a cue at -38 LUFS on a silent stem is as audible as one
//! at -20.

use crate::features::FeatureTrack;
use crate::loudness::LoudnessTrace;
use crate::quantile;
use crate::timeline::Span;

/// Level of a stem over time on a regular grid, dB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelTrack {
    /// Seconds between values; value `i` covers `[i * step_s, (i + 1) * step_s)`.
    pub step_s: f64,
    pub db: Vec<f32>,
}

/// Level values are floored here (digital silence).
pub const SILENCE_DB: f32 = -120.0;

impl LevelTrack {
    /// The feature frames' RMS levels (10 ms) when there are any, else the loudness meter's momentary
    /// energies (100 ms): the frames give finer boundaries, the loudness trace is a fallback.
    pub fn of_stem(track: &FeatureTrack, loudness: &LoudnessTrace) -> LevelTrack {
        if !track.frames.is_empty() && track.frame_hop_s > 0.0 {
            return LevelTrack {
                step_s: track.frame_hop_s,
                db: track.frames.iter().map(|f| sanitize(f.rms_db)).collect(),
            };
        }
        if loudness.step_s > 0.0 {
            return LevelTrack {
                step_s: loudness.step_s,
                db: loudness
                    .momentary
                    .iter()
                    .map(|&e| sanitize(10.0 * e.max(0.0).log10()))
                    .collect(),
            };
        }
        LevelTrack::default()
    }

    pub fn duration_s(&self) -> f64 {
        self.db.len() as f64 * self.step_s
    }

    pub fn index_at(&self, t: f64) -> usize {
        if self.step_s <= 0.0 {
            return 0;
        }
        ((t / self.step_s).floor().max(0.0) as usize).min(self.db.len())
    }
}

fn sanitize(db: f32) -> f32 {
    if db.is_finite() {
        db.max(SILENCE_DB)
    } else {
        SILENCE_DB
    }
}

/// Audibility thresholds of one stem, dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// The stem's floor (a low percentile of its level).
    pub floor_db: f32,
    /// A run must rise above this somewhere to count.
    pub on_db: f32,
    /// A run lasts while the level stays above this (catches fade-in starts and fade-out tails).
    pub off_db: f32,
}

/// Settings of [`audible_spans`].
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityConfig {
    /// Percentile (0..=1) of the level taken as the stem's floor.
    pub floor_quantile: f64,
    /// Percentile taken as the stem's loud music level.
    pub loud_quantile: f64,
    /// Largest margin above the floor to switch on, dB (used when the stem has that much range).
    pub on_margin_db: f32,
    /// Smallest margin above the floor to switch on, dB.
    pub min_on_margin_db: f32,
    /// The switch-on threshold stays at least this far below the loud level, dB: on a stem with
    /// little range (music throughout, no silence) the quiet passages still count.
    pub headroom_db: f32,
    /// Gaps shorter than this inside music are bridged: a pause inside a cue does not end it.
    pub max_gap_s: f64,
    /// Shorter audible runs (after bridging) are dropped; stingers of 3 s are kept.
    pub min_span_s: f64,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        ActivityConfig {
            floor_quantile: 0.02,
            loud_quantile: 0.98,
            on_margin_db: 12.0,
            min_on_margin_db: 3.0,
            headroom_db: 20.0,
            max_gap_s: 2.5,
            min_span_s: 2.0,
        }
    }
}

/// Thresholds from the level distribution: relative to the stem's own floor, never absolute.
pub fn thresholds(level: &LevelTrack, cfg: &ActivityConfig) -> Option<Thresholds> {
    let floor_db = quantile::of(&level.db, cfg.floor_quantile)?;
    let loud_db = quantile::of(&level.db, cfg.loud_quantile)?;
    let on_margin =
        (loud_db - floor_db - cfg.headroom_db).clamp(cfg.min_on_margin_db, cfg.on_margin_db);
    Some(Thresholds {
        floor_db,
        on_db: floor_db + on_margin,
        off_db: floor_db + on_margin / 2.0,
    })
}

/// Spans where the stem is audible: runs above `off_db` that reach `on_db`, gaps under `max_gap_s`
/// bridged, spans under `min_span_s` dropped.
pub fn audible_spans(level: &LevelTrack, cfg: &ActivityConfig) -> Vec<Span> {
    let Some(th) = thresholds(level, cfg) else {
        return Vec::new();
    };
    if th.on_db <= SILENCE_DB {
        return Vec::new();
    }
    let mut runs: Vec<Span> = Vec::new();
    let mut start: Option<usize> = None;
    let mut reached_on = false;
    let n = level.db.len();
    for i in 0..=n {
        let above = i < n && level.db[i] > th.off_db;
        match (start, above) {
            (None, true) => {
                start = Some(i);
                reached_on = level.db[i] > th.on_db;
            }
            (Some(_), true) => reached_on |= level.db[i] > th.on_db,
            (Some(s), false) => {
                if reached_on {
                    runs.push(Span::new(s as f64 * level.step_s, i as f64 * level.step_s));
                }
                start = None;
            }
            (None, false) => {}
        }
    }
    let mut merged: Vec<Span> = Vec::new();
    for r in runs {
        match merged.last_mut() {
            Some(last) if r.start_s - last.end_s < cfg.max_gap_s => last.end_s = r.end_s,
            _ => merged.push(r),
        }
    }
    merged.retain(|s| s.duration_s() >= cfg.min_span_s);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(step_s: f64, parts: &[(f64, f32)]) -> LevelTrack {
        let mut db = Vec::new();
        for &(dur, level) in parts {
            let n = (dur / step_s).round() as usize;
            db.extend(std::iter::repeat_n(level, n));
        }
        LevelTrack { step_s, db }
    }

    #[test]
    fn quiet_cue_on_a_silent_stem_is_found_like_a_loud_one() {
        let cfg = ActivityConfig::default();
        let quiet = track(0.01, &[(10.0, -120.0), (20.0, -45.0), (10.0, -120.0)]);
        let loud = track(0.01, &[(10.0, -120.0), (20.0, -18.0), (10.0, -120.0)]);
        let q = audible_spans(&quiet, &cfg);
        let l = audible_spans(&loud, &cfg);
        assert_eq!(q.len(), 1);
        assert_eq!(q, l);
        assert!((q[0].start_s - 10.0).abs() < 0.02 && (q[0].end_s - 30.0).abs() < 0.02);
    }

    #[test]
    fn threshold_follows_a_noise_floor_not_an_absolute_level() {
        let cfg = ActivityConfig::default();
        // Floor at -80 dB: a -76 dB wobble of the floor is not music, a -45 dB cue is.
        let lv = track(
            0.01,
            &[
                (10.0, -80.0),
                (3.0, -76.0),
                (10.0, -80.0),
                (15.0, -45.0),
                (10.0, -80.0),
            ],
        );
        let spans = audible_spans(&lv, &cfg);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert!((spans[0].start_s - 23.0).abs() < 0.02);
    }

    #[test]
    fn a_one_second_pause_inside_a_cue_is_bridged_but_a_five_second_gap_is_not() {
        let cfg = ActivityConfig::default();
        let lv = track(
            0.01,
            &[
                (5.0, -120.0),
                (10.0, -30.0),
                (1.0, -120.0),
                (10.0, -30.0),
                (5.0, -120.0),
                (10.0, -30.0),
            ],
        );
        let spans = audible_spans(&lv, &cfg);
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!((spans[0].end_s - 26.0).abs() < 0.02);
        assert!((spans[1].start_s - 31.0).abs() < 0.02);
    }

    #[test]
    fn a_three_second_stinger_is_a_span_and_a_click_is_not() {
        let cfg = ActivityConfig::default();
        let lv = track(
            0.01,
            &[
                (5.0, -120.0),
                (3.0, -20.0),
                (10.0, -120.0),
                (0.2, -10.0),
                (10.0, -120.0),
            ],
        );
        let spans = audible_spans(&lv, &cfg);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert!((spans[0].duration_s() - 3.0).abs() < 0.02);
    }

    #[test]
    fn a_fade_out_lasts_until_it_disappears() {
        let cfg = ActivityConfig::default();
        // 10 s at -25 dB, then an equal-power fade-out over 6 s, then digital silence.
        let mut lv = track(0.01, &[(5.0, -120.0), (10.0, -25.0)]);
        for i in 0..600 {
            let g = (std::f64::consts::FRAC_PI_2 * i as f64 / 600.0).cos();
            lv.db.push((-25.0 + 20.0 * g.max(1e-9).log10()) as f32);
        }
        lv.db.extend(std::iter::repeat_n(SILENCE_DB, 500));
        let spans = audible_spans(&lv, &cfg);
        assert_eq!(spans.len(), 1);
        assert!((spans[0].end_s - 21.0).abs() < 0.1, "{spans:?}");
    }

    #[test]
    fn silent_or_empty_stems_have_no_spans() {
        let cfg = ActivityConfig::default();
        assert!(audible_spans(&LevelTrack::default(), &cfg).is_empty());
        assert!(audible_spans(&track(0.01, &[(30.0, SILENCE_DB)]), &cfg).is_empty());
    }

    #[test]
    fn loudness_trace_is_the_fallback_level_when_there_are_no_frames() {
        let lt = LoudnessTrace {
            step_s: 0.1,
            momentary: vec![0.0, 1e-3, 1e-3, 0.0],
            ..Default::default()
        };
        let lv = LevelTrack::of_stem(&FeatureTrack::default(), &lt);
        assert_eq!(lv.step_s, 0.1);
        assert_eq!(lv.db, vec![SILENCE_DB, -30.0, -30.0, SILENCE_DB]);
    }
}
