//! Leader marks on short synthetic stems at the analysis rate (16 kHz mono, what the pipeline's
//! conditioner hands the feature extractor), fed block by block as the streaming pass does.

use super::*;
use crate::decode::ChannelRole;
use crate::features::{FeatureExtractor, FeatureTrack};
use crate::loudness::LoudnessMeter;
use crate::rng::Rng;

const SR: f64 = 16_000.0;
/// One frame of video at 24 fps.
const FRAME_24: f64 = 1.0 / 24.0;

struct Stem {
    kind: StemKind,
    features: FeatureTrack,
    tone: ToneTrack,
    loudness: LoudnessTrace,
}

impl Stem {
    fn of(kind: StemKind, x: &[f32]) -> Stem {
        let cfg = FeatureConfig::default();
        let mut ex = FeatureExtractor::new(cfg.clone());
        let mut probe = ToneProbe::new(&cfg);
        let mut features = FeatureTrack::default();
        let mut meter = LoudnessMeter::new(&[ChannelRole::Mono], SR as u32, false).unwrap();
        for block in x.chunks(8000) {
            ex.push_observed(block, &mut features, &mut |v| probe.observe(v));
            probe.push_samples(block);
            meter.push(block).unwrap();
        }
        ex.finish_observed(&mut features, &mut |v| probe.observe(v));
        Stem {
            kind,
            features,
            tone: probe.finish(),
            loudness: meter.finish(),
        }
    }

    fn input(&self) -> StemInput<'_> {
        StemInput {
            kind: self.kind,
            frames: &self.features.frames,
            frame_hop_s: self.features.frame_hop_s,
            tone: &self.tone,
            loudness: &self.loudness,
        }
    }
}

fn detect(stems: &[Stem]) -> Leader {
    Leader::detect(&stems.iter().map(Stem::input).collect::<Vec<_>>())
}

fn silence(seconds: f64) -> Vec<f32> {
    vec![0.0; (seconds * SR) as usize]
}

/// Adds a sine of peak level `dbfs` (a -20 dBFS tone) over `[start_s, start_s + len_s)`.
fn add_sine(x: &mut [f32], start_s: f64, len_s: f64, hz: f64, dbfs: f64) {
    let a = 10f64.powf(dbfs / 20.0);
    let first = (start_s * SR).round() as usize;
    let n = (len_s * SR).round() as usize;
    for (i, v) in x.iter_mut().skip(first).take(n).enumerate() {
        *v += (a * (std::f64::consts::TAU * hz * i as f64 / SR).sin()) as f32;
    }
}

/// Adds programme: white noise under a harmonic tone (a sawtooth's first 12 partials on 180 Hz,
/// with some vibrato), both at about `dbfs`.
fn add_programme(x: &mut [f32], start_s: f64, end_s: f64, dbfs: f64, seed: u32) {
    let a = 10f64.powf(dbfs / 20.0);
    let mut rng = Rng::new(seed as u64);
    let (first, last) = (
        (start_s * SR) as usize,
        ((end_s * SR) as usize).min(x.len()),
    );
    let mut phase = 0.0f64;
    for (i, v) in x[first..last].iter_mut().enumerate() {
        let noise = rng.noise() as f64;
        let t = i as f64 / SR;
        phase += std::f64::consts::TAU * 180.0 * (1.0 + 0.02 * (6.0 * t).sin()) / SR;
        let tone: f64 = (1..=12).map(|k| (k as f64 * phase).sin() / k as f64).sum();
        *v += (a * (0.5 * noise + 0.5 * tone)) as f32;
    }
}

/// A reel: line-up tone 1-3 s (optional), a one-frame 2-pop at `pop_s`, programme from
/// `pop_s + 2` to 11 s, silence to 12 s.
fn reel(pop_s: f64, tone: bool, dbfs: f64, hz: f64) -> Vec<f32> {
    let mut x = silence(12.0);
    if tone {
        add_sine(&mut x, 1.0, 2.0, hz, dbfs);
    }
    add_sine(&mut x, pop_s, FRAME_24, hz, dbfs);
    add_programme(&mut x, pop_s + 2.0, 11.0, -26.0, 7);
    x
}

fn marks(l: &Leader, stem: StemKind) -> Vec<LeaderMark> {
    l.marks.get(&stem).cloned().unwrap_or_default()
}

/// The kinds of [`marks`], in time order.
fn kinds(l: &Leader, stem: StemKind) -> Vec<MarkKind> {
    marks(l, stem).iter().map(|m| m.kind).collect()
}

#[test]
fn a_two_pop_before_programme_is_a_head_pop_timed_to_a_fraction_of_a_millisecond() {
    // Not on the 10 ms grid: 4.0031 s.
    let pop = 4.0031;
    let l = detect(&[Stem::of(
        StemKind::Dialogue,
        &reel(pop, false, -20.0, 1000.0),
    )]);
    let m = marks(&l, StemKind::Dialogue);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].kind, MarkKind::HeadPop);
    assert!((m[0].start_s - pop).abs() < 0.0005, "{:?}", m[0]);
    assert!((m[0].end_s - (pop + FRAME_24)).abs() < 0.0005, "{:?}", m[0]);
    assert!((m[0].frequency_hz - 1000.0).abs() <= 5.0, "{:?}", m[0]);
    let level = m[0].level_dbfs.unwrap();
    assert!((level + 20.0).abs() < 0.2, "{level}");
}

#[test]
fn the_same_leader_12_db_quieter_is_found_the_same() {
    let loud = detect(&[Stem::of(StemKind::Music, &reel(4.0, true, -20.0, 1000.0))]);
    let quiet = detect(&[Stem::of(StemKind::Music, &reel(4.0, true, -32.0, 1000.0))]);
    let (a, b) = (
        marks(&loud, StemKind::Music),
        marks(&quiet, StemKind::Music),
    );
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(b.len(), 2, "{b:?}");
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.kind, b.kind);
        assert!((a.start_s - b.start_s).abs() < 0.0002, "{a:?} {b:?}");
        assert!((a.end_s - b.end_s).abs() < 0.0002, "{a:?} {b:?}");
        assert_eq!(a.frequency_hz, b.frequency_hz);
        let d = a.level_dbfs.unwrap() - b.level_dbfs.unwrap();
        assert!((d - 12.0).abs() < 0.2, "{d}");
    }
}

#[test]
fn lineup_tone_at_the_head_is_reported_as_tone_with_its_frequency() {
    for hz in [1000.0, 440.0, 2000.0] {
        let l = detect(&[Stem::of(StemKind::Effects, &reel(5.0, true, -18.0, hz))]);
        let m = marks(&l, StemKind::Effects);
        let kinds: Vec<MarkKind> = m.iter().map(|m| m.kind).collect();
        assert_eq!(kinds, [MarkKind::LineupTone, MarkKind::HeadPop], "{hz} Hz");
        assert!((m[0].start_s - 1.0).abs() < 0.001 && (m[0].end_s - 3.0).abs() < 0.001);
        for mark in &m {
            assert!(
                (mark.frequency_hz - hz).abs() <= 0.01 * hz,
                "{hz} Hz read {mark:?}"
            );
        }
        assert!((m[0].level_dbfs.unwrap() + 18.0).abs() < 0.2);
    }
}

#[test]
fn a_tail_pop_after_the_last_programme_is_a_tail_pop() {
    let mut x = reel(2.0, false, -20.0, 1000.0);
    x.extend(silence(3.0));
    add_sine(&mut x, 13.0, FRAME_24, 1000.0, -20.0);
    let l = detect(&[Stem::of(StemKind::Dialogue, &x)]);
    let kinds = kinds(&l, StemKind::Dialogue);
    assert_eq!(kinds, [MarkKind::HeadPop, MarkKind::TailPop]);
}

#[test]
fn a_sine_beep_inside_programme_is_not_a_pop() {
    // A one-frame 1 kHz beep over programme, and the same beep alone on an otherwise silent
    // effects stem while dialogue plays: neither is leader.
    let mut dx = silence(12.0);
    add_programme(&mut dx, 1.0, 11.0, -26.0, 3);
    add_sine(&mut dx, 5.0, FRAME_24, 1000.0, -20.0);
    let mut fx = silence(12.0);
    add_sine(&mut fx, 6.0, FRAME_24, 1000.0, -20.0);
    add_sine(&mut fx, 8.0, 2.0, 1000.0, -20.0);
    let l = detect(&[
        Stem::of(StemKind::Dialogue, &dx),
        Stem::of(StemKind::Effects, &fx),
    ]);
    assert!(l.is_empty(), "{:?}", l.marks);
}

#[test]
fn a_beep_touching_other_sound_or_of_another_length_is_not_a_pop() {
    // Before any programme, but not isolated (noise 0.2 s after it), or too long for a pop and
    // too short for tone.
    let mut x = silence(12.0);
    add_sine(&mut x, 2.0, FRAME_24, 1000.0, -20.0);
    add_programme(&mut x, 2.25, 2.6, -30.0, 5);
    add_sine(&mut x, 4.0, 0.4, 1000.0, -20.0);
    add_programme(&mut x, 6.0, 11.0, -26.0, 7);
    let l = detect(&[Stem::of(StemKind::Dialogue, &x)]);
    assert!(l.is_empty(), "{:?}", l.marks);
}

#[test]
fn stems_whose_pops_are_one_frame_apart_get_the_sync_warning() {
    let dx = Stem::of(StemKind::Dialogue, &reel(4.0, false, -20.0, 1000.0));
    let mx = Stem::of(StemKind::Music, &reel(4.0 + FRAME_24, false, -20.0, 1000.0));
    let w = detect(&[dx, mx]).sync_warnings(FrameRate::Fps24);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("music head pop is 41.7 ms (1.00 frames at 24 fps) later than dialogue's"),
        "{}",
        w[0]
    );
}

#[test]
fn aligned_stems_get_no_sync_warning_whatever_their_levels() {
    let dx = Stem::of(StemKind::Dialogue, &reel(4.0, true, -20.0, 1000.0));
    let mx = Stem::of(StemKind::Music, &reel(4.0, true, -30.0, 1000.0));
    let fx = Stem::of(StemKind::Effects, &reel(4.0, false, -20.0, 1000.0));
    let l = detect(&[dx, mx, fx]);
    assert_eq!(l.marks.len(), 3);
    assert_eq!(l.sync_warnings(FrameRate::Fps24), Vec::<String>::new());
}

#[test]
fn detections_are_cut_by_the_guards_and_programme_is_kept() {
    let l = detect(&[Stem::of(
        StemKind::Dialogue,
        &reel(4.0, true, -20.0, 1000.0),
    )]);
    // Spans smeared onto the tone and the pop go; a span running from the pop's guard into
    // programme keeps its programme part; other stems have no guards.
    let cut = l.clip(
        StemKind::Dialogue,
        vec![
            Span::new(0.5, 3.2),
            Span::new(3.5, 4.6),
            Span::new(4.5, 8.0),
        ],
    );
    assert_eq!(cut.len(), 1, "{cut:?}");
    // Programme starts at 6 s; the first frame whose 64 ms window reaches it is 32 ms earlier.
    assert!(
        (cut[0].start_s - 5.97).abs() < 0.02 && cut[0].end_s == 8.0,
        "{cut:?}"
    );
    let other = l.clip(StemKind::Music, vec![Span::new(3.5, 4.6)]);
    assert_eq!(other, [Span::new(3.5, 4.6)]);
}

#[test]
fn a_stem_without_a_leader_has_no_marks_and_loses_nothing() {
    let mut x = silence(12.0);
    add_programme(&mut x, 0.5, 11.0, -26.0, 9);
    let l = detect(&[Stem::of(StemKind::Music, &x)]);
    assert!(l.is_empty());
    let spans = vec![Span::new(0.0, 12.0)];
    assert_eq!(l.clip(StemKind::Music, spans.clone()), spans);
    assert!(l.loudness_exclusion(None).is_empty());
}

#[test]
fn a_leader_over_a_far_noise_floor_is_still_found() {
    // Hiss 60 dB under the pop all through the reel: quiet around the marks, and not programme.
    let mut x = reel(4.0, true, -20.0, 1000.0);
    let mut rng = Rng::new(11);
    for v in x.iter_mut() {
        *v += rng.noise() * 1e-4;
    }
    let l = detect(&[Stem::of(StemKind::Dialogue, &x)]);
    let kinds = kinds(&l, StemKind::Dialogue);
    assert_eq!(kinds, [MarkKind::LineupTone, MarkKind::HeadPop]);
}

/// Programme from 6 s to 11 s with no leader.
fn programme_only(seed: u32) -> Vec<f32> {
    let mut x = silence(12.0);
    add_programme(&mut x, 6.0, 11.0, -26.0, seed);
    x
}

#[test]
fn a_head_pop_missing_from_one_stem_with_programme_is_warned_naming_it() {
    let l = detect(&[
        Stem::of(StemKind::Dialogue, &reel(4.0, false, -20.0, 1000.0)),
        Stem::of(StemKind::Music, &reel(4.0, false, -20.0, 1000.0)),
        Stem::of(StemKind::Effects, &programme_only(5)),
    ]);
    let w = l.missing_pop_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "head pop on dialogue and music at 4.000 s but not on effects: check that the \
             effects stem was printed with the leader"
        ),
        "{}",
        w[0]
    );
}

#[test]
fn pops_on_every_stem_or_on_none_give_no_missing_pop_warning() {
    let all = detect(&[
        Stem::of(StemKind::Dialogue, &reel(4.0, false, -20.0, 1000.0)),
        Stem::of(StemKind::Music, &reel(4.0, true, -30.0, 1000.0)),
        Stem::of(StemKind::Effects, &reel(4.0, false, -20.0, 1000.0)),
    ]);
    assert_eq!(all.missing_pop_warnings(), Vec::<String>::new());
    let none = detect(&[
        Stem::of(StemKind::Dialogue, &programme_only(3)),
        Stem::of(StemKind::Music, &programme_only(4)),
        Stem::of(StemKind::Effects, &programme_only(5)),
    ]);
    assert!(none.is_empty());
    assert_eq!(none.missing_pop_warnings(), Vec::<String>::new());
}

#[test]
fn a_silent_stem_is_not_blamed_for_a_missing_pop_but_a_missing_tail_pop_is_warned() {
    // Effects silent but for hiss 70 dB under the pops: no programme, no blame. Music has
    // programme and a head pop but no tail pop, which dialogue has.
    let mut dx = reel(4.0, false, -20.0, 1000.0);
    dx.extend(silence(3.0));
    add_sine(&mut dx, 13.0, FRAME_24, 1000.0, -20.0);
    let mut mx = reel(4.0, false, -20.0, 1000.0);
    mx.extend(silence(3.0));
    let mut fx = silence(15.0);
    let mut rng = Rng::new(17);
    for v in fx.iter_mut() {
        *v += rng.noise() * 3e-5;
    }
    let mut l = detect(&[
        Stem::of(StemKind::Dialogue, &dx),
        Stem::of(StemKind::Music, &mx),
        Stem::of(StemKind::Effects, &fx),
    ]);
    l.label(&Clock::new(3600.0 - 4.0, FrameRate::Fps24));
    let w = l.missing_pop_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("tail pop on dialogue at 01:00:09:00 but not on music:"),
        "{}",
        w[0]
    );
}

#[test]
fn programme_runs_from_the_first_sound_after_the_head_pop_to_the_last_before_the_tail_pop() {
    // Pop at 4 s, programme 6-11 s, tail pop at 13 s: the guards (2.5 s) would reach 6.54 s and
    // 10.5 s, but programme sounds from 6 s to 11 s (give or take the frames' 64 ms window).
    let mut x = reel(4.0, true, -20.0, 1000.0);
    x.extend(silence(3.0));
    add_sine(&mut x, 13.0, FRAME_24, 1000.0, -20.0);
    let l = detect(&[Stem::of(StemKind::Dialogue, &x)]);
    let p = l.programme(15.0);
    assert!((5.9..=6.0).contains(&p.start_s), "{p:?}");
    assert!((11.0..=11.1).contains(&p.end_s), "{p:?}");
    // A tail pop 30 s after programme: the last scene ends where the tail guard begins.
    let mut y = reel(4.0, false, -20.0, 1000.0);
    y.extend(silence(30.0));
    add_sine(&mut y, 40.0, FRAME_24, 1000.0, -20.0);
    let p = detect(&[Stem::of(StemKind::Dialogue, &y)]).programme(42.0);
    assert!((40.0 - GUARD_S - p.end_s).abs() < 0.01, "{p:?}");
    // Without a leader, programme is the whole title.
    let none = detect(&[Stem::of(StemKind::Dialogue, &programme_only(3))]);
    assert_eq!(none.programme(12.0), Span::new(0.0, 12.0));
}

#[test]
fn a_stem_with_programme_but_without_the_lineup_tone_of_the_others_is_warned() {
    let l = detect(&[
        Stem::of(StemKind::Dialogue, &reel(4.0, true, -20.0, 1000.0)),
        Stem::of(StemKind::Music, &reel(4.0, true, -20.0, 1000.0)),
        Stem::of(StemKind::Effects, &reel(4.0, false, -20.0, 1000.0)),
    ]);
    assert_eq!(l.missing_pop_warnings(), Vec::<String>::new());
    let w = l.missing_tone_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "line-up tone on dialogue and music at 1.000 s but not on effects: check that the \
             effects stem was printed with the line-up tone"
        ),
        "{}",
        w[0]
    );
    // Tone on every stem, or on none: nothing to warn.
    let every = detect(&[
        Stem::of(StemKind::Dialogue, &reel(4.0, true, -20.0, 1000.0)),
        Stem::of(StemKind::Effects, &reel(4.0, true, -26.0, 1000.0)),
    ]);
    assert_eq!(every.missing_tone_warnings(), Vec::<String>::new());
    let none = detect(&[
        Stem::of(StemKind::Dialogue, &reel(4.0, false, -20.0, 1000.0)),
        Stem::of(StemKind::Effects, &reel(4.0, false, -20.0, 1000.0)),
    ]);
    assert_eq!(none.missing_tone_warnings(), Vec::<String>::new());
}

#[test]
fn the_probe_keeps_hop_peaks_only_around_sine_frames() {
    // Programme without a sine keeps nothing; a pop and a 2 s tone keep their own frames and hops
    // and 16 hops either side, not the 12 s of the stem.
    let none = Stem::of(StemKind::Dialogue, &programme_only(3)).tone;
    assert!(none.hops.is_empty() && none.pure.is_empty(), "{none:?}");
    assert_eq!(none.n_hops, 12 * 100);
    let leader = Stem::of(StemKind::Dialogue, &reel(4.0, true, -20.0, 1000.0)).tone;
    let kept: usize = leader.hops.iter().map(|r| r.peaks.len()).sum();
    assert_eq!(leader.hops.len(), 2, "one run per burst");
    assert!(kept <= 200 + 5 + 4 * KEEP_HOPS + 20, "{kept} hops kept");
}
