//! The music stem's front image through the streaming pass: measured on a stereo music stem from its
//! original channels (a centred voice-band tone reads as centre, a hard-panned one does not), and
//! absent where there is no front pair or the stem is not music.

use std::path::Path;

use stemscope::discover::{StemFiles, StemKind, StemSet};
use stemscope::pipeline::{AnalyzeOptions, analyze_stems};
use stemscope::synth::wav::{BwfSpec, BwfWriter};

const SR: u32 = 48_000;
const LEN_S: f64 = 8.0;

fn tone(t: f64) -> f32 {
    (0.1 * (std::f64::consts::TAU * 700.0 * t).sin()) as f32
}

/// A stem of `channels` channels where `frame(t)` gives one frame's samples.
fn write(path: &Path, channels: u16, frame: impl Fn(f64) -> Vec<f32>) {
    let frames = (LEN_S * f64::from(SR)) as u64;
    let spec = BwfSpec {
        sample_rate: SR,
        channels,
        bits: 24,
        channel_mask: None,
        time_reference: 0,
        description: String::new(),
    };
    let mut w = BwfWriter::create(path, spec, frames).unwrap();
    let samples: Vec<f32> = (0..frames)
        .flat_map(|i| frame(i as f64 / f64::from(SR)))
        .collect();
    w.write(&samples).unwrap();
    w.finish().unwrap();
}

/// DX (stereo, centred) and MX whose first half holds the tone centred and second half hard left.
fn title(dir: &Path, mx_channels: u16) -> StemSet {
    let (dx, mx) = (dir.join("T_DX.wav"), dir.join("T_MX.wav"));
    write(&dx, 2, |t| vec![tone(t), tone(t)]);
    write(&mx, mx_channels, |t| {
        let x = tone(t);
        match (mx_channels, t < LEN_S / 2.0) {
            (1, _) => vec![x],
            (_, true) => vec![x, x],
            (_, false) => vec![x, 0.0],
        }
    });
    StemSet {
        title: "T".into(),
        reel: None,
        stems: vec![
            StemFiles {
                kind: StemKind::Dialogue,
                paths: vec![dx],
            },
            StemFiles {
                kind: StemKind::Music,
                paths: vec![mx],
            },
        ],
        joined_reels: Vec::new(),
    }
}

#[test]
fn a_stereo_music_stem_has_a_front_image_read_from_its_own_channels() {
    let tmp = tempfile::tempdir().unwrap();
    let analysis = analyze_stems(&title(tmp.path(), 2), &AnalyzeOptions::default()).unwrap();
    let image = analysis.get(StemKind::Music).unwrap().front_image.as_ref();
    let image = image.expect("a stereo music stem is imaged");
    assert_eq!(image.mid.len(), (LEN_S / 0.25) as usize);
    let (m, s) = image.energy(1.0, 2.0).unwrap();
    assert!(m > 1e4 * s, "centred: mid {m} side {s}");
    let (m, s) = image.energy(5.0, 2.0).unwrap();
    assert!((m / s - 1.0).abs() < 0.01, "hard left: mid {m} side {s}");
    assert!(
        analysis
            .get(StemKind::Dialogue)
            .unwrap()
            .front_image
            .is_none(),
        "only the music stem is imaged"
    );
}

#[test]
fn a_mono_music_stem_has_no_front_image() {
    let tmp = tempfile::tempdir().unwrap();
    let analysis = analyze_stems(&title(tmp.path(), 1), &AnalyzeOptions::default()).unwrap();
    assert!(analysis.get(StemKind::Music).unwrap().front_image.is_none());
}
