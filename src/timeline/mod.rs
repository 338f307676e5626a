//! Timeline: what happens when, in seconds from the start of the reel: music cues, vocal segments,
//! dialogue, effects events, source music and scenes. Detectors produce these; reports print them.
//!
//! Submodules: [`timecode`] (SMPTE labels), [`scenes`] (automatic segmentation), [`scene_file`]
//! (given scene lists), [`scene_analysis`] (what happens in each scene), [`spans`] (span-set
//! operations).

pub mod scene_analysis;
pub mod scene_file;
pub mod scenes;
pub mod spans;
pub mod timecode;

use serde::{Deserialize, Serialize};

use crate::loudness::LoudnessStats;

/// A time span in seconds from the start of the reel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start_s: f64,
    pub end_s: f64,
}

impl Span {
    pub fn new(start_s: f64, end_s: f64) -> Self {
        Span { start_s, end_s }
    }
    pub fn duration_s(&self) -> f64 {
        (self.end_s - self.start_s).max(0.0)
    }
    /// Seconds shared with `other`.
    pub fn overlap_s(&self, other: &Span) -> f64 {
        (self.end_s.min(other.end_s) - self.start_s.max(other.start_s)).max(0.0)
    }
}

/// Song (sung vocals) or score (instrumental).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CueKind {
    Song,
    Score,
}

/// One music cue on the music stem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MusicCue {
    /// 1-based cue number in start order.
    pub number: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub duration_s: f64,
    pub kind: CueKind,
    /// Seconds of sung vocals inside the cue.
    pub vocal_s: f64,
    /// `vocal_s / duration_s`.
    pub vocal_ratio: f64,
    /// Confidence in `kind`, in [0, 1].
    pub confidence: f64,
    /// The cue crossfades from the previous cue: music ran on without a gap and the detector split
    /// it on a change of content (see [`mark_segues`]).
    pub segue_in: bool,
    /// The cue crossfades into the next cue.
    pub segue_out: bool,
    pub loudness: LoudnessStats,
}

impl MusicCue {
    pub fn span(&self) -> Span {
        Span::new(self.start_s, self.end_s)
    }
}

/// A segue between two cues, with the content evidence the detector split the music on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueSegue {
    /// Numbers of the cue that crossfades out and of the one that crossfades in.
    pub from_cue: usize,
    pub to_cue: usize,
    /// The change point, the assumed middle of the crossfade, seconds.
    pub at_s: f64,
    /// Content novelty at the change over the run's median (12 s windows either side).
    pub novelty_ratio: f64,
    /// The ratio the split rule required there (higher where one beat grid carries through).
    /// `novelty_ratio / required_ratio` near 1 is a marginal split, well above 1 a clear change.
    pub required_ratio: f64,
}

/// The detector's segues matched to the marked cue pairs of `cues` (see [`mark_segues`]): the pair
/// whose overlap is centred on the segue's change point. A segue whose cues were cut apart (by the
/// leader's marks) has no pair and is left out.
pub fn segues_between(cues: &[MusicCue], found: &[crate::detect::music::Segue]) -> Vec<CueSegue> {
    found
        .iter()
        .filter_map(|s| {
            cues.windows(2)
                .find(|w| {
                    w[0].segue_out && ((w[0].end_s + w[1].start_s) / 2.0 - s.at_s).abs() < 1e-6
                })
                .map(|w| CueSegue {
                    from_cue: w[0].number,
                    to_cue: w[1].number,
                    at_s: s.at_s,
                    novelty_ratio: s.novelty_ratio,
                    required_ratio: s.required_ratio,
                })
        })
        .collect()
}

/// Marks the segues between cues in start order: a cue that starts before the previous one ends.
/// Separate runs of music are always apart (the cue detector bridges shorter gaps), so only a
/// split inside continuous music, whose two cues overlap by the assumed crossfade, meets this.
pub fn mark_segues(cues: &mut [MusicCue]) {
    for c in cues.iter_mut() {
        c.segue_in = false;
        c.segue_out = false;
    }
    for k in 1..cues.len() {
        if cues[k].start_s <= cues[k - 1].end_s {
            cues[k - 1].segue_out = true;
            cues[k].segue_in = true;
        }
    }
}

/// A loud event on the effects stem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectsEvent {
    pub start_s: f64,
    pub end_s: f64,
    /// Peak short-term level of the event, LUFS (momentary, 400 ms).
    pub peak_lufs: f64,
    /// How far above the local ambience bed, LU.
    pub above_bed_lu: f64,
}

/// Music heard on the dialogue or effects stem (diegetic / source music candidate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceMusic {
    pub start_s: f64,
    pub end_s: f64,
    /// "dialogue" or "effects".
    pub stem: String,
    pub confidence: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::synthetic::cue;

    #[test]
    fn overlapping_cues_are_segues_and_cues_apart_are_not() {
        let mut cues = vec![
            cue(1, 0.0, 30.0, CueKind::Score),
            cue(2, 29.0, 60.0, CueKind::Song),
            cue(3, 60.0, 80.0, CueKind::Score),
            cue(4, 90.0, 120.0, CueKind::Score),
        ];
        // Stale marks are cleared first.
        cues[3].segue_in = true;
        mark_segues(&mut cues);
        let marks: Vec<(bool, bool)> = cues.iter().map(|c| (c.segue_in, c.segue_out)).collect();
        // 1 -> 2 overlap by the crossfade, 2 -> 3 abut (no assumed overlap), 3 and 4 are apart.
        assert_eq!(
            marks,
            [(false, true), (true, true), (true, false), (false, false)]
        );
    }

    #[test]
    fn a_found_segue_is_reported_between_the_cues_its_crossfade_joins() {
        use crate::detect::music::Segue;
        let mut cues = vec![
            cue(1, 0.0, 31.0, CueKind::Score),
            cue(2, 29.0, 60.0, CueKind::Song),
            cue(3, 70.0, 90.0, CueKind::Score),
        ];
        mark_segues(&mut cues);
        let found = |at_s: f64| Segue {
            at_s,
            novelty_ratio: 2.4,
            required_ratio: 1.5,
        };
        let segues = segues_between(&cues, &[found(30.0)]);
        assert_eq!(segues.len(), 1);
        assert_eq!((segues[0].from_cue, segues[0].to_cue), (1, 2));
        assert_eq!(segues[0].novelty_ratio, 2.4);
        // A change point no marked pair is centred on (its cues were cut apart) is left out.
        assert!(segues_between(&cues, &[found(65.0)]).is_empty());
    }
}
