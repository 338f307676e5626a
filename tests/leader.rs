//! The reel's leader through the whole pipeline: a line-up tone and a 2-pop on every stem before
//! programme are reported, timecoded, and reported as nothing else (no cue, speech, effects event,
//! vocals or source music), and the stems' loudness is that of their programme alone.

use std::path::{Path, PathBuf};

use stemscope::discover::{StemFiles, StemKind, StemSet};
use stemscope::pipeline::{AnalyzeOptions, analyze};
use stemscope::report::Report;
use stemscope::synth::voice::Speaker;
use stemscope::synth::wav::{BwfSpec, BwfWriter};

const SR: u32 = 16_000;
const LEN_S: f64 = 19.0;
/// Programme starts 2 s after the pop (FFOA), and the reel starts 10 s before the pop's label.
const POP_S: f64 = 8.0;
const FFOA_S: f64 = 10.0;

fn sine(t: f64, hz: f64, dbfs: f64) -> f32 {
    (10f64.powf(dbfs / 20.0) * (std::f64::consts::TAU * hz * t).sin()) as f32
}

/// Line-up tone 1-3 s and a one-frame (24 fps) pop at [`POP_S`], both 1 kHz at -20 dBFS.
fn leader(t: f64) -> f32 {
    let tone = (1.0..3.0).contains(&t);
    let pop = (POP_S..POP_S + 1.0 / 24.0).contains(&t);
    if tone || pop {
        sine(t - t.floor(), 1000.0, -20.0)
    } else {
        0.0
    }
}

/// The programme of each stem from [`FFOA_S`]: a spoken line, a three-note chord with tremolo,
/// noise hits.
fn programme(kind: StemKind, speaker: &mut Speaker, t: f64, noise: &mut u32) -> f32 {
    if t < FFOA_S {
        return 0.0;
    }
    match kind {
        StemKind::Dialogue => speaker.next(t),
        StemKind::Music => {
            let trem = 0.8 + 0.2 * (std::f64::consts::TAU * 5.0 * t).sin();
            let chord: f64 = [220.0, 277.2, 329.6]
                .iter()
                .flat_map(|f| (1..=6).map(move |k| (f * k as f64, 1.0 / k as f64)))
                .map(|(f, a)| a * (std::f64::consts::TAU * f * t).sin())
                .sum();
            (0.03 * trem * chord) as f32
        }
        _ => {
            *noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let white = ((*noise >> 8) as f64 / (1u32 << 24) as f64 - 0.5) as f32;
            // A hit every 1.5 s decaying over 0.4 s, over a faint bed.
            let since = (t - FFOA_S) % 1.5;
            white * (0.01 + 0.5 * (-since / 0.1).exp() as f32)
        }
    }
}

fn write_title(dir: &Path, with_leader: bool) -> StemSet {
    let mut stems = Vec::new();
    for (kind, tag) in [
        (StemKind::Dialogue, "DX"),
        (StemKind::Music, "MX"),
        (StemKind::Effects, "FX"),
    ] {
        let path: PathBuf = dir.join(format!("T_{tag}.wav"));
        let frames = (LEN_S * SR as f64) as u64;
        let spec = BwfSpec {
            sample_rate: SR,
            channels: 1,
            bits: 24,
            channel_mask: None,
            // 00:59:50:00: the pop is at 00:59:58:00, FFOA at 01:00:00:00.
            time_reference: u64::from(SR) * (3600 - 10),
            description: String::new(),
        };
        let mut w = BwfWriter::create(&path, spec, frames).unwrap();
        let mut speaker = Speaker::new(SR as f32, 3);
        speaker.start_line(FFOA_S + 0.3, LEN_S - 1.0, 0, -24.0, 5);
        let mut noise = 17u32;
        let samples: Vec<f32> = (0..frames)
            .map(|i| {
                let t = i as f64 / SR as f64;
                let l = if with_leader { leader(t) } else { 0.0 };
                l + programme(kind, &mut speaker, t, &mut noise)
            })
            .collect();
        w.write(&samples).unwrap();
        w.finish().unwrap();
        stems.push(StemFiles {
            kind,
            paths: vec![path],
        });
    }
    StemSet {
        title: "T".into(),
        reel: None,
        stems,
        joined_reels: Vec::new(),
    }
}

fn run(with_leader: bool) -> Report {
    let tmp = tempfile::tempdir().unwrap();
    analyze(
        &write_title(tmp.path(), with_leader),
        &AnalyzeOptions::default(),
    )
    .unwrap()
}

#[test]
fn leader_is_reported_and_is_not_programme() {
    let with = run(true);
    for stem in ["dialogue", "music", "effects"] {
        let marks = &with.leader[stem];
        let kinds: Vec<String> = marks
            .iter()
            .map(|m| {
                serde_json::to_value(m.kind)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(kinds, ["lineup_tone", "head_pop"], "{stem}: {marks:?}");
        let pop = &marks[1];
        assert!((pop.start_s - POP_S).abs() < 0.001, "{pop:?}");
        assert_eq!(pop.timecode.as_deref(), Some("00:59:58:00"));
        assert_eq!(pop.frequency_hz, 1000.0);
        assert!((pop.level_dbfs.unwrap() + 20.0).abs() < 0.2, "{pop:?}");
    }
    assert!(with.warnings.is_empty(), "{:?}", with.warnings);
    // What `stemscope analyze` prints: one line on the leader.
    let printed = stemscope::report::summary(&with);
    let line = printed.lines().nth(1).unwrap_or_default();
    assert!(
        line.starts_with("  leader: line-up tone 1000 Hz -20.0 dBFS 2.0 s at ")
            && line.ends_with("; head pop at 00:59:58:00 on dialogue, effects, music"),
        "{printed}"
    );

    // Nothing that describes programme starts before it (the detectors' 1 s windows may reach
    // half a second ahead of a sound).
    let early = |start_s: f64| start_s < FFOA_S - 0.5;
    let spans = with
        .dialogue
        .iter()
        .chain(&with.vocals)
        .chain(&with.effects_activity)
        .map(|s| s.start_s)
        .chain(with.cues.iter().map(|c| c.start_s))
        .chain(with.effects_events.iter().map(|e| e.start_s))
        .chain(with.source_music.iter().map(|m| m.start_s));
    let before: Vec<f64> = spans.filter(|&s| early(s)).collect();
    assert!(
        before.is_empty(),
        "detections in the leader at {before:?}: dialogue {:?} vocals {:?} fx {:?} {:?} cues {:?} src {:?}",
        with.dialogue,
        with.vocals,
        with.effects_activity,
        with.effects_events
            .iter()
            .map(|e| (e.start_s, e.end_s))
            .collect::<Vec<_>>(),
        with.cues
            .iter()
            .map(|c| (c.start_s, c.end_s))
            .collect::<Vec<_>>(),
        with.source_music
    );
    // ... while programme is still found.
    assert!(!with.dialogue.is_empty() && !with.cues.is_empty());
    // Scenes cover programme only: the first starts at FFOA (the frames' 64 ms window may see
    // programme a little early), so no scene's figures hold a mark.
    let first = &with.scenes[0];
    assert!(
        (FFOA_S - 0.1..=FFOA_S).contains(&first.start_s),
        "first scene starts at {}",
        first.start_s
    );

    // The stems' loudness is their programme's.
    let without = run(false);
    assert!(without.leader.is_empty());
    assert_eq!(stemscope::report::summary(&without).lines().count(), 1);
    for (stem, a) in &with.stems {
        let b = &without.stems[stem];
        let (x, y) = (a.loudness.integrated_lufs, b.loudness.integrated_lufs);
        assert!(
            (x.unwrap() - y.unwrap()).abs() < 0.1,
            "{stem}: {x:?} with the leader left out, {y:?} without one"
        );
        assert_eq!(a.loudness.sample_peak_dbfs, b.loudness.sample_peak_dbfs);
    }
}
