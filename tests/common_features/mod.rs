//! Signals shared by the feature tests: formulas mirrored in tools/reference/librosa_features.py.
#![allow(dead_code)]

use std::path::PathBuf;

use stemscope::features::{FeatureConfig, FeatureExtractor, FeatureTrack, FrameView};

/// 32-bit LCG white noise in [-0.5, 0.5), as `lcg_noise` in the reference script.
pub fn lcg_noise(n: usize, seed: u32) -> Vec<f32> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((x >> 8) as f64 / (1u64 << 24) as f64 - 0.5) as f32
        })
        .collect()
}

/// The generated reference signals, as `generated()` in the reference script.
pub fn generated(name: &str, sr: usize) -> Vec<f32> {
    let tau = 2.0 * std::f64::consts::PI;
    let t = |i: usize| i as f64 / sr as f64;
    match name {
        "sweep" => {
            let (f0, f1) = (50.0f64, 7500.0f64);
            let k = (f1 / f0).ln() / 2.0;
            (0..2 * sr)
                .map(|i| (0.5 * (tau * f0 / k * ((k * t(i)).exp() - 1.0)).sin()) as f32)
                .collect()
        }
        "noise" => lcg_noise(sr, 12345),
        "silence" => vec![0.0; sr / 2],
        "clipped" => (0..sr)
            .map(|i| {
                let x = 2.5 * (tau * 220.0 * t(i) + 0.3 * (tau * 3.0 * t(i)).sin()).sin();
                x.clamp(-1.0, 1.0) as f32
            })
            .collect(),
        "dc" => vec![0.5; sr / 2],
        "tones" => (0..sr)
            .map(|i| (0.3 * (tau * 440.0 * t(i)).sin() + 0.2 * (tau * 1234.0 * t(i)).sin()) as f32)
            .collect(),
        _ => panic!("unknown generated signal {name}"),
    }
}

/// The development corpus (`../shared/corpus` from the crate root; `../../shared/corpus` from a
/// worktree), or None with a printed message.
pub fn corpus() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = [
        root.join("../shared/corpus"),
        root.join("../../shared/corpus"),
    ]
    .into_iter()
    .find(|p| p.is_dir());
    if found.is_none() {
        eprintln!("SKIP: ../shared/corpus not found; corpus comparisons not run");
    }
    found
}

/// First channel of an audio file, all of it (symphonia).
pub fn decode_first_channel(path: &std::path::Path) -> (Vec<f32>, u32) {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let file = std::fs::File::open(path).expect("open corpus file");
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .expect("probe");
    let track = format.default_track(TrackType::Audio).expect("audio track");
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .expect("audio params")
        .clone();
    let track_id = track.id;
    let rate = params.sample_rate.expect("sample rate");
    let channels = params.channels.as_ref().map_or(1, |c| c.count());
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .expect("decoder");
    let mut out = Vec::new();
    let mut block: Vec<f32> = Vec::new();
    while let Ok(Some(packet)) = format.next_packet() {
        if packet.track_id != track_id {
            continue;
        }
        if let Ok(buf) = decoder.decode(&packet) {
            block.resize(buf.samples_interleaved(), 0.0);
            buf.copy_to_slice_interleaved(&mut block);
            out.extend(block.iter().step_by(channels));
        }
    }
    (out, rate)
}

/// Owned copy of one frame's features.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub mel_db: Vec<f32>,
    pub mfcc: Vec<f32>,
    pub contrast: Vec<f32>,
    pub scalars: [f32; 10],
}

/// Runs the extractor over `signal` in blocks of `block`, collecting every frame's features.
pub fn analyze(config: FeatureConfig, signal: &[f32], block: usize) -> (FeatureTrack, Vec<Frame>) {
    let mut ex = FeatureExtractor::new(config);
    let mut track = FeatureTrack::default();
    let mut frames = Vec::new();
    let mut keep = |v: &FrameView<'_>| {
        frames.push(Frame {
            mel_db: v.mel_db.to_vec(),
            mfcc: v.mfcc.to_vec(),
            contrast: v.contrast.to_vec(),
            scalars: [
                v.rms,
                v.zcr,
                v.centroid_hz,
                v.bandwidth_hz,
                v.rolloff_hz,
                v.flatness,
                v.flux,
                v.periodicity,
                v.pitch_hz,
                v.peakiness,
            ],
        })
    };
    for b in signal.chunks(block.max(1)) {
        ex.push_observed(b, &mut track, &mut keep);
    }
    ex.finish_observed(&mut track, &mut keep);
    (track, frames)
}
