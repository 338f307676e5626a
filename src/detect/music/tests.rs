//! Specifications of the cue detector on synthetic feature tracks.

use super::*;
use crate::features::{FrameSummary, TextureWindow};

/// A tiny deterministic noise source (xorshift), so tests need no crate and never flake; the beat
/// reading's specifications use it too.
pub(super) struct Noise(pub(super) u64);

impl Noise {
    /// The next value in [0, 1).
    pub(super) fn unit(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 10_000) as f32 / 10_000.0
    }

    /// The next value in [-0.5, 0.5).
    fn next(&mut self) -> f32 {
        self.unit() - 0.5
    }
}

/// A piece of music as the feature engine would summarise it: a level and a timbre signature.
#[derive(Clone, Copy)]
struct Piece {
    level_db: f32,
    centroid_hz: f32,
    flatness: f32,
    flux: f32,
    peakiness: f32,
    periodicity: f32,
    /// Texture signature (e.g. MFCC means); the test pieces differ in it.
    timbre: [f32; 8],
}

const SILENCE: Piece = Piece {
    level_db: -120.0,
    centroid_hz: 0.0,
    flatness: 0.0,
    flux: 0.0,
    peakiness: 0.0,
    periodicity: 0.0,
    timbre: [0.0; 8],
};

fn piece(seed: u32, level_db: f32) -> Piece {
    let s = seed as f32;
    let mut timbre = [0f32; 8];
    for (i, t) in timbre.iter_mut().enumerate() {
        *t = ((s + 1.0) * (i as f32 + 1.0) * 0.7).sin() * 3.0;
    }
    Piece {
        level_db,
        centroid_hz: 800.0 + 400.0 * (s * 1.3).sin().abs(),
        flatness: 0.1 + 0.05 * (s * 2.1).cos().abs(),
        flux: 2.0 + (s * 0.9).sin().abs(),
        peakiness: 0.5 + 0.2 * (s * 1.7).sin(),
        periodicity: 0.4 + 0.2 * (s * 0.5).cos(),
        timbre,
    }
}

/// Builds a feature track from a gain curve per piece: `parts(t)` gives the sounding pieces and their
/// linear amplitudes at time `t`.
fn synth(duration_s: f64, parts: impl Fn(f64) -> Vec<(Piece, f32)>) -> FeatureTrack {
    let hop = 0.01;
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut frames = Vec::new();
    let n = (duration_s / hop) as usize;
    // Texture signature per frame, averaged into windows below.
    let mut timbres: Vec<[f32; 8]> = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 * hop;
        let sounding: Vec<(Piece, f32)> = parts(t).into_iter().filter(|(_, g)| *g > 0.0).collect();
        let power: f32 = sounding
            .iter()
            .map(|(p, g)| 10f32.powf(p.level_db / 10.0) * g * g)
            .sum();
        if power <= 0.0 {
            frames.push(FrameSummary {
                rms_db: -120.0,
                ..Default::default()
            });
            timbres.push(SILENCE.timbre);
            continue;
        }
        // Features of a mix: power-weighted averages of the pieces' features.
        let w = |f: &dyn Fn(&Piece) -> f32| {
            sounding
                .iter()
                .map(|(p, g)| f(p) * 10f32.powf(p.level_db / 10.0) * g * g)
                .sum::<f32>()
                / power
        };
        let jitter = noise.next();
        frames.push(FrameSummary {
            rms_db: 10.0 * power.log10() + 3.0 * jitter,
            speech_band_db: 10.0 * power.log10() - 3.0,
            periodicity: w(&|p| p.periodicity) + 0.1 * noise.next(),
            pitch_hz: 0.0,
            flatness: (w(&|p| p.flatness) + 0.02 * noise.next()).max(0.0),
            centroid_hz: w(&|p| p.centroid_hz) * (1.0 + 0.2 * noise.next()),
            flux: w(&|p| p.flux) * (1.0 + noise.next()),
            peakiness: w(&|p| p.peakiness) + 0.1 * noise.next(),
        });
        let mut tim = [0f32; 8];
        for (j, v) in tim.iter_mut().enumerate() {
            *v = w(&|p| p.timbre[j]) + 1.5 * noise.next();
        }
        timbres.push(tim);
    }
    let mut windows = Vec::new();
    let (len, hop_w) = (100usize, 25usize);
    let mut k = 0;
    while k + len <= n {
        let mut v = vec![0f32; 8];
        for tim in &timbres[k..k + len] {
            for (a, b) in v.iter_mut().zip(tim) {
                *a += b / len as f32;
            }
        }
        windows.push(TextureWindow {
            start_s: k as f64 * hop,
            values: v,
        });
        k += hop_w;
    }
    FeatureTrack {
        frame_hop_s: hop,
        texture_len_s: 1.0,
        texture_hop_s: 0.25,
        frames,
        windows,
    }
}

/// Equal-power fade gain: 0 at `from`, 1 at `to` (or the reverse when `to < from`).
fn ramp(t: f64, from: f64, to: f64) -> f32 {
    let x = ((t - from) / (to - from)).clamp(0.0, 1.0);
    (std::f64::consts::FRAC_PI_2 * x).sin() as f32
}

fn no_loudness() -> LoudnessTrace {
    LoudnessTrace::default()
}

#[test]
fn separate_cues_with_fades_are_found_at_their_audible_ends() {
    let a = piece(1, -22.0);
    let b = piece(2, -38.0);
    let track = synth(80.0, |t| {
        let mut v = Vec::new();
        if (5.0..30.0).contains(&t) {
            v.push((a, ramp(t, 5.0, 7.0) * ramp(t, 30.0, 25.0)));
        }
        if (40.0..70.0).contains(&t) {
            v.push((b, ramp(t, 70.0, 64.0)));
        }
        v
    });
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 2, "{cues:?}");
    assert!((cues[0].start_s - 5.0).abs() < 0.5, "{cues:?}");
    assert!((cues[0].end_s - 30.0).abs() < 0.5, "{cues:?}");
    assert!((cues[1].start_s - 40.0).abs() < 0.5, "{cues:?}");
    assert!((cues[1].end_s - 70.0).abs() < 0.5, "{cues:?}");
}

#[test]
fn a_quiet_cue_is_found_whatever_its_absolute_level() {
    for level in [-20.0, -38.0, -55.0] {
        let p = piece(3, level);
        let track = synth(40.0, |t| {
            if (10.0..30.0).contains(&t) {
                vec![(p, 1.0)]
            } else {
                vec![]
            }
        });
        let cues = detect_cues(&track, &no_loudness());
        assert_eq!(cues.len(), 1, "level {level}: {cues:?}");
        assert!((cues[0].start_s - 10.0).abs() < 0.1 && (cues[0].end_s - 30.0).abs() < 0.1);
    }
}

#[test]
fn a_segue_between_two_pieces_splits_near_the_crossfade_middle() {
    // A from 5 s until 32 s, B 8 dB quieter from 30 s to 62 s: a 2 s crossfade centred on 31 s.
    let cues = detect_cues(&segued_track(2.0, 8.0), &no_loudness());
    assert_eq!(cues.len(), 2, "{cues:?}");
    assert!((cues[0].start_s - 5.0).abs() < 0.5);
    let middle = (cues[0].end_s + cues[1].start_s) / 2.0;
    assert!((middle - 31.0).abs() < 1.0, "{cues:?}");
    // The segued cues overlap by the assumed 2 s crossfade: A ends near 32 s, B starts near 30 s.
    assert!((cues[0].end_s - 32.0).abs() < 1.0, "{cues:?}");
    assert!((cues[1].start_s - 30.0).abs() < 1.0, "{cues:?}");
    assert!((cues[1].end_s - 62.0).abs() < 0.5);
}

#[test]
fn a_segue_into_a_quieter_cue_ducked_under_dialogue_is_found() {
    // A at -22 dB crossfades (2 s, middle 31 s) into B, 12 dB quieter, which is ducked a further
    // 9 dB under two lines of dialogue (33-41 s and 44-52 s): B's windows lie 21 dB under A's, and
    // B's level moves with the ducking; neither hides the change of piece nor splits B.
    let a = piece(4, -22.0);
    let b = piece(9, -34.0);
    let duck = 10f32.powf(-9.0 / 20.0);
    let track = synth(80.0, |t| {
        let mut v = Vec::new();
        if (5.0..32.0).contains(&t) {
            v.push((a, ramp(t, 32.0, 30.0)));
        }
        if (30.0..72.0).contains(&t) {
            let g = if (33.0..41.0).contains(&t) || (44.0..52.0).contains(&t) {
                duck
            } else {
                1.0
            };
            v.push((b, g * ramp(t, 30.0, 32.0)));
        }
        v
    });
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 2, "{cues:?}");
    // The mixture's content is A's until B's power overtakes it, which for a cue 12 dB quieter is
    // late in an equal-power crossfade: at 31.7 s, not at the 31 s middle of the gain ramps.
    let middle = (cues[0].end_s + cues[1].start_s) / 2.0;
    assert!((middle - 31.7).abs() < 0.75, "{cues:?}");
    assert!((cues[1].end_s - 72.0).abs() < 0.5, "{cues:?}");
}

#[test]
fn a_segue_is_reported_with_the_novelty_that_split_it() {
    let music = detect_music(
        &segued_track(2.0, 8.0),
        &no_loudness(),
        &CueConfig::default(),
    );
    assert_eq!(music.cues.len(), 2);
    assert_eq!(music.segues.len(), 1);
    let s = music.segues[0];
    // The change point is the middle of the two cues' overlap, and the split passed the rule.
    assert!(((music.cues[0].end_s + music.cues[1].start_s) / 2.0 - s.at_s).abs() < 1e-9);
    assert!(
        s.novelty_ratio >= s.required_ratio && s.required_ratio >= 1.0,
        "{s:?}"
    );
}

#[test]
fn a_segue_margin_above_a_splits_own_keeps_the_music_one_cue() {
    let track = segued_track(2.0, 8.0);
    let with_margin = |m: f64| {
        let mut cfg = CueConfig::default();
        cfg.novelty.segue_margin = m;
        detect_music(&track, &no_loudness(), &cfg)
    };
    let s = with_margin(1.0).segues[0];
    let own = s.novelty_ratio / s.required_ratio;
    assert_eq!(with_margin(own * 0.99).cues.len(), 2, "margin {own}");
    let merged = with_margin(own * 1.01);
    assert_eq!(merged.cues.len(), 1, "margin {own}");
    assert!(merged.segues.is_empty());
}

#[test]
fn segue_overlap_setting_makes_segued_cues_overlap() {
    let track = segued_track(2.0, 8.0);
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 2, "{cues:?}");
    assert!((cues[0].end_s - cues[1].start_s - 2.0).abs() < 1e-9);
    // With no assumed crossfade the two cues abut at the change point.
    let cfg = CueConfig {
        segue_overlap_s: 0.0,
        ..Default::default()
    };
    let cues = detect_cues_with(&track, &no_loudness(), &cfg);
    assert_eq!(cues.len(), 2, "{cues:?}");
    assert_eq!(cues[0].end_s, cues[1].start_s);
}

#[test]
fn one_steady_piece_with_ducking_and_a_pause_is_one_cue() {
    let a = piece(5, -24.0);
    // 50 s of one piece, ducked 8 dB for 6 s under a line, with a 1 s pause at 35 s.
    let track = synth(60.0, |t| {
        if !(5.0..55.0).contains(&t) || (35.0..36.0).contains(&t) {
            return vec![];
        }
        let duck = if (15.0..21.0).contains(&t) { 0.4 } else { 1.0 };
        vec![(a, duck)]
    });
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 1, "{cues:?}");
    assert!((cues[0].start_s - 5.0).abs() < 0.1 && (cues[0].end_s - 55.0).abs() < 0.1);
}

#[test]
fn a_stinger_between_cues_is_its_own_cue() {
    let a = piece(6, -22.0);
    let s = piece(7, -19.0);
    let track = synth(70.0, |t| {
        if (5.0..30.0).contains(&t) {
            vec![(a, 1.0)]
        } else if (36.0..39.5).contains(&t) {
            vec![(s, ramp(t, 39.5, 38.8))]
        } else if (45.0..65.0).contains(&t) {
            vec![(a, 1.0)]
        } else {
            vec![]
        }
    });
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 3, "{cues:?}");
    assert!((cues[1].start_s - 36.0).abs() < 0.1 && (cues[1].end_s - 39.5).abs() < 0.2);
}

#[test]
fn an_empty_or_silent_stem_has_no_cues() {
    assert!(detect_cues(&FeatureTrack::default(), &no_loudness()).is_empty());
    let track = synth(20.0, |_| vec![]);
    assert!(detect_cues(&track, &no_loudness()).is_empty());
}

#[test]
fn without_timbre_features_a_level_step_does_not_split_a_run() {
    // Only the loudness trace: 20 s at -20 dB then 20 s at -35 dB, no silence between.
    let mut momentary = vec![0f32; 50];
    momentary.extend(std::iter::repeat_n(1e-2, 200));
    momentary.extend(std::iter::repeat_n(10f32.powf(-3.5), 200));
    momentary.extend(std::iter::repeat_n(0.0, 50));
    let lt = LoudnessTrace {
        step_s: 0.1,
        momentary,
        ..Default::default()
    };
    let cues = detect_cues(&FeatureTrack::default(), &lt);
    assert_eq!(cues.len(), 1, "{cues:?}");
    assert!((cues[0].start_s - 5.0).abs() < 0.2 && (cues[0].end_s - 45.0).abs() < 0.2);
}

/// Renders a music stem from cue plans with the synthesiser (16 kHz, mono fold-down) and runs the
/// feature engine over it, block by block like the pipeline.
fn rendered(duration_s: f64, cues: Vec<crate::synth::plan::CuePlan>) -> FeatureTrack {
    rendered_with_gain(duration_s, cues, |_| 1.0)
}

/// [`rendered`] with a mixer's gain curve (linear, over time) applied to the music.
fn rendered_with_gain(
    duration_s: f64,
    cues: Vec<crate::synth::plan::CuePlan>,
    gain: impl Fn(f64) -> f32,
) -> FeatureTrack {
    use crate::features::FeatureConfig;
    use crate::synth::music::MusicEngine;
    use crate::synth::plan::Plan;
    let plan = Plan {
        duration_s,
        scenes: Vec::new(),
        lines: Vec::new(),
        cues,
        hits: Vec::new(),
        music_duck_db: 0.0,
    };
    let sr = 16_000.0;
    let mut engine = MusicEngine::new(&plan, sr as f32, 11);
    let signal: Vec<f32> = (0..(duration_s * sr) as usize)
        .map(|i| {
            let t = i as f64 / sr;
            let (l, r) = engine.next(t);
            0.5 * (l + r) * gain(t)
        })
        .collect();
    FeatureTrack::of_signal(&signal, FeatureConfig::default())
}

/// A score cue plan: key, mode, tempo and arrangement are what make two pieces differ.
fn score_cue(
    span: (f64, f64),
    fades: (f64, f64),
    segue: (bool, bool),
    music: (u8, bool, f64, bool, bool),
    gain_db: f64,
) -> crate::synth::plan::CuePlan {
    let (key_root, minor, tempo_bpm, lead, percussion) = music;
    crate::synth::plan::CuePlan {
        start_s: span.0,
        end_s: span.1,
        kind: crate::synth::plan::CueKind::Score,
        source: "test".into(),
        license: "test".into(),
        fade_in_s: fades.0,
        fade_out_s: fades.1,
        gain_db,
        stinger: false,
        segue_in: segue.0,
        segue_out: segue.1,
        tempo_bpm,
        key_root,
        minor,
        lead,
        percussion,
        phrases: Vec::new(),
        vocal_to_accompaniment_db: None,
        seed: 5 + key_root as u64,
    }
}

#[test]
fn a_rendered_crossfade_between_two_pieces_splits_within_a_second_of_its_middle() {
    // A slow minor piece with a bowed lead, then a brisk major piece with percussion, 6 dB louder:
    // a 2.4 s equal-power crossfade from 38.8 s to 41.2 s, middle 40 s.
    let a = score_cue(
        (4.0, 41.2),
        (1.5, 2.4),
        (false, true),
        (57, true, 72.0, true, false),
        -26.0,
    );
    let b = score_cue(
        (38.8, 76.0),
        (2.4, 2.0),
        (true, false),
        (62, false, 126.0, false, true),
        -20.0,
    );
    let track = rendered(80.0, vec![a, b]);
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 2, "{cues:?}");
    let middle = (cues[0].end_s + cues[1].start_s) / 2.0;
    assert!((middle - 40.0).abs() < 1.0, "{cues:?}");
    assert!((cues[0].end_s - 41.2).abs() < 1.0, "{cues:?}");
    assert!((cues[1].start_s - 38.8).abs() < 1.0, "{cues:?}");
    assert!((cues[0].start_s - 4.0).abs() < 0.5, "{cues:?}");
    assert!((cues[1].end_s - 76.0).abs() < 0.5, "{cues:?}");
}

#[test]
fn one_rendered_piece_without_a_segue_is_not_split() {
    let a = score_cue(
        (4.0, 70.0),
        (1.5, 2.0),
        (false, false),
        (60, false, 96.0, true, true),
        -22.0,
    );
    let track = rendered(74.0, vec![a]);
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 1, "{cues:?}");
}

/// Cues found on [`segued_track`].
fn segued_pieces(len_s: f64, step_db: f32) -> Vec<Span> {
    detect_cues(&segued_track(len_s, step_db), &no_loudness())
}

/// Two synthetic pieces, from 5 s and until 62 s, joined by an equal-power crossfade of `len_s`
/// centred on 31 s, the later piece `step_db` quieter.
fn segued_track(len_s: f64, step_db: f32) -> FeatureTrack {
    let a = piece(4, -22.0);
    let b = piece(9, -22.0 - step_db);
    let (from, to) = (31.0 - len_s / 2.0, 31.0 + len_s / 2.0);
    synth(70.0, |t| {
        let mut v = Vec::new();
        if (5.0..to).contains(&t) {
            v.push((a, ramp(t, to, from)));
        }
        if (from..62.0).contains(&t) {
            v.push((b, ramp(t, from, to)));
        }
        v
    })
}

/// Segue sides for [`segued_pieces`]: (end error of the earlier cue, start error of the later one),
/// seconds.
fn segue_side_errors(len_s: f64, step_db: f32) -> (f64, f64) {
    let cues = segued_pieces(len_s, step_db);
    assert_eq!(cues.len(), 2, "crossfade {len_s} s: {cues:?}");
    let (from, to) = (31.0 - len_s / 2.0, 31.0 + len_s / 2.0);
    ((cues[0].end_s - to).abs(), (cues[1].start_s - from).abs())
}

#[test]
fn crossfades_near_the_assumed_length_give_segue_sides_within_half_a_second() {
    // The rule places the sides half the assumed 2 s crossfade either side of the change point, so
    // between pieces of equal level (whose content turns over at the middle of the gain ramps)
    // crossfades of 1.5-2.5 s land within 0.5 s.
    for len_s in [1.5, 2.0, 2.5] {
        let (end_err, start_err) = segue_side_errors(len_s, 0.0);
        assert!(
            end_err <= 0.5 && start_err <= 0.5,
            "crossfade {len_s} s: end off {end_err:.2} s, start off {start_err:.2} s"
        );
    }
}

#[test]
#[ignore = "target not met: the crossfade length is assumed (2 s), not measured (issue #4)"]
fn crossfades_of_one_to_four_seconds_give_segue_sides_within_half_a_second() {
    // Into a piece 4 dB quieter: the content turns over after the middle of the gain ramps.
    for len_s in [1.0, 2.0, 3.0, 4.0] {
        let (end_err, start_err) = segue_side_errors(len_s, 4.0);
        assert!(
            end_err <= 0.5 && start_err <= 0.5,
            "crossfade {len_s} s: end off {end_err:.2} s, start off {start_err:.2} s"
        );
    }
}

#[test]
fn a_rendered_piece_ducked_under_dense_dialogue_is_one_cue() {
    // One piece for 50 s: no dialogue for its first 20 s, then a line every 3 s (2 s of speech,
    // 1 s pause) with the music ducked 9 dB on 0.3 s ramps, the way a mixer (and the dev reels)
    // duck. Windows spanning the ramps vary in level inside themselves while the first 20 s do
    // not; the level-independent content test must not read that as a change of piece.
    let a = score_cue(
        (2.0, 52.0),
        (1.0, 2.0),
        (false, false),
        (55, true, 84.0, true, false),
        -22.0,
    );
    let duck_db = 9.0f64;
    let gain = move |t: f64| {
        if !(22.0..50.0).contains(&t) {
            return 1.0;
        }
        // Distance into the current 3 s line slot; speech for the first 2 s of it.
        let x = (t - 22.0) % 3.0;
        let depth = (x / 0.3)
            .min(1.0)
            .min(((2.0 - x) / 0.3 + 1.0).clamp(0.0, 1.0));
        10f64.powf(-duck_db * depth / 20.0) as f32
    };
    let track = rendered_with_gain(54.0, vec![a], gain);
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 1, "{cues:?}");
    assert!((cues[0].start_s - 2.0).abs() < 0.5 && (cues[0].end_s - 52.0).abs() < 0.5);
}

/// Two rendered pieces crossfading over 2.4 s around 40 s (38.8-41.2 s), each given as
/// (key, minor, tempo, lead, percussion).
fn rendered_segue(a: (u8, bool, f64, bool, bool), b: (u8, bool, f64, bool, bool)) -> FeatureTrack {
    let a = score_cue((4.0, 41.2), (1.5, 2.4), (false, true), a, -22.0);
    let b = score_cue((38.8, 76.0), (2.4, 2.0), (true, false), b, -22.0);
    rendered(80.0, vec![a, b])
}

#[test]
#[ignore = "target not met: split twice, 6.4 s before and 3.6 s after the middle (session 22: \
            once, 3.6 s after); the timbre curve has two humps either side of a key-only change \
            and the split score takes the secondary one too (issue #4)"]
fn a_segue_between_pieces_in_different_keys_with_the_same_instruments_is_split_near_its_middle() {
    // C major into F# major: same tempo, same lead, same level; only the key changes.
    let track = rendered_segue(
        (60, false, 96.0, true, false),
        (66, false, 96.0, true, false),
    );
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 2, "{cues:?}");
    let middle = (cues[0].end_s + cues[1].start_s) / 2.0;
    assert!((middle - 40.0).abs() < 1.0, "{cues:?}");
}

#[test]
fn a_piece_whose_instruments_change_but_key_stays_is_not_split() {
    // The same key and tempo; a bowed lead and percussion give way to plucks alone. The timbre
    // test alone splits it; the pitch-class profiles either side are the same piece's.
    let track = rendered_segue(
        (62, false, 96.0, true, true),
        (62, false, 96.0, false, false),
    );
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 1, "{cues:?}");
    let mut cfg = CueConfig::default();
    cfg.novelty.same_piece_chroma = 0.0;
    cfg.novelty.same_key_window_s = 0.0;
    let without_veto = detect_cues_with(&track, &no_loudness(), &cfg);
    assert_eq!(without_veto.len(), 2, "{without_veto:?}");
}

#[test]
fn a_segue_into_a_quieter_piece_lands_within_a_quarter_second_of_its_middle_half_when_long() {
    // The long comparison windows find the change, but the quieter piece's side of their broad peak
    // tilts it (0.4-0.6 s late without the short-window placement); the short windows put the change
    // point back on the middle of the gain ramps, to the 0.25 s grid. A crossfade reaching well
    // past the short windows' guard gap (1.5 s) tilts them too: at 2.5 s the point lands a hop or
    // two late, still within half a second.
    for (len_s, within_s) in [(1.0, 0.25), (1.5, 0.25), (2.0, 0.25), (2.5, 0.5)] {
        let cues = segued_pieces(len_s, 4.0);
        assert_eq!(cues.len(), 2, "crossfade {len_s} s: {cues:?}");
        let middle = (cues[0].end_s + cues[1].start_s) / 2.0;
        assert!(
            (middle - 31.0).abs() <= within_s,
            "crossfade {len_s} s: middle found at {middle:.3} s, not within {within_s} s of 31 s"
        );
    }
}

/// Descriptors holding only levels, on a 0.25 s hop of 1 s windows, every window usable:
/// `level(t)` gives the level of the window starting at `t`.
fn leveled(duration_s: f64, level: impl Fn(f64) -> f32) -> novelty::Descriptors {
    let count = ((duration_s - 1.0) / 0.25) as usize + 1;
    novelty::Descriptors {
        hop_s: 0.25,
        len_s: 1.0,
        dims: 0,
        values: Vec::new(),
        level_db: (0..count).map(|k| level(k as f64 * 0.25)).collect(),
        usable: vec![true; count],
        chroma: Vec::new(),
    }
}

/// Descriptors holding only pitch-class profiles, on a 0.25 s hop of 1 s windows, every window
/// usable: `profile(t)` gives the profile of the window starting at `t`.
fn profiled(duration_s: f64, profile: impl Fn(f64) -> [f32; 12]) -> novelty::Descriptors {
    let mut d = leveled(duration_s, |_| -20.0);
    d.chroma = (0..d.len())
        .flat_map(|k| profile(k as f64 * 0.25))
        .collect();
    d
}

/// A major key's pitch-class weights with its tonic at pitch class `tonic`.
fn key(tonic: usize) -> [f32; 12] {
    const MAJOR: [f32; 12] = [3.0, 0.0, 1.0, 0.0, 2.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0];
    std::array::from_fn(|p| MAJOR[(p + 12 - tonic) % 12])
}

/// `a` weighted `1 - m`, `b` weighted `m`.
fn blend(a: [f32; 12], b: [f32; 12], m: f32) -> [f32; 12] {
    std::array::from_fn(|p| (1.0 - m) * a[p] + m * b[p])
}

#[test]
fn a_key_held_for_twenty_seconds_either_side_is_one_piece() {
    // C major, then from 30 s a profile leaning towards G (a part entering on the dominant): the
    // 12 s profiles differ by more than the near-identity veto but stay close, and they still do
    // over 20 s, so the peak at 30 s is inside one piece.
    let run = Span::new(0.0, 70.0);
    let cfg = NoveltyConfig::default();
    let d = profiled(70.0, |t| {
        if t < 30.0 {
            key(0)
        } else {
            blend(key(0), key(7), 0.5)
        }
    });
    let near = novelty::chroma_distance(&d, &run, 30.0, &cfg).unwrap();
    assert!(
        (cfg.same_piece_chroma..cfg.same_key_chroma).contains(&near),
        "{near}"
    );
    assert!(novelty::same_piece(&d, &run, 30.0, &cfg));
    let no_long = NoveltyConfig {
        same_key_window_s: 0.0,
        ..cfg
    };
    assert!(!novelty::same_piece(&d, &run, 30.0, &no_long));
}

#[test]
fn a_near_key_that_moves_away_within_twenty_seconds_is_a_segue() {
    // The same first 12 s after the change, but the new piece then moves to F sharp major: over
    // 20 s the profiles differ, so the change at 30 s is a segue into another piece.
    let run = Span::new(0.0, 70.0);
    let cfg = NoveltyConfig::default();
    let d = profiled(70.0, |t| match t {
        t if t < 30.0 => key(0),
        t if t < 43.0 => blend(key(0), key(7), 0.5),
        _ => key(6),
    });
    let near = novelty::chroma_distance(&d, &run, 30.0, &cfg).unwrap();
    assert!(
        (cfg.same_piece_chroma..cfg.same_key_chroma).contains(&near),
        "{near}"
    );
    assert!(!novelty::same_piece(&d, &run, 30.0, &cfg));
}

#[test]
fn a_piece_keeping_its_beat_through_a_change_of_arrangement_and_key_is_not_split() {
    // One recording whose second section moves to D and drops the bowed lead, crossfaded over
    // 39-41.5 s on the same 96 bpm bar grid (B starts 14 bars after A). The timbre test alone
    // splits it (1.6x the median), and the keys differ, so the profile veto does not hold it; the
    // beat grid carried through the change does.
    let a = score_cue(
        (4.0, 41.5),
        (1.5, 2.5),
        (false, true),
        (60, false, 96.0, true, true),
        -22.0,
    );
    let b = score_cue(
        (39.0, 76.0),
        (2.5, 2.0),
        (true, false),
        (62, false, 96.0, false, true),
        -22.0,
    );
    let track = rendered(80.0, vec![a, b]);
    let cues = detect_cues(&track, &no_loudness());
    assert_eq!(cues.len(), 1, "{cues:?}");
    // The shipped score also asks more of a change with no level step (session 27), which alone
    // holds this one. So the beat's part is shown under session 23's score, without that term:
    // there the grid holds it and, with the beat reading off, it splits.
    let mut cfg = CueConfig::default();
    cfg.novelty.key_exponent = 0.19;
    cfg.novelty.peak_factor = 0.95;
    cfg.novelty.secondary_factor = 1.19;
    cfg.novelty.level_step_exponent = 0.0;
    let with_beat = detect_cues_with(&track, &no_loudness(), &cfg);
    assert_eq!(with_beat.len(), 1, "{with_beat:?}");
    cfg.novelty.beat_weight = 0.0;
    let without_beat = detect_cues_with(&track, &no_loudness(), &cfg);
    assert_eq!(without_beat.len(), 2, "{without_beat:?}");
}

#[test]
fn a_crossfade_between_pieces_at_different_tempi_splits_on_a_weak_novelty() {
    // 90 bpm into 107 bpm, same instruments, a whole tone apart: the timbre test reads only
    // 1.46x the median, under the plain 1.5. The two beat grids cannot be one comb, which alone
    // lowers what it needs enough (as do the fitted peak factor, 0.95, and the key together).
    // The change is found (within 3 s, what `cue_eval.py` counts as a found segue) but placed
    // 2.4 s early: a weak timbre change peaks broadly. The learned placement, which weighs the
    // short curves and the level, moves it a second further off (36.6 s): with the same
    // instruments and level on both sides nothing it reads marks the crossfade.
    let track = rendered_segue(
        (60, false, 90.0, true, true),
        (62, false, 107.0, true, true),
    );
    assert_eq!(detect_cues(&track, &no_loudness()).len(), 2);
    let mut found_only = CueConfig::default();
    found_only.placement.radius_s = 0.0;
    let cues = detect_cues_with(&track, &no_loudness(), &found_only);
    assert_eq!(cues.len(), 2, "{cues:?}");
    let middle = (cues[0].end_s + cues[1].start_s) / 2.0;
    assert!((middle - 40.0).abs() < 3.0, "{cues:?}");
    let plain_with = |beat_weight: f64, key_exponent: f64| {
        let mut cfg = CueConfig::default();
        cfg.novelty.peak_factor = 1.0;
        cfg.novelty.beat_weight = beat_weight;
        cfg.novelty.key_exponent = key_exponent;
        detect_cues_with(&track, &no_loudness(), &cfg)
    };
    let defaults = NoveltyConfig::default();
    assert_eq!(
        plain_with(defaults.beat_weight, 0.0).len(),
        2,
        "the beat alone"
    );
    let neither = plain_with(0.0, 0.0);
    assert_eq!(neither.len(), 1, "{neither:?}");
}

#[test]
fn the_ratio_a_split_needs_rises_with_beat_continuity_between_its_bounds() {
    // One beat grid carried through a peak (continuity 1) asks about 2.4x the run's median novelty,
    // a broken grid no less than the floor, and no beat evidence the plain 1.5x.
    let cfg = NoveltyConfig::default();
    let at = |c: f64| novelty::required_ratio(Some(c), &cfg);
    assert_eq!(novelty::required_ratio(None, &cfg), cfg.peak_ratio);
    assert!((at(cfg.beat_pivot) - cfg.peak_ratio).abs() < 1e-12);
    assert!((2.3..2.5).contains(&at(1.0)), "{}", at(1.0));
    assert_eq!(at(0.5), cfg.beat_min_ratio);
    let readings: Vec<f64> = (50..=105).map(|k| at(k as f64 / 100.0)).collect();
    assert!(readings.windows(2).all(|w| w[1] >= w[0]), "{readings:?}");
    let off = NoveltyConfig {
        beat_weight: 0.0,
        ..cfg.clone()
    };
    assert_eq!(novelty::required_ratio(Some(1.0), &off), cfg.peak_ratio);
}

#[test]
fn an_equal_power_crossfade_turns_over_late_into_a_quieter_piece_and_early_into_a_louder_one() {
    // Equal levels turn over at the middle of the ramps; 15 dB apart, 0.39 of the crossfade
    // from it, late into the quieter piece and as far early into the louder one.
    assert!(novelty::turnover_share(0.0).abs() < 1e-12);
    let quieter = novelty::turnover_share(-15.0);
    assert!((quieter - 0.3885).abs() < 0.001, "{quieter}");
    assert!((novelty::turnover_share(15.0) + quieter).abs() < 1e-12);
    assert!(novelty::turnover_share(-6.0) < quieter && novelty::turnover_share(-6.0) > 0.0);
}

#[test]
fn a_change_point_between_pieces_far_apart_in_level_moves_towards_the_ramps_middle() {
    // Pieces at -20, -35 and -20 dB, split at 30 s and 60 s. The content turns over late into the
    // quieter piece and early out of it, so the first point moves earlier and the second later,
    // by 0.4 of the turnover offset of an assumed 2 s crossfade (0.31 s for 15 dB); a 4 dB step
    // is left where it was found, and a scale of 0 moves nothing.
    let run = Span::new(0.0, 90.0);
    let cfg = NoveltyConfig::default();
    let place = |d: &novelty::Descriptors, cfg: &NoveltyConfig| {
        novelty::place_by_level_step(d, &run, vec![30.0, 60.0], 2.0, cfg)
    };
    let dipped = leveled(90.0, |t| {
        if (30.0..60.0).contains(&t) {
            -35.0
        } else {
            -20.0
        }
    });
    let shift = cfg.turnover_scale * novelty::turnover_share(-15.0) * 2.0;
    let placed = place(&dipped, &cfg);
    assert!((placed[0] - (30.0 - shift)).abs() < 0.02, "{placed:?}");
    assert!((placed[1] - (60.0 + shift)).abs() < 0.02, "{placed:?}");
    assert!(shift > 0.25 && shift < 0.35, "{shift}");
    // The same pieces 25 dB quieter: only the step counts.
    let quiet = leveled(90.0, |t| {
        if (30.0..60.0).contains(&t) {
            -60.0
        } else {
            -45.0
        }
    });
    let quiet_placed = place(&quiet, &cfg);
    assert!(
        quiet_placed
            .iter()
            .zip(&placed)
            .all(|(a, b)| (a - b).abs() < 1e-6),
        "{quiet_placed:?} against {placed:?}"
    );
    let close = leveled(90.0, |t| {
        if (30.0..60.0).contains(&t) {
            -24.0
        } else {
            -20.0
        }
    });
    assert_eq!(place(&close, &cfg), vec![30.0, 60.0]);
    let off = NoveltyConfig {
        turnover_scale: 0.0,
        ..cfg.clone()
    };
    assert_eq!(place(&dipped, &off), vec![30.0, 60.0]);
}

#[test]
fn a_piece_level_reads_its_music_not_its_pauses() {
    // A piece at -20 dB that pauses into -60 dB for a third of its windows: the gate leaves the
    // pauses out, as a cue's integrated loudness does; the plain power mean would read -21.8 dB.
    let run = Span::new(0.0, 60.0);
    let d = leveled(60.0, |t| if (t % 3.0) < 1.0 { -60.0 } else { -20.0 });
    let level = novelty::piece_level_db(&d, &run, 0.0, 60.0).unwrap();
    assert!((level + 20.0).abs() < 0.01, "{level}");
    // Too short a stretch to read: fewer than four whole windows.
    assert_eq!(novelty::piece_level_db(&d, &run, 10.0, 11.5), None);
}

#[test]
fn the_level_step_reads_the_music_not_its_dips_under_dialogue() {
    // Before the point the music sits at -20 dB with 9 dB ducks for a third of the time; after it,
    // at -26 dB undisturbed. The 80th percentile reads -20 and -26: a 6 dB step, not the means'.
    let run = Span::new(0.0, 60.0);
    let d = leveled(60.0, |t| match t {
        t if t < 30.0 && (t % 3.0) < 1.0 => -29.0,
        t if t < 30.0 => -20.0,
        _ => -26.0,
    });
    let step = novelty::level_step_db(&d, &run, 30.0).unwrap();
    assert!((step + 6.0).abs() < 0.01, "{step}");
    assert_eq!(novelty::level_step_db(&d, &run, 3.0), None);
}

/// Descriptors of one dimension that steps from 0 to 1 at `change_s` under noise, on a 0.25 s hop of
/// 1 s windows, every window usable: the short windows see a change there and nowhere else.
fn stepped(duration_s: f64, change_s: f64) -> novelty::Descriptors {
    steps(duration_s, &[change_s])
}

/// [`stepped`] with a step up by 1 at each of `changes_s`.
fn steps(duration_s: f64, changes_s: &[f64]) -> novelty::Descriptors {
    let mut d = leveled(duration_s, |_| -20.0);
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    d.dims = 1;
    d.values = (0..d.len())
        .map(|k| {
            let centre = k as f64 * 0.25 + 0.5;
            changes_s.iter().filter(|&&c| centre >= c).count() as f32 + 0.3 * noise.next()
        })
        .collect();
    d
}

/// A long-window novelty curve on a 0.25 s grid over `run`: 1.0 with triangular humps
/// `(time, height)` 3 s wide either side.
fn humped(run: &Span, humps: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let n = ((run.end_s - run.start_s) / 0.25) as usize;
    (0..=n)
        .map(|k| {
            let t = run.start_s + k as f64 * 0.25;
            let v = humps
                .iter()
                .map(|&(at, h)| 1.0 + (h - 1.0) * (1.0 - (t - at).abs() / 3.0).max(0.0))
                .fold(1.0, f64::max);
            (t, v)
        })
        .collect()
}

#[test]
fn a_rival_hump_where_the_short_windows_see_the_change_takes_the_change_point() {
    // The long curve tops at 55 s, where a window reaches a piece's own change, and has a second,
    // lower hump at the crossfade (60 s). The short windows see the change at 60 s only.
    let run = Span::new(0.0, 120.0);
    let cfg = NoveltyConfig::default();
    let d = stepped(120.0, 60.0);
    let long = humped(&run, &[(55.0, 3.0), (60.0, 2.6)]);
    let placed = novelty::refine_change_points(&d, &run, &long, vec![55.0], &cfg);
    assert!(
        (placed[0] - 60.0).abs() <= 1.0,
        "placed at {placed:?}, not within 1 s of the change at 60 s"
    );
}

#[test]
fn a_weak_or_distant_rival_hump_leaves_the_change_point_where_it_was_found() {
    let run = Span::new(0.0, 120.0);
    let cfg = NoveltyConfig::default();
    let near_55 = |change_s: f64, rival: (f64, f64)| {
        let long = humped(&run, &[(55.0, 3.0), rival]);
        let placed =
            novelty::refine_change_points(&stepped(120.0, change_s), &run, &long, vec![55.0], &cfg);
        (placed[0] - 55.0).abs() <= 1.0
    };
    // Under `rival_share` (0.8) of the change point's novelty: 2.1 against 3.0.
    assert!(near_55(60.0, (60.0, 2.1)));
    // Beyond `rival_radius_s` (6 s).
    assert!(near_55(62.5, (62.5, 2.6)));
    // Within both, the rival takes it (the specification above).
    assert!(!near_55(60.0, (60.0, 2.6)));
    // Without rivals (radius 0) the short windows only refine within 1 s.
    let off = NoveltyConfig {
        rival_radius_s: 0.0,
        ..cfg.clone()
    };
    let long = humped(&run, &[(55.0, 3.0), (60.0, 2.6)]);
    let placed =
        novelty::refine_change_points(&stepped(120.0, 60.0), &run, &long, vec![55.0], &off);
    assert!((placed[0] - 55.0).abs() <= 1.0, "placed at {placed:?}");
}

#[test]
fn change_points_moved_to_rivals_stay_apart() {
    // Two change points 14 s apart, each with a rival hump 6 s towards the other where the short
    // windows see a change. The first moves; the second may not follow it closer than
    // `min_segment_s`, so it stays near where it was found.
    let run = Span::new(0.0, 120.0);
    let cfg = NoveltyConfig::default();
    let d = steps(120.0, &[56.0, 58.0]);
    let long = humped(&run, &[(50.0, 3.0), (56.0, 2.8), (64.0, 3.0), (58.0, 2.8)]);
    let placed = novelty::refine_change_points(&d, &run, &long, vec![50.0, 64.0], &cfg);
    assert!((placed[0] - 56.0).abs() <= 1.0, "placed at {placed:?}");
    assert!(
        placed[1] - placed[0] >= cfg.min_segment_s - 2.0 * cfg.refine_radius_s,
        "placed at {placed:?}: closer than the refinement alone allows"
    );
}

/// Change points of `long` over `run` with no beat reading, one piece nowhere, and the 20 s
/// pitch-class distance `key` everywhere.
fn split_at(long: &[(f64, f64)], run: &Span, key: Option<f64>, cfg: &NoveltyConfig) -> Vec<f64> {
    novelty::change_points(long, run, cfg, |_| false, |_| None, |_| key, |_| None)
        .iter()
        .map(|c| c.at_s)
        .collect()
}

#[test]
fn a_change_whose_key_moves_far_needs_less_novelty_and_one_whose_key_holds_more() {
    // A 1.9x peak with no beat evidence and no level reading: it needs 1.5 x 1.149 = 1.72x with
    // the keys a whole key apart (correlation distance 1), so it splits; a key that nearly holds
    // (0.2) asks 0.2^-0.184 = 1.34 times that, 2.32x, and it does not.
    let run = Span::new(0.0, 120.0);
    let cfg = NoveltyConfig::default();
    let long = humped(&run, &[(60.0, 1.9)]);
    assert_eq!(split_at(&long, &run, Some(1.0), &cfg), vec![60.0]);
    assert!(split_at(&long, &run, Some(0.2), &cfg).is_empty());
    let needed = |key| novelty::candidate_required_ratio(None, true, key, None, &cfg);
    assert!(needed(Some(1.0)) < 1.9 && needed(Some(0.2)) > 1.9);
    assert!(
        needed(Some(0.0)) == needed(Some(0.02)),
        "the distance is floored"
    );
    assert_eq!(
        needed(None),
        1.5 * cfg.peak_factor,
        "no profile, no key factor"
    );
    let keyless = NoveltyConfig {
        key_exponent: 0.0,
        ..cfg.clone()
    };
    assert_eq!(split_at(&long, &run, Some(0.2), &keyless), vec![60.0]);
}

#[test]
fn a_segue_outranked_by_a_stronger_change_nearby_splits_when_it_clears_the_secondary_bar() {
    // An in-piece change at 40 s (3x) tops the curve within 12 s of a segue at 50 s (2.4x): the
    // segue is a secondary maximum and needs 1.447 x 1.5 = 2.17x, which it clears. At 2x it
    // does not; nor does it with secondaries off.
    let run = Span::new(0.0, 120.0);
    let cfg = NoveltyConfig::default();
    let found = |h: f64, cfg: &NoveltyConfig| {
        split_at(&humped(&run, &[(40.0, 3.0), (50.0, h)]), &run, None, cfg)
    };
    assert_eq!(found(2.4, &cfg), vec![40.0, 50.0]);
    assert_eq!(found(2.0, &cfg), vec![40.0]);
    let peaks_only = NoveltyConfig {
        secondary_factor: 0.0,
        ..cfg.clone()
    };
    assert_eq!(found(2.4, &peaks_only), vec![40.0]);
    // A secondary maximum still keeps `min_segment_s` from a stronger split.
    assert_eq!(
        split_at(&humped(&run, &[(40.0, 3.0), (46.0, 2.5)]), &run, None, &cfg),
        vec![40.0]
    );
}

#[test]
fn candidates_are_the_local_maxima_inside_the_run_and_peaks_are_those_that_top_twelve_seconds() {
    // Humps at 20 s (3x), 28 s (2x, outranked by 20 s within 12 s), 60 s (2.5x, alone) and 115 s
    // (4x, but within `min_segment_s` of the run's end).
    let run = Span::new(0.0, 120.0);
    let cfg = NoveltyConfig::default();
    let long = humped(&run, &[(20.0, 3.0), (28.0, 2.0), (60.0, 2.5), (115.0, 4.0)]);
    let (median, found) = novelty::maxima(&long, &run, &cfg);
    assert_eq!(median, 1.0);
    let picked: Vec<(f64, bool)> = found
        .iter()
        .filter(|&&(_, v, _)| v > median)
        .map(|&(t, _, is_peak)| (t, is_peak))
        .collect();
    assert_eq!(picked, vec![(20.0, true), (28.0, false), (60.0, true)]);
    // (A flat stretch ties with itself, so on this drawn curve its points read as maxima too; real
    // curves do not hold a value exactly.)
    let (_, peaks) = novelty::peaks(&long, &run, &cfg);
    let humps: Vec<(f64, f64)> = peaks.into_iter().filter(|&(_, v)| v > median).collect();
    assert_eq!(humps, vec![(20.0, 3.0), (60.0, 2.5)]);
}

/// Levels of an equal-power crossfade of `len_s` centred on 31 s, from a piece at -20 dB into
/// one `step_db` quieter, as windows starting at `t` read them (1 s long, so centred at t + 0.5).
fn crossfade_levels(len_s: f64, step_db: f32) -> novelty::Descriptors {
    leveled(70.0, |t| {
        let centre = t + 0.5;
        let phase =
            ((centre - (31.0 - len_s / 2.0)) / len_s).clamp(0.0, 1.0) * std::f64::consts::FRAC_PI_2;
        let (a, b) = (0.01, 0.01 * 10f64.powf(-f64::from(step_db) / 10.0));
        (10.0 * (phase.cos().powi(2) * a + phase.sin().powi(2) * b).log10()) as f32
    })
}

/// A change point found at 32 s in a run from 5 to 62 s, as the learned placement places it
/// (2 s assumed crossfade).
fn placed_at_32_s(d: &novelty::Descriptors) -> Vec<f64> {
    placement::place_segues(
        d,
        &Span::new(5.0, 62.0),
        vec![32.0],
        2.0,
        &NoveltyConfig::default(),
        &PlacementModel::default(),
    )
}

#[test]
fn the_learned_placement_moves_a_late_point_to_where_the_level_crosses_the_pieces_mean_power() {
    // No content curves here (level-only descriptors), so only the level and the offset speak:
    // a point found a second late into a piece 12 dB quieter moves back to the middle.
    for len_s in [1.0, 2.0, 3.0] {
        let placed = placed_at_32_s(&crossfade_levels(len_s, 12.0));
        assert!(
            (placed[0] - 31.0).abs() <= 0.25,
            "crossfade {len_s} s: placed at {:.3} s, not within 0.25 s of 31 s",
            placed[0]
        );
    }
}

#[test]
fn without_a_level_step_the_learned_placement_keeps_the_point_where_nothing_else_speaks() {
    // Equal levels and no content curves: every input but the offset is flat, and the offset's
    // weights prefer the point as found.
    assert_eq!(placed_at_32_s(&crossfade_levels(2.0, 0.0)), vec![32.0]);
}

#[test]
fn candidates_lie_one_hop_apart_within_the_radius_around_the_change_point() {
    let run = Span::new(5.0, 62.0);
    let d = crossfade_levels(2.0, 6.0);
    let curves = placement::PlacementCurves::of_run(&d, &run, &NoveltyConfig::default());
    let c = placement::candidates(&d, &curves, 31.1, Some(-20.0), Some(-26.0), 2.0);
    assert_eq!(c.times.len(), 17);
    assert_eq!(c.features.len(), 17);
    assert!((c.times[0] - 29.1).abs() < 1e-9 && (c.times[16] - 33.1).abs() < 1e-9);
    assert!((c.times[8] - 31.1).abs() < 1e-9);
    // Without descriptors the content inputs read nothing.
    assert!(c.features.iter().all(|f| f[..4].iter().all(|&x| x == 0.0)));
}

/// Three-dimensional descriptors of piece A (`[-1, 0, 0]`) crossfading linearly over 30-32 s
/// into piece B (`[1, 0, 0]`), with an event of B's own (`[1, 3, 0]`, a fill) in the windows
/// centred within 34-35 s; every window usable, levels flat.
fn crossfade_then_event() -> novelty::Descriptors {
    let mut d = leveled(70.0, |_| -20.0);
    d.dims = 3;
    d.values = (0..d.len())
        .flat_map(|k| {
            let centre = k as f64 * 0.25 + 0.5;
            let b = ((centre - 30.0) / 2.0).clamp(0.0, 1.0) as f32;
            let fill = if (34.0..=35.0).contains(&centre) {
                3.0
            } else {
                0.0
            };
            [2.0 * b - 1.0, fill, 0.0]
        })
        .collect();
    d
}

#[test]
fn a_window_mixing_the_two_pieces_lies_on_the_line_between_them_and_a_pieces_own_event_off_it() {
    let d = crossfade_then_event();
    let run = Span::new(5.0, 62.0);
    let curves = placement::PlacementCurves::of_run(&d, &run, &NoveltyConfig::default());
    let c = placement::candidates(&d, &curves, 33.0, Some(-20.0), Some(-20.0), 2.0);
    let input = placement::PLACEMENT_FEATURES
        .iter()
        .position(|&name| name == "off_line_between_pieces")
        .unwrap();
    let off_line = |t: f64| {
        let i = c.times.iter().position(|&u| (u - t).abs() < 1e-9).unwrap();
        c.features[i][input]
    };
    // The crossfade's middle (31 s) and B's plain windows read on the line; the fill reads off it.
    assert!(off_line(31.0) < 1e-9, "middle: {}", off_line(31.0));
    assert!(off_line(32.0) < 1e-9, "B: {}", off_line(32.0));
    assert!(off_line(34.5) > 1.0, "fill: {}", off_line(34.5));
}

#[test]
fn two_pieces_at_different_levels_need_less_novelty_to_split() {
    // A 1.6x peak with no beat or key evidence needs 1.5 x 1.149 = 1.72x without a level step:
    // it does not split. A 10 dB step divides that by 11^0.0854 = 1.23 (1.40x): it splits. A
    // step beyond the cap counts as the cap.
    let run = Span::new(0.0, 120.0);
    let cfg = NoveltyConfig::default();
    let long = humped(&run, &[(60.0, 1.6)]);
    let split_with = |step: Option<f64>| {
        novelty::change_points(&long, &run, &cfg, |_| false, |_| None, |_| None, |_| step)
            .iter()
            .map(|c| c.at_s)
            .collect::<Vec<f64>>()
    };
    assert!(split_with(None).is_empty());
    assert!(split_with(Some(0.0)).is_empty());
    assert_eq!(split_with(Some(-10.0)), vec![60.0], "a quieter piece");
    assert_eq!(split_with(Some(10.0)), vec![60.0], "a louder piece");
    let needed = |step| novelty::candidate_required_ratio(None, true, None, step, &cfg);
    assert_eq!(needed(Some(0.0)), needed(None));
    assert_eq!(needed(Some(60.0)), needed(Some(novelty::MAX_LEVEL_STEP_DB)));
    assert!(needed(Some(10.0)) < 1.45 && needed(None) > 1.7);
}
