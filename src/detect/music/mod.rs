//! Music cues on the music stem: where music is audible, split on silence and on changes of content.
//!
//! Two stages:
//! 1. [`activity`]: audible runs, with thresholds relative to the stem's own floor (never absolute
//!    level). A run starts where a fade-in rises out of the floor and ends where a fade-out sinks back
//!    into it. **Gap rule:** music separated by less than [`ActivityConfig::max_gap_s`] (2.5 s) of
//!    floor is one cue, so a pause inside a piece does not split it; runs shorter than
//!    [`ActivityConfig::min_span_s`] (2 s) are dropped, so a 3 s stinger is a cue and a click is not.
//! 2. [`novelty`]: inside each run, a sustained change of musical content (timbre, onset
//!    density, voicing; the key and the beat grid as checks) marks a segue; the run is split
//!    there. The test compares the mean descriptors of the 12 s ([`NoveltyConfig::window_s`])
//!    either side of each point (the level only decides which windows count). **Split
//!    rule** ([`novelty::change_points`]): a local maximum of that novelty splits when its ratio
//!    over the run's median novelty reaches the ratio it needs. That starts from
//!    [`novelty::required_ratio`], `max(1.2, 1.5 + W * (continuity - 0.875))` with W
//!    ([`NoveltyConfig::beat_weight`]) 7.5: the [`beat`] continuity says whether one beat grid
//!    carries through the point (one recording keeps its grid, two pieces crossfading rarely line
//!    theirs up), so a grid carried through (1.0) needs 2.4x the median and a broken one (0.8) 1.2x;
//!    where a side has no beat it is 1.5. It is then scaled by the pitch-class distance of the 20 s
//!    either side to the power -0.184 ([`NoveltyConfig::key_exponent`]: two keys far apart need
//!    less, one key held more), by 1.149 at a peak (the top of the curve within 12 s) and by 1.447
//!    at a secondary maximum that a stronger point within 12 s outranks, as where a piece's own
//!    change lies a few seconds from a segue ([`NoveltyConfig::peak_factor`],
//!    [`NoveltyConfig::secondary_factor`]), and divided by `1 + |level step|` (dB, the 80th
//!    percentile level 2-8 s either side, [`novelty::level_step_db`]) to the power 0.0854
//!    ([`NoveltyConfig::level_step_exponent`]: a 10 dB step needs 0.81 of what none needs). Those
//!    four numbers are one logistic score fitted on sixteen reel sets (session 27; the first
//!    three alone, session 23, on twelve). A point is not split where both sides are one piece
//!    by their pitch-class profiles (same profile, [`NoveltyConfig::same_piece_chroma`] 0.1; or one key held over 12 s
//!    and 20 s, [`NoveltyConfig::same_key_chroma`] 0.15), and splits are taken by the most margin
//!    over what they need first, none within 8 s ([`NoveltyConfig::min_segment_s`]) of another or
//!    of a run's ends.
//!
//! **Placing a segue.** Segued cues crossfade, and their true intervals overlap by the crossfade.
//! The change point is the middle of the crossfade. The 12 s windows that find a change reliably
//! have a broad peak that a piece's own drift tilts, so the change point is placed again with 6 s
//! windows ([`NoveltyConfig::refine_window_s`]; 0.75 s clear of the point tested rather than 1 s,
//! [`NoveltyConfig::refine_guard_s`]: a narrower gap, a sharper peak) within 1 s of it, or within 1
//! s of a rival hump of the 12 s curve up to 6 s away ([`NoveltyConfig::rival_radius_s`]): near a
//! segue a window often reaches a piece's own change and makes a second hump. Where the two pieces'
//! levels differ by 6 dB or more ([`NoveltyConfig::turnover_step_db`]; each piece read between its
//! neighbouring change points by [`novelty::piece_level_db`], gated like integrated loudness) the
//! point moves back towards the middle of the gain ramps ([`novelty::place_by_level_step`]): in an
//! equal-power crossfade the louder piece dominates the descriptors until its ramp is well down, so
//! the content turns over late into a quieter piece and early into a louder one
//! ([`novelty::turnover_share`]: 0.39 of the crossfade for 15 dB), and the found point sits part of
//! that way ([`NoveltyConfig::turnover_scale`], 0.4 of it, of an assumed 2 s crossfade). Last, a
//! learned placement ([`placement`], `models/segue-placement-v2.json`) scores the candidates one
//! texture hop apart within 2 s of the point, by four short novelty curves' shapes and strengths
//! (over the run's median), the offset (with the level step), how far the level there lies from
//! the two pieces' mean power (which an equal-power crossfade passes at its middle) and how far the
//! descriptors lie off the line between the two pieces' (a crossfade mixes them; a piece's own
//! event does not), and moves the point to the best. The
//! crossfade's length is not measured, so the earlier cue ends and the later one starts half an
//! assumed crossfade ([`CueConfig::segue_overlap_s`], 2 s) either side of the point; the report
//! marks the two as a segue ([`crate::timeline::link_segues`]).
//!
//! **Measured** (`tools/reference/score_reel_sets.sh`, session 27, fourteen reel sets: dev and
//! seeds 7-1212): segues found within 3 s 221 of 267, middles within 1 s 202, within 0.5 s 161,
//! segue sides within 0.5 s 275 of 484, 30 false splits (the learned placement and the split score
//! were fitted on these sets; leaving each set out of the placement's fit,
//! `tools/reference/segue_placement_fit.py`, the found segues' sides within 0.5 s go from 302 to
//! 345 of 522 on sixteen sets). On music the reels never use (the music runs of
//! `tools/reference/film_music_runs.py`, 232 segues, and an earlier sample of its prototype, 241)
//! middles within 1 s 201 and 200, 32 and 21 false splits, cue F1 0.947 and 0.910; on music runs
//! whose pieces share one level within each run (181 segues) 153, 23 false splits, cue F1 0.945.
//! There the detector splits inside a piece about once per seven to ten segues found, against
//! once per seven on the reels. On the freshest reel sets about half to three quarters of the
//! segues are placed within 1 s of their middle (seeds 1010 and 1111, in the fits: 10 of 17, 16
//! of 25; seeds 1515 and 1616, never in them: 19 of 25, 14 of 18). Crossfades longer than the
//! reels' 1-3 s are placed worse: on music runs with 3-6 s crossfades, 56 of 101 and 60 of 103
//! found segues within 1 s.
//!
//! The measurements behind these choices, and the attempts not kept, are in `docs/music-cues.md`.

pub mod activity;
pub mod beat;
pub mod novelty;
pub mod placement;

use crate::features::FeatureTrack;
use crate::loudness::LoudnessTrace;
use crate::timeline::Span;

pub use activity::{ActivityConfig, LevelTrack};
pub use novelty::NoveltyConfig;
pub use placement::PlacementModel;

/// Settings of the cue detector.
#[derive(Debug, Clone, PartialEq)]
pub struct CueConfig {
    pub activity: ActivityConfig,
    pub novelty: NoveltyConfig,
    /// Assumed crossfade length at a segue, seconds: the earlier cue ends half of it after the change
    /// point, the later one starts half of it before. 2 s is the middle of the usual 1-3 s.
    pub segue_overlap_s: f64,
    /// The learned placement of each segue's change point ([`placement`]).
    pub placement: PlacementModel,
}

impl Default for CueConfig {
    fn default() -> Self {
        CueConfig {
            activity: ActivityConfig::default(),
            novelty: NoveltyConfig::default(),
            segue_overlap_s: 2.0,
            placement: PlacementModel::default(),
        }
    }
}

/// A segue the detector split continuous music at, with the evidence for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segue {
    /// The change point (the assumed middle of the crossfade), seconds.
    pub at_s: f64,
    /// Content novelty at the change over the run's median (12 s windows).
    pub novelty_ratio: f64,
    /// The ratio the split rule required there, given the beat reading.
    pub required_ratio: f64,
}

/// Cues on a music stem and the segues between them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MusicCues {
    /// Cue spans in start order; segued cues overlap by [`CueConfig::segue_overlap_s`].
    pub cues: Vec<Span>,
    /// The segues in time order; each lies between two consecutive overlapping cues.
    pub segues: Vec<Segue>,
}

/// Cue spans on a music stem, in start order (spans of segued cues may overlap).
pub fn detect_cues(mx: &FeatureTrack, loudness: &LoudnessTrace) -> Vec<Span> {
    detect_cues_with(mx, loudness, &CueConfig::default())
}

/// [`detect_cues`] with explicit settings.
pub fn detect_cues_with(mx: &FeatureTrack, loudness: &LoudnessTrace, cfg: &CueConfig) -> Vec<Span> {
    detect_music(mx, loudness, cfg).cues
}

/// Cues and the segues between them, with explicit settings.
pub fn detect_music(mx: &FeatureTrack, loudness: &LoudnessTrace, cfg: &CueConfig) -> MusicCues {
    let level = LevelTrack::of_stem(mx, loudness);
    let runs = activity::audible_spans(&level, &cfg.activity);
    if runs.is_empty() {
        return MusicCues::default();
    }
    let desc = novelty::Descriptors::build(mx, &level, &runs, &cfg.novelty);
    // The beat reading only serves the split rule; without it there is nothing to build.
    let onsets = if cfg.novelty.beat_weight != 0.0 {
        beat::OnsetEnvelope::of_track(mx, &cfg.novelty.beat)
    } else {
        beat::OnsetEnvelope::default()
    };
    let half = cfg.segue_overlap_s.max(0.0) / 2.0;
    let mut cues = Vec::new();
    let mut segues = Vec::new();
    for run in &runs {
        let curve = novelty::novelty_curve(&desc, run, &cfg.novelty);
        let same_piece = |t: f64| novelty::same_piece(&desc, run, t, &cfg.novelty);
        let beat = &cfg.novelty.beat;
        let continuity = |t: f64| {
            onsets
                .read(run, t, beat)
                .and_then(|r| r.continuity(beat.min_strength))
        };
        let key_distance = |t: f64| novelty::key_distance(&desc, run, t, &cfg.novelty);
        let level_step = |t: f64| novelty::level_step_db(&desc, run, t).map(f64::from);
        let found = novelty::change_points(
            &curve,
            run,
            &cfg.novelty,
            same_piece,
            continuity,
            key_distance,
            level_step,
        );
        let splits = novelty::refine_change_points(
            &desc,
            run,
            &curve,
            found.iter().map(|c| c.at_s).collect(),
            &cfg.novelty,
        );
        // Refining and the two placements move each point (the level step by at most
        // `turnover_scale` times half the crossfade, 0.4 s, the learned one by at most its 2 s
        // radius, against 8 s between points) and keep their order, so they pair up with `found`.
        let splits =
            novelty::place_by_level_step(&desc, run, splits, cfg.segue_overlap_s, &cfg.novelty);
        let splits = placement::place_segues(
            &desc,
            run,
            splits,
            cfg.segue_overlap_s,
            &cfg.novelty,
            &cfg.placement,
        );
        let mut start = run.start_s;
        for (t, c) in splits.into_iter().zip(&found) {
            cues.push(Span::new(start, (t + half).min(run.end_s)));
            start = (t - half).max(run.start_s);
            segues.push(Segue {
                at_s: t,
                novelty_ratio: c.ratio,
                required_ratio: c.required,
            });
        }
        cues.push(Span::new(start, run.end_s));
    }
    MusicCues { cues, segues }
}

#[cfg(test)]
mod tests;
