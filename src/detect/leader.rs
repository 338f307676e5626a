//! Leader: the sync pops and line-up tone a delivered reel carries before its first frame of action
//! (FFOA) and after its last (LFOA). They are reported (`leader` in report.json), timed against
//! each other across stems (a pop that is late on one stem means the stems are out of sync), and
//! kept out of everything that describes programme: [`Leader::clip`] removes them from the other
//! detectors' spans, and the stems' loudness is measured without them.
//!
//! It lives in `detect` because it is a detector like the others: it reads only what the streaming
//! pass kept of each stem, after that pass. What the frame summaries keep cannot tell one sine from
//! a sum of harmonics (flatness and peakiness are near 0 and 1 for both), nor time a one-frame pop
//! better than a 64 ms window allows, so the streaming pass also feeds a [`ToneProbe`] per stem
//! (the feature extractor's frame observer plus the analysis samples). It keeps only what a tone
//! burst can need ([`ToneTrack`]): the frames that are one sine, and the hop peaks within 16 hops
//! of them (nothing for a stretch without a sine, where it kept 16 bytes per 10 ms):
//! - per 10 ms frame, the share of the frame's mel power in its strongest band and the two next to
//!   it (about 1 for one sine, well under 0.9 for speech, music or noise) and that peak's frequency;
//! - per 160-sample hop of the 16 kHz analysis signal, the sample peak and the first and last
//!   sample at or above half of it, which times a pop's edges to a sample or two (0.1-0.2 ms).
//!
//! # What a leader mark is (the rule)
//! 1. **Tone burst**: a run of frames that are one steady sine ([`PURE_SHARE`], 400 Hz - 3 kHz,
//!    frequency within [`STEADY_HZ`]) whose sound, including the window's spill at both edges,
//!    holds nothing else.
//! 2. **Isolated**: at least [`QUIET_AROUND_S`] of quiet on both sides (or the file's edge), quiet
//!    meaning [`QUIET_BELOW_DB`] under the burst's own level: digital silence or a far floor, at
//!    any level of the burst (a pop at -30 dBFS is a pop).
//! 3. **Outside programme**: the burst lies before the first programme sound of the title (head)
//!    or after its last (tail), programme being anything on any stem louder than this burst's
//!    quiet threshold that is not itself a burst. A sine beep inside a film therefore never counts,
//!    even alone on a quiet effects stem: another stem has spoken or played before it. (No fixed
//!    head or tail length is assumed: leaders run from a few seconds to minutes of tone.)
//! 4. **Length**: 30-130 ms is a pop (one to three frames of video), 1 s or more at a constant
//!    level ([`STEADY_DB`]) is line-up tone; anything else is neither and stays programme.
//!
//! A film that opens, before any other sound, on an isolated steady sine of a pop's or a tone's
//! length followed by silence cannot be told from a leader by its sound; this rule takes it as one.
//!
//! # Exclusion
//! Each mark has a guard span: the mark and the quiet around it on its own stem, up to
//! [`GUARD_S`] each way (the detectors' windows smear a burst onto nearby quiet, and their merging
//! can join it to programme 2 s away). The other detectors run unchanged and their spans on that
//! stem are cut by the guards afterwards ([`Leader::clip`]), rather than their inputs being masked:
//! frame summaries, texture windows and the loudness trace would all need consistent "silence"
//! put in, and every detector's smoothing, percentiles and models would see the seams. Guards
//! hold only the mark and quiet, so cutting them removes no programme. Loudness leaves the marks
//! out itself ([`Leader::loudness_exclusion`]): its gating blocks can simply skip them. The
//! detectors' internal use of the whole stem's level (e.g. the effects floor) still includes the
//! leader (its effect there is not measured).
//!
//! Scenes are cut from [`Leader::programme`]: the title from the end of the head marks' guards to
//! the start of the tail marks' (never past the first or last programme sound), so the first scene
//! starts at programme and the last ends before the tail pop, and no scene's figures hold a mark.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::discover::StemKind;
use crate::features::mel::mel_edges_hz;
use crate::features::{FeatureConfig, FrameSummary, FrameView};
use crate::loudness::LoudnessTrace;
use crate::timeline::Span;
use crate::timeline::timecode::{Clock, FrameRate};

/// A frame is one sine when its strongest mel band and the two next to it hold this share of its
/// mel power. A steady sine reads 0.97-1.0 (a pop's middle frames too); speech, music and noise
/// spread over many bands.
pub const PURE_SHARE: f32 = 0.9;
/// Leader tones are 1 kHz in practice; any steady sine in this range is accepted.
pub const MIN_HZ: f32 = 400.0;
pub const MAX_HZ: f32 = 3000.0;
/// Frames of one burst agree on the frequency within this ratio.
pub const STEADY_HZ: f32 = 0.03;
/// Line-up tone keeps its level within this many dB (sample peaks of its 10 ms hops).
pub const STEADY_DB: f32 = 1.0;
/// Quiet around a mark: this many dB under the mark's frame level.
pub const QUIET_BELOW_DB: f32 = 40.0;
/// Quiet needed on both sides of a mark.
pub const QUIET_AROUND_S: f64 = 0.5;
/// A pop's length, s: one frame of video (41.7 ms at 24 fps, 33.4 ms at 29.97) up to three.
pub const POP_MIN_S: f64 = 0.030;
pub const POP_MAX_S: f64 = 0.130;
/// Shortest line-up tone, s.
pub const TONE_MIN_S: f64 = 1.0;
/// How far a mark's guard reaches into the quiet around it, s: the standard 2 s between a pop and
/// the first (last) frame of action, and half a second more. The detectors' 1 s windows smear a
/// burst onto the quiet next to it, and their merging can bridge the whole gap (a music cue
/// starting at FFOA was extended back over the 2-pop); in a leader that quiet holds nothing.
pub const GUARD_S: f64 = 2.5;
/// Head pops further apart than this are reported as out of sync. The pops are timed to a sample
/// or two of the 16 kHz analysis signal (0.1-0.2 ms, see the tests); stems of one reel should
/// agree to the sample, and a millisecond (48 samples at 48 kHz) is already a slip that no
/// resampling or rounding produces, while still well under a perforation (10.4 ms at 24 fps).
pub const SYNC_TOLERANCE_S: f64 = 0.001;
/// Detector spans shorter than this after the guards are cut are dropped (a texture hop).
const MIN_PIECE_S: f64 = 0.25;
/// Samples per hop of the peak record: the feature hop.
const HOP: usize = 160;

/// What the streaming pass keeps for leader detection, per stem: only what a tone burst can need
/// (rule 1 needs pure frames, and a burst's edges and level read the hop peaks within the window's
/// spill of them), so that it grows with the stem's pure-sine content, not with its length.
#[derive(Debug, Clone, Default)]
pub struct ToneTrack {
    /// The frames that are one sine in the leader's range ([`PURE_SHARE`], [`MIN_HZ`] -
    /// [`MAX_HZ`]), by frame index, in order; every other frame is not.
    pure: Vec<(usize, ToneFrame)>,
    /// The hop peaks within [`KEEP_HOPS`] of a pure frame, as runs of consecutive hops.
    hops: Vec<HopRun>,
    /// Frames and hops seen.
    n_frames: usize,
    n_hops: usize,
    /// Analysis sample rate.
    pub sample_rate: u32,
}

impl ToneTrack {
    /// The run of consecutive pure frames (all before frame `n`) starting at the first pure frame
    /// at or after frame `from`.
    fn pure_run(&self, from: usize, n: usize) -> Option<&[(usize, ToneFrame)]> {
        let a = self.pure.partition_point(|(i, _)| *i < from);
        let first = self.pure.get(a).filter(|(i, _)| *i < n)?.0;
        let len = self.pure[a..]
            .iter()
            .enumerate()
            .take_while(|(k, (i, _))| *i == first + k && *i < n)
            .count();
        Some(&self.pure[a..a + len])
    }

    /// Hop peaks `a..b` (`b` clamped to the hops seen), when they were kept.
    fn hops(&self, a: usize, b: usize) -> Option<&[HopPeak]> {
        let b = b.min(self.n_hops);
        if a >= b {
            return None;
        }
        let run = &self.hops[self.hops.partition_point(|r| r.first <= a).checked_sub(1)?];
        run.peaks.get(a - run.first..b - run.first)
    }
}

/// Consecutive hop peaks from hop `first`.
#[derive(Debug, Clone, Default)]
struct HopRun {
    first: usize,
    peaks: Vec<HopPeak>,
}

/// Hops kept each side of a pure frame: a burst reaches at most the window's spill (8 frames,
/// see [`bursts`]) past its pure frames, and its edges read half a window (3.2 hops) further.
const KEEP_HOPS: usize = 16;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ToneFrame {
    /// Share of the frame's mel power in its strongest band and its two neighbours, [0, 1].
    pub share: f32,
    /// Frequency of that peak, Hz (triangle-weighted centre of the three bands).
    pub hz: f32,
}

impl ToneFrame {
    /// Whether the frame is one sine in the leader's range (rule 1). Digital silence spreads its
    /// floor over every band (share 3/64): never pure.
    fn is_pure(&self) -> bool {
        self.share >= PURE_SHARE && (MIN_HZ..=MAX_HZ).contains(&self.hz)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HopPeak {
    /// Largest absolute sample of the hop.
    pub peak: f32,
    /// First and last sample of the hop at or above half of `peak`.
    pub first: u8,
    pub last: u8,
}

/// Streaming side of leader detection: fed every feature frame and every analysis block.
#[derive(Debug, Clone)]
pub struct ToneProbe {
    /// Centre frequency and Slaney normalisation of each mel band.
    bands: Vec<(f32, f32)>,
    track: ToneTrack,
    /// Hop peaks not yet known to be near a pure frame or not (the frames around them have not
    /// all been seen), from hop `track.n_hops - recent.len()`.
    recent: std::collections::VecDeque<HopPeak>,
    /// Samples of the current, unfinished hop.
    pending: Vec<f32>,
}

impl ToneProbe {
    pub fn new(config: &FeatureConfig) -> Self {
        // The feature extractor's bands (`MelFilterbank`): centre and Slaney weight of each.
        let edges = mel_edges_hz(config.n_mels, config.fmin as f64, config.fmax as f64);
        let bands = edges
            .windows(3)
            .map(|e| (e[1] as f32, (2.0 / (e[2] - e[0])) as f32))
            .collect();
        ToneProbe {
            bands,
            track: ToneTrack {
                sample_rate: config.sample_rate,
                ..Default::default()
            },
            recent: Default::default(),
            pending: Vec::with_capacity(HOP),
        }
    }

    /// One feature frame (in order).
    pub fn observe(&mut self, v: &FrameView<'_>) {
        let power = |db: f32| 10f32.powf(db / 10.0);
        let top = v
            .mel_db
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (i, &d)| if d > b.1 { (i, d) } else { b });
        let near = top.0.saturating_sub(1)..(top.0 + 2).min(v.mel_db.len());
        let (mut sum, mut resp, mut weighted) = (0.0f32, 0.0f32, 0.0f32);
        for m in near {
            let p = power(v.mel_db[m]);
            sum += p;
            // Unnormalised triangle response: adjacent triangles then cross linearly, and their
            // response-weighted centre is the sine's frequency.
            let (centre, norm) = self.bands.get(m).copied().unwrap_or((0.0, 1.0));
            let r = p / norm.max(f32::MIN_POSITIVE);
            resp += r;
            weighted += r * centre;
        }
        let hz = if resp > 0.0 { weighted / resp } else { 0.0 };
        // Only a pure frame is kept, so the total power (a `powf` per band, most of this call's
        // cost) is summed only while the frame can still be pure: the partial sum only grows,
        // and past `sum / PURE_SHARE` (with a margin for rounding) the share cannot reach
        // `PURE_SHARE`. A frame that stays a candidate sums every band in order, as before.
        let mut total = 0.0f32;
        if (MIN_HZ..=MAX_HZ).contains(&hz) {
            let limit = sum / PURE_SHARE * 1.001;
            for &d in v.mel_db {
                total += power(d);
                if total > limit {
                    break;
                }
            }
        }
        let frame = ToneFrame {
            share: if total > 0.0 { sum / total } else { 0.0 },
            hz,
        };
        let index = self.track.n_frames;
        if frame.is_pure() {
            self.track.pure.push((index, frame));
        }
        self.track.n_frames += 1;
        self.settle(false);
    }

    /// Analysis-rate samples (in order, the same stream the extractor reads).
    pub fn push_samples(&mut self, samples: &[f32]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (HOP - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == HOP {
                self.close_hop();
            }
        }
    }

    fn close_hop(&mut self) {
        let peak = self.pending.iter().fold(
            0.0f32,
            |m, &x| if x.is_finite() { m.max(x.abs()) } else { m },
        );
        let half = peak * 0.5;
        let above = |x: &f32| x.is_finite() && x.abs() >= half && peak > 0.0;
        let first = self.pending.iter().position(above).unwrap_or(0);
        let last = self.pending.iter().rposition(above).unwrap_or(0);
        self.recent.push_back(HopPeak {
            peak,
            first: first.min(255) as u8,
            last: last.min(255) as u8,
        });
        self.track.n_hops += 1;
        self.pending.clear();
        self.settle(false);
    }

    /// Keeps or drops the oldest recent hops once every frame within [`KEEP_HOPS`] of them has
    /// been seen (all of them at the end of the stream).
    fn settle(&mut self, end: bool) {
        let track = &mut self.track;
        while !self.recent.is_empty() {
            let j = track.n_hops - self.recent.len();
            if !end && j + KEEP_HOPS >= track.n_frames {
                break;
            }
            let Some(peak) = self.recent.pop_front() else {
                break;
            };
            let a = track.pure.partition_point(|(i, _)| *i + KEEP_HOPS < j);
            let near = track.pure.get(a).is_some_and(|(i, _)| *i <= j + KEEP_HOPS);
            if !near {
                continue;
            }
            match track.hops.last_mut() {
                Some(run) if run.first + run.peaks.len() == j => run.peaks.push(peak),
                _ => track.hops.push(HopRun {
                    first: j,
                    peaks: vec![peak],
                }),
            }
        }
    }

    pub fn finish(mut self) -> ToneTrack {
        if !self.pending.is_empty() {
            self.close_hop();
        }
        self.settle(true);
        self.track.pure.shrink_to_fit();
        self.track.hops.shrink_to_fit();
        self.track
    }
}

/// Kind of leader mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    HeadPop,
    TailPop,
    LineupTone,
}

impl MarkKind {
    pub fn name(self) -> &'static str {
        match self {
            MarkKind::HeadPop => "head pop",
            MarkKind::TailPop => "tail pop",
            MarkKind::LineupTone => "line-up tone",
        }
    }
}

/// One sync pop or line-up tone on one stem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderMark {
    pub kind: MarkKind,
    pub start_s: f64,
    pub end_s: f64,
    /// SMPTE label of `start_s` at the report's frame rate, from the reel's start timecode.
    pub timecode: Option<String>,
    pub frequency_hz: f64,
    /// Sample peak of the mark on the stem's loudest channel, dBFS: for a sine this is its level
    /// in dBFS as line-up tone is specified (a -20 dBFS tone reads -20).
    pub level_dbfs: Option<f64>,
}

/// What one stem offers: its frames, probe and loudness trace.
#[derive(Debug, Clone, Copy)]
pub struct StemInput<'a> {
    pub kind: StemKind,
    pub frames: &'a [FrameSummary],
    pub frame_hop_s: f64,
    pub tone: &'a ToneTrack,
    pub loudness: &'a LoudnessTrace,
}

/// A tone burst found on one stem, before the head/tail decision.
#[derive(Debug, Clone)]
struct Burst {
    /// Frames holding any of the burst's sound (its level minus [`QUIET_BELOW_DB`]).
    first: usize,
    last: usize,
    /// Level of its loudest frame, dB (frame RMS).
    level_db: f32,
    start_s: f64,
    end_s: f64,
    hz: f32,
    /// Quiet frames around it (the guard's reach), as times.
    quiet_from_s: f64,
    quiet_to_s: f64,
}

/// The leader of a title: marks per stem, and the guards that keep them out of programme.
#[derive(Debug, Clone, Default)]
pub struct Leader {
    pub marks: BTreeMap<StemKind, Vec<LeaderMark>>,
    guards: BTreeMap<StemKind, Vec<Span>>,
    /// Per stem, the level of its loudest frame that is not part of a burst, dB (frame RMS):
    /// whether a stem without a pop has programme the pop should have come with.
    loudest_programme_db: BTreeMap<StemKind, f32>,
    /// Per mark, the level of its loudest frame, dB (frame RMS), in the order of `marks`.
    mark_levels_db: BTreeMap<StemKind, Vec<f32>>,
    /// Where the head leader ends and the tail leader starts (see [`Leader::programme`]).
    head_end_s: Option<f64>,
    tail_start_s: Option<f64>,
}

/// A mark's place in the leader, as decided by rule 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Head,
    Tail,
}

/// What [`Leader::detect`] remembers of one head or tail mark to place programme's edges.
struct Placed<'a> {
    end: End,
    burst: &'a Burst,
    guard: Span,
}

impl Leader {
    /// Finds the leader marks of every stem (see the module docs for the rule).
    pub fn detect(stems: &[StemInput<'_>]) -> Leader {
        let bursts: Vec<Vec<Burst>> = stems.iter().map(bursts).collect();
        let sounds = Sounds {
            stems,
            bursts: &bursts,
        };
        let mut leader = Leader::default();
        let mut placed: Vec<Placed<'_>> = Vec::new();
        for (s, bs) in stems.iter().zip(&bursts) {
            let outside = |i: &usize| !bs.iter().any(|b| (b.first..=b.last).contains(i));
            let loudest = (0..s.frames.len())
                .filter(outside)
                .map(|i| s.frames[i].rms_db)
                .fold(f32::NEG_INFINITY, f32::max);
            leader.loudest_programme_db.insert(s.kind, loudest);
            let hop = s.frame_hop_s;
            for b in bs {
                let thr = b.level_db - QUIET_BELOW_DB;
                let head = sounds.last_before(thr, b.first as f64 * hop).is_none();
                let tail = !head && sounds.first_after(thr, (b.last + 1) as f64 * hop).is_none();
                let length = b.end_s - b.start_s;
                let kind = if (head || tail) && length >= TONE_MIN_S && steady_level(s.tone, b) {
                    MarkKind::LineupTone
                } else if (POP_MIN_S..=POP_MAX_S).contains(&length) && head {
                    MarkKind::HeadPop
                } else if (POP_MIN_S..=POP_MAX_S).contains(&length) && tail {
                    MarkKind::TailPop
                } else {
                    continue;
                };
                let level_dbfs = sample_peak(s.loudness, b.start_s, b.end_s)
                    .filter(|&p| p > 0.0)
                    .map(|p| 20.0 * f64::from(p).log10());
                leader.marks.entry(s.kind).or_default().push(LeaderMark {
                    kind,
                    start_s: b.start_s,
                    end_s: b.end_s,
                    timecode: None,
                    frequency_hz: f64::from(b.hz.round()),
                    level_dbfs,
                });
                leader
                    .mark_levels_db
                    .entry(s.kind)
                    .or_default()
                    .push(b.level_db);
                let guard = Span::new(
                    (b.start_s - GUARD_S).max(b.quiet_from_s),
                    (b.end_s + GUARD_S).min(b.quiet_to_s),
                );
                leader.guards.entry(s.kind).or_default().push(guard);
                let end = if head { End::Head } else { End::Tail };
                placed.push(Placed {
                    end,
                    burst: b,
                    guard,
                });
            }
        }
        (leader.head_end_s, leader.tail_start_s) = programme_edges(&sounds, &placed);
        leader
    }

    /// The title's programme within `[0, duration_s]`: from the end of the head marks' guards
    /// (or the first programme sound after the head marks, on any stem, when that comes sooner)
    /// to the start of the tail marks' guards (or the end of the last programme sound before
    /// them, when that is later). The whole title when it has no leader. Scenes are cut from it.
    pub fn programme(&self, duration_s: f64) -> Span {
        let start = self.head_end_s.unwrap_or(0.0).clamp(0.0, duration_s);
        let end = self
            .tail_start_s
            .unwrap_or(duration_s)
            .clamp(start, duration_s);
        Span::new(start, end)
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Labels every mark with its timecode on `clock`.
    pub fn label(&mut self, clock: &Clock) {
        for m in self.marks.values_mut().flatten() {
            m.timecode = Some(clock.label(m.start_s));
        }
    }

    /// What loudness leaves out for `stem` (every stem's marks for `None`, the mix): the marks,
    /// widened by a 400 ms gating block each way so that no block holding a mark is counted
    /// (marks have at least [`QUIET_AROUND_S`] of quiet around them, so no programme is lost).
    pub fn loudness_exclusion(&self, stem: Option<StemKind>) -> Vec<Span> {
        let marks = self
            .marks
            .iter()
            .filter(|(k, _)| stem.is_none_or(|s| s == **k))
            .flat_map(|(_, ms)| ms.iter().map(|m| Span::new(m.start_s, m.end_s)));
        crate::timeline::spans::dilate(&marks.collect::<Vec<_>>(), 0.4)
    }

    /// `spans` (detections on `stem`) without the leader's guards: each span loses what lies in a
    /// guard; pieces shorter than a texture hop are dropped.
    pub fn clip(&self, stem: StemKind, spans: Vec<Span>) -> Vec<Span> {
        self.clip_with(stem, spans, |s| *s, |_, s| s)
    }

    /// [`clip`](Self::clip) for any detection type: `span` reads its span, `with` makes a copy
    /// with another span.
    pub fn clip_with<T: Clone>(
        &self,
        stem: StemKind,
        items: Vec<T>,
        span: impl Fn(&T) -> Span,
        with: impl Fn(T, Span) -> T,
    ) -> Vec<T> {
        let Some(guards) = self.guards.get(&stem) else {
            return items;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let s = span(&item);
            if !guards.iter().any(|g| g.overlap_s(&s) > 0.0) {
                out.push(item);
                continue;
            }
            for piece in crate::timeline::spans::subtract(&[s], guards) {
                if piece.duration_s() >= MIN_PIECE_S {
                    out.push(with(item.clone(), piece));
                }
            }
        }
        out
    }

    /// Warnings for stems whose head (or tail) pops disagree by more than
    /// [`SYNC_TOLERANCE_S`], each against the first stem (dialogue when present) that has one.
    pub fn sync_warnings(&self, fps: FrameRate) -> Vec<String> {
        let mut out = Vec::new();
        for kind in [MarkKind::HeadPop, MarkKind::TailPop] {
            let pops: Vec<(StemKind, f64)> = self
                .marks
                .iter()
                .filter_map(|(k, ms)| ms.iter().find(|m| m.kind == kind).map(|m| (*k, m.start_s)))
                .collect();
            let Some(&(reference, t0)) = pops.first() else {
                continue;
            };
            for &(other, t) in &pops[1..] {
                let d = t - t0;
                if d.abs() <= SYNC_TOLERANCE_S {
                    continue;
                }
                let frames = d.abs() * fps.fps();
                out.push(format!(
                    "{} {} is {:.1} ms ({:.2} frames at {} fps) {} than {}'s: stems out of sync? \
                     Check that both stems were exported from the same session start, and slip {} \
                     {} by that amount so the pops line up",
                    other.name(),
                    kind.name(),
                    d.abs() * 1000.0,
                    frames,
                    fps.label(),
                    if d > 0.0 { "later" } else { "earlier" },
                    reference.name(),
                    other.name(),
                    if d > 0.0 { "earlier" } else { "later" },
                ));
            }
        }
        out
    }

    /// Warnings for head (and tail) pops found on some stems but not on others that have
    /// programme: a stem printed without the leader, or from another version of the reel, cannot
    /// be synced by its pop. A stem with nothing louder than [`QUIET_BELOW_DB`] under the pops
    /// (silent, or a far floor) is not blamed: it has no programme to be out of sync.
    /// Uses the marks' timecodes when [`label`](Self::label) has run.
    pub fn missing_pop_warnings(&self) -> Vec<String> {
        [MarkKind::HeadPop, MarkKind::TailPop]
            .into_iter()
            .filter_map(|kind| self.missing(kind))
            .map(|m| {
                format!(
                    "{}: check that the {} {} printed with the leader (or {} from another version)",
                    m.headline(),
                    m.lacking_names(),
                    m.stems_were(),
                    if m.lacking.len() == 1 { "is" } else { "are" },
                )
            })
            .collect()
    }

    /// Warnings for line-up tone found on some stems but not on others that have programme (the
    /// same rule as [`missing_pop_warnings`](Self::missing_pop_warnings)): the tone is what a
    /// stem's level and its channels are checked against when it is delivered.
    pub fn missing_tone_warnings(&self) -> Vec<String> {
        self.missing(MarkKind::LineupTone)
            .map(|m| {
                let its = if m.lacking.len() == 1 { "its" } else { "their" };
                format!(
                    "{}: check that the {} {} printed with the line-up tone (the reference {its} \
                     level is checked against), or whether {its} tone is distorted, drifting or \
                     mixed with other sound (tone is found as a steady sine of 400 Hz - 3 kHz with \
                     half a second of quiet around it)",
                    m.headline(),
                    m.lacking_names(),
                    m.stems_were(),
                )
            })
            .into_iter()
            .collect()
    }

    /// The stems that carry a mark of `kind` and those that have programme but lack it; `None`
    /// when none carries it or none lacks it.
    fn missing(&self, kind: MarkKind) -> Option<Missing<'_>> {
        // (stem, mark, its frame level) of the first such mark on each stem that has one.
        let carriers: Vec<(StemKind, &LeaderMark, f32)> = self
            .marks
            .iter()
            .filter_map(|(k, ms)| {
                let i = ms.iter().position(|m| m.kind == kind)?;
                let level = self.mark_levels_db.get(k)?.get(i).copied()?;
                Some((*k, &ms[i], level))
            })
            .collect();
        let &(_, first, _) = carriers.first()?;
        let loudest = carriers
            .iter()
            .map(|c| c.2)
            .fold(f32::NEG_INFINITY, f32::max);
        let lacking: Vec<StemKind> = self
            .loudest_programme_db
            .iter()
            .filter(|(k, level)| {
                !carriers.iter().any(|c| c.0 == **k) && **level > loudest - QUIET_BELOW_DB
            })
            .map(|(k, _)| *k)
            .collect();
        (!lacking.is_empty()).then(|| Missing {
            kind,
            first,
            carriers: carriers.iter().map(|c| c.0).collect(),
            lacking,
        })
    }
}

/// A mark some stems carry and others, with programme, lack.
struct Missing<'a> {
    kind: MarkKind,
    /// The first carrier's mark (its time is the one reported).
    first: &'a LeaderMark,
    carriers: Vec<StemKind>,
    lacking: Vec<StemKind>,
}

impl Missing<'_> {
    /// "head pop on dialogue and music at 00:59:58:00 but not on effects".
    fn headline(&self) -> String {
        let at = self
            .first
            .timecode
            .clone()
            .unwrap_or_else(|| format!("{:.3} s", self.first.start_s));
        format!(
            "{} on {} at {} but not on {}",
            self.kind.name(),
            join_and(&self.carriers.iter().map(|k| k.name()).collect::<Vec<_>>()),
            at,
            self.lacking
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(" or "),
        )
    }

    /// "effects", "music and effects".
    fn lacking_names(&self) -> String {
        join_and(&self.lacking.iter().map(|k| k.name()).collect::<Vec<_>>())
    }

    fn stems_were(&self) -> &'static str {
        if self.lacking.len() == 1 {
            "stem was"
        } else {
            "stems were"
        }
    }
}

/// The stems' frames seen from a burst: programme is any frame on any stem, not itself part of a
/// burst, above that burst's quiet threshold (so a far floor under a loud pop is not programme).
struct Sounds<'a> {
    stems: &'a [StemInput<'a>],
    bursts: &'a [Vec<Burst>],
}

impl Sounds<'_> {
    /// Start of the first programme frame at or after `t_s`, on any stem.
    fn first_after(&self, thr: f32, t_s: f64) -> Option<f64> {
        self.stems
            .iter()
            .zip(self.bursts)
            .filter_map(|(s, bs)| {
                let k = frame_at(s, t_s);
                (k..s.frames.len())
                    .find(|&i| is_programme(s, bs, thr, i))
                    .map(|i| i as f64 * s.frame_hop_s)
            })
            .reduce(f64::min)
    }

    /// End of the last programme frame before `t_s`, on any stem.
    fn last_before(&self, thr: f32, t_s: f64) -> Option<f64> {
        self.stems
            .iter()
            .zip(self.bursts)
            .filter_map(|(s, bs)| {
                let k = frame_at(s, t_s);
                (0..k)
                    .rev()
                    .find(|&i| is_programme(s, bs, thr, i))
                    .map(|i| (i + 1) as f64 * s.frame_hop_s)
            })
            .reduce(f64::max)
    }
}

/// The index of the frame of `s` that starts at `t_s` (clamped to the stem).
fn frame_at(s: &StemInput<'_>, t_s: f64) -> usize {
    ((t_s / s.frame_hop_s).max(0.0) as usize).min(s.frames.len())
}

/// Whether frame `i` of `s` is programme as seen from a burst of quiet threshold `thr`.
fn is_programme(s: &StemInput<'_>, bursts: &[Burst], thr: f32, i: usize) -> bool {
    s.frames[i].rms_db > thr && !bursts.iter().any(|b| (b.first..=b.last).contains(&i))
}

/// Where the head leader ends and the tail leader starts (see [`Leader::programme`]). Programme
/// is looked for above the quietest mark's threshold, so that no programme is cut off.
fn programme_edges(sounds: &Sounds<'_>, placed: &[Placed<'_>]) -> (Option<f64>, Option<f64>) {
    let of = |end: End| placed.iter().filter(move |p| p.end == end);
    let thr = |end: End| {
        of(end)
            .map(|p| p.burst.level_db - QUIET_BELOW_DB)
            .fold(f32::INFINITY, f32::min)
    };
    let head_end = of(End::Head)
        .map(|p| p.guard.end_s)
        .reduce(f64::max)
        .map(|guard_end| {
            let marks_end = of(End::Head).map(|p| p.burst.end_s).fold(0.0, f64::max);
            sounds
                .first_after(thr(End::Head), marks_end)
                .map_or(guard_end, |t| guard_end.min(t.max(marks_end)))
        });
    let tail_start = of(End::Tail)
        .map(|p| p.guard.start_s)
        .reduce(f64::min)
        .map(|guard_start| {
            let marks_start = of(End::Tail)
                .map(|p| p.burst.start_s)
                .fold(f64::INFINITY, f64::min);
            sounds
                .last_before(thr(End::Tail), marks_start)
                .map_or(guard_start, |t| guard_start.max(t.min(marks_start)))
        });
    (head_end, tail_start)
}

/// "a", "a and b", "a, b and c".
fn join_and(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}

/// Largest sample peak of the loudness steps that overlap `[start_s, end_s]`.
fn sample_peak(t: &LoudnessTrace, start_s: f64, end_s: f64) -> Option<f32> {
    if t.sample_peak.is_empty() || t.step_s <= 0.0 {
        return None;
    }
    let a = (start_s / t.step_s).floor().max(0.0) as usize;
    let b = ((end_s / t.step_s).ceil() as usize).min(t.sample_peak.len());
    t.sample_peak.get(a..b)?.iter().copied().reduce(f32::max)
}

/// Whether the hop peaks inside a burst (its first and last 50 ms left out) stay within
/// [`STEADY_DB`] of their median.
fn steady_level(tone: &ToneTrack, b: &Burst) -> bool {
    let sr = f64::from(tone.sample_rate.max(1));
    let a = ((b.start_s + 0.05) * sr / HOP as f64).ceil() as usize;
    let e = ((b.end_s - 0.05) * sr / HOP as f64).floor() as usize;
    let Some(hops) = tone.hops(a, e).filter(|h| !h.is_empty()) else {
        return false;
    };
    let mut db: Vec<f32> = hops
        .iter()
        .map(|h| 20.0 * h.peak.max(1e-12).log10())
        .collect();
    db.sort_by(f32::total_cmp);
    let median = db[db.len() / 2];
    db.first().is_some_and(|lo| median - lo <= STEADY_DB)
        && db.last().is_some_and(|hi| hi - median <= STEADY_DB)
}

/// The isolated, steady tone bursts of one stem (rules 1 and 2 of the module docs).
fn bursts(s: &StemInput<'_>) -> Vec<Burst> {
    let frames = s.frames;
    let n = frames.len().min(s.tone.n_frames);
    let hop = s.frame_hop_s;
    let quiet_frames = (QUIET_AROUND_S / hop).ceil() as usize;
    // The window's spill: frames whose window only partly covers a burst are not pure.
    let spill = (0.064 / hop).ceil() as usize + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(run) = s.tone.pure_run(i, n) {
        let (run_first, run_last) = (run[0].0, run[run.len() - 1].0);
        i = run_last + 1;
        let mut hz: Vec<f32> = run.iter().map(|(_, f)| f.hz).collect();
        hz.sort_by(f32::total_cmp);
        let median_hz = hz[hz.len() / 2];
        if hz
            .iter()
            .any(|&f| (f - median_hz).abs() > STEADY_HZ * median_hz)
        {
            continue;
        }
        let level_db = frames[run_first..=run_last]
            .iter()
            .map(|f| f.rms_db)
            .fold(f32::MIN, f32::max);
        let quiet = |k: usize| frames[k].rms_db < level_db - QUIET_BELOW_DB;
        let mut first = run_first;
        while first > 0 && !quiet(first - 1) {
            first -= 1;
        }
        let mut last = run_last;
        while last + 1 < n && !quiet(last + 1) {
            last += 1;
        }
        // Sound beyond the window's spill is something else touching the tone.
        if run_first - first > spill || last - run_last > spill {
            i = last + 1;
            continue;
        }
        let quiet_before = (0..first).rev().take_while(|&k| quiet(k)).count();
        let quiet_after = (last + 1..n).take_while(|&k| quiet(k)).count();
        let isolated = (quiet_before >= quiet_frames || quiet_before == first)
            && (quiet_after >= quiet_frames || last + 1 + quiet_after == n);
        if !isolated {
            i = last + 1;
            continue;
        }
        let Some((start_s, end_s)) = edges(s.tone, first as f64 * hop, (last + 1) as f64 * hop)
        else {
            i = last + 1;
            continue;
        };
        out.push(Burst {
            first,
            last,
            level_db,
            start_s,
            end_s,
            hz: refine_hz(median_hz, &frames[run_first..=run_last]),
            quiet_from_s: (first - quiet_before) as f64 * hop,
            quiet_to_s: (last + 1 + quiet_after) as f64 * hop,
        });
        i = last + 1;
    }
    out
}

/// The burst's first and last sample at or above half its peak, from the hop peaks between the
/// centres of its first and last frames (±half a window), in seconds.
fn edges(tone: &ToneTrack, from_s: f64, to_s: f64) -> Option<(f64, f64)> {
    let sr = f64::from(tone.sample_rate.max(1));
    let half_window = 0.032 * sr;
    let a = ((from_s * sr - half_window) / HOP as f64).floor().max(0.0) as usize;
    let b = ((to_s * sr + half_window) / HOP as f64).ceil() as usize;
    let hops = tone.hops(a, b)?;
    let peak = hops.iter().map(|h| h.peak).fold(0.0f32, f32::max);
    if peak <= 0.0 {
        return None;
    }
    let strong = |h: &HopPeak| h.peak >= 0.5 * peak;
    let first = hops.iter().position(strong)?;
    let last = hops.iter().rposition(strong)?;
    let start = ((a + first) * HOP + usize::from(hops[first].first)) as f64 / sr;
    let end = ((a + last) * HOP + usize::from(hops[last].last) + 1) as f64 / sr;
    Some((start, end))
}

/// The mel-band estimate refined by the pitch tracker where they agree: the tracker is exact for
/// a sine but searches 60 Hz - 1 kHz, so a higher sine reads as a whole fraction of its frequency.
fn refine_hz(mel_hz: f32, frames: &[FrameSummary]) -> f32 {
    let mut pitches: Vec<f32> = frames
        .iter()
        .filter(|f| f.periodicity >= 0.8 && f.pitch_hz > 0.0)
        .map(|f| f.pitch_hz)
        .collect();
    if pitches.is_empty() {
        return mel_hz;
    }
    pitches.sort_by(f32::total_cmp);
    let pitch = pitches[pitches.len() / 2];
    let k = (mel_hz / pitch).round().max(1.0);
    if (k * pitch - mel_hz).abs() <= 0.05 * mel_hz {
        k * pitch
    } else {
        mel_hz
    }
}

#[cfg(test)]
mod tests;
