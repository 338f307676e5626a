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
    /// it on a change of content (see [`link_segues`]).
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
    /// The ratio the split rule required there (higher where one beat grid carries through or the
    /// key holds, lower where the keys part; see `detect::music`). `novelty_ratio /
    /// required_ratio` near 1 is a marginal split, well above 1 a clear change.
    pub required_ratio: f64,
}

/// Links the detector's segues `found` to the cues in start order: each joins the consecutive pair
/// whose overlap (the assumed crossfade) holds its change point, which sets the pair's
/// `segue_out` / `segue_in`. The one source of both the marks and the returned list. A segue whose
/// cues were cut apart (by the leader's marks) joins no pair and is left out.
pub fn link_segues(cues: &mut [MusicCue], found: &[crate::detect::music::Segue]) -> Vec<CueSegue> {
    for c in cues.iter_mut() {
        c.segue_in = false;
        c.segue_out = false;
    }
    let mut linked = Vec::with_capacity(found.len());
    for s in found {
        let Some(k) =
            (1..cues.len()).find(|&k| cues[k].start_s <= s.at_s && s.at_s <= cues[k - 1].end_s)
        else {
            continue;
        };
        cues[k - 1].segue_out = true;
        cues[k].segue_in = true;
        linked.push(CueSegue {
            from_cue: cues[k - 1].number,
            to_cue: cues[k].number,
            at_s: s.at_s,
            novelty_ratio: s.novelty_ratio,
            required_ratio: s.required_ratio,
        });
    }
    linked
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

    fn found(at_s: f64) -> crate::detect::music::Segue {
        crate::detect::music::Segue {
            at_s,
            novelty_ratio: 2.4,
            required_ratio: 1.5,
        }
    }

    /// Cues 1 and 2 overlap by 2 s (a crossfade around 30 s); cue 3 follows a 10 s gap.
    fn overlapping_then_apart() -> Vec<MusicCue> {
        vec![
            cue(1, 0.0, 31.0, CueKind::Score),
            cue(2, 29.0, 60.0, CueKind::Song),
            cue(3, 70.0, 90.0, CueKind::Score),
        ]
    }

    fn marks(cues: &[MusicCue]) -> Vec<(bool, bool)> {
        cues.iter().map(|c| (c.segue_in, c.segue_out)).collect()
    }

    #[test]
    fn a_found_segue_links_the_two_cues_its_crossfade_joins() {
        let mut cues = overlapping_then_apart();
        let linked = link_segues(&mut cues, &[found(30.0)]);
        assert_eq!(linked.len(), 1);
        assert_eq!((linked[0].from_cue, linked[0].to_cue), (1, 2));
        assert_eq!(linked[0].novelty_ratio, 2.4);
        assert_eq!(marks(&cues), [(false, true), (true, false), (false, false)]);
    }

    #[test]
    fn cues_are_linked_only_by_a_found_segue_inside_their_overlap() {
        let mut cues = overlapping_then_apart();
        // Stale marks are cleared; overlapping cues with no segue found between them stay apart.
        cues[2].segue_in = true;
        assert!(link_segues(&mut cues, &[]).is_empty());
        assert_eq!(marks(&cues), [(false, false); 3]);
        // A change point no pair's overlap holds (its cues were cut apart) is left out.
        assert!(link_segues(&mut cues, &[found(65.0)]).is_empty());
        assert_eq!(marks(&cues), [(false, false); 3]);
    }
}
