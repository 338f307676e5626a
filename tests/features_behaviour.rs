//! The feature engine's contract: streaming and threading do not change results, degenerate input
//! gives finite numbers, texture features do not depend on level, and the voice features respond
//! to what they are meant to measure.

mod common_features;

use common_features::{analyze, generated, lcg_noise};
use stemscope::features::{
    FeatureConfig, FeatureExtractor, FeatureSet, FeatureTrack, FrameSummary, TEXTURE_FEATURES,
};

const SR: usize = 16_000;

fn feature(name: &str) -> usize {
    TEXTURE_FEATURES
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("no texture feature {name}"))
}

fn run(signal: &[f32], block: usize) -> FeatureTrack {
    analyze(FeatureConfig::default(), signal, block).0
}

/// A varied test signal: tones, a gap of silence, noise, a harmonic tone with vibrato.
fn mixture(seconds: f64) -> Vec<f32> {
    let n = (seconds * SR as f64) as usize;
    let noise = lcg_noise(n, 7);
    (0..n)
        .map(|i| {
            let t = i as f64 / SR as f64;
            let tau = 2.0 * std::f64::consts::PI;
            let seg = (t * 2.0) as usize % 4;
            let x = match seg {
                0 => 0.3 * (tau * 330.0 * t).sin() + 0.1 * (tau * 2000.0 * t).sin(),
                1 => 0.0,
                2 => noise[i] as f64 * 0.4,
                _ => sung_sample(t, 220.0, 0.5, 6.0) * 0.3,
            };
            x as f32
        })
        .collect()
}

/// A harmonic "voice" at `f0` with sinusoidal vibrato of `depth_st` semitones at `rate_hz`.
fn sung_sample(t: f64, f0: f64, depth_st: f64, rate_hz: f64) -> f64 {
    let tau = 2.0 * std::f64::consts::PI;
    // Phase of f0 * 2^(d sin(2 pi r t) / 12), integrated numerically-free via a small-depth form.
    let dev = depth_st / 12.0 * std::f64::consts::LN_2;
    let phase = tau * f0 * (t - dev / (tau * rate_hz) * (tau * rate_hz * t).cos());
    (1..=6).map(|h| (h as f64 * phase).sin() / h as f64).sum()
}

fn sung(seconds: f64, depth_st: f64) -> Vec<f32> {
    (0..(seconds * SR as f64) as usize)
        .map(|i| (0.2 * sung_sample(i as f64 / SR as f64, 220.0, depth_st, 6.0)) as f32)
        .collect()
}

fn all_finite(track: &FeatureTrack) -> bool {
    let f = |s: &FrameSummary| {
        [
            s.rms_db,
            s.speech_band_db,
            s.periodicity,
            s.pitch_hz,
            s.flatness,
            s.centroid_hz,
            s.flux,
            s.peakiness,
        ]
        .iter()
        .all(|v| v.is_finite())
    };
    track.frames.iter().all(f)
        && track
            .windows
            .iter()
            .all(|w| w.values.iter().all(|v| v.is_finite()))
}

#[test]
fn output_is_identical_whatever_the_block_size() {
    // Longer than one batch of frames (409 at the default hop), so batch boundaries fall inside
    // blocks.
    let signal = mixture(12.0);
    let reference = run(&signal, signal.len());
    assert_eq!(reference.frames.len(), 1 + signal.len() / 160);
    for block in [1, 7, 160, 1023, 4096, 16_000] {
        let track = run(&signal, block);
        assert_eq!(
            track.frames, reference.frames,
            "frames differ at block {block}"
        );
        assert_eq!(
            track.windows, reference.windows,
            "windows differ at block {block}"
        );
    }
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let signal = mixture(4.0);
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| run(&signal, 8000))
    };
    let one = in_pool(1);
    for threads in [2, 4] {
        let many = in_pool(threads);
        assert_eq!(many.frames, one.frames, "{threads} threads");
        assert_eq!(many.windows, one.windows, "{threads} threads");
    }
}

#[test]
fn librosa_set_computes_its_features_exactly_as_the_full_set_and_nothing_else() {
    let signal = mixture(12.0);
    let full_config = FeatureConfig::default();
    let librosa_config = FeatureConfig {
        set: FeatureSet::Librosa,
        ..full_config.clone()
    };
    let (full_track, full) = analyze(full_config, &signal, 8000);
    let (librosa_track, librosa) = analyze(librosa_config, &signal, 8000);
    assert_eq!(librosa.len(), full.len());
    assert!(!full_track.windows.is_empty());
    assert!(librosa_track.windows.is_empty(), "no texture windows");
    for (t, (a, b)) in full.iter().zip(&librosa).enumerate() {
        assert_eq!(a.mel_db, b.mel_db, "frame {t}: log-mel");
        assert_eq!(a.mfcc, b.mfcc, "frame {t}: MFCC");
        // zcr, centroid, roll-off, flatness, flux are computed; rms, bandwidth, periodicity,
        // pitch, peakiness and contrast are not.
        for i in [1, 2, 4, 5, 6] {
            assert_eq!(a.scalars[i], b.scalars[i], "frame {t}: scalar {i}");
        }
        for i in [0, 3, 7, 8, 9] {
            assert_eq!(b.scalars[i], 0.0, "frame {t}: scalar {i}");
        }
        assert!(b.contrast.iter().all(|&c| c == 0.0), "frame {t}: contrast");
    }
}

#[test]
fn frames_and_windows_follow_the_documented_grid() {
    let signal = mixture(2.6);
    let track = run(&signal, 5000);
    assert_eq!(track.frame_hop_s, 0.01);
    assert_eq!((track.texture_len_s, track.texture_hop_s), (1.0, 0.25));
    // 1 + 41600 / 160 = 261 frames; full windows start at 0, 0.25, ..., 1.5 s (covering up to
    // frame 249), then one partial window covers the rest.
    assert_eq!(track.frames.len(), 261);
    let starts: Vec<f64> = track.windows.iter().map(|w| w.start_s).collect();
    assert_eq!(starts.len(), 8, "{starts:?}");
    for (i, s) in starts.iter().enumerate() {
        assert!((s - 0.25 * i as f64).abs() < 1e-9, "{starts:?}");
    }
    assert!(
        track
            .windows
            .iter()
            .all(|w| w.values.len() == TEXTURE_FEATURES.len())
    );
}

#[test]
fn texture_feature_names_are_unique() {
    let mut names = TEXTURE_FEATURES.to_vec();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), TEXTURE_FEATURES.len());
}

#[test]
fn frame_summary_stays_within_32_bytes() {
    assert!(std::mem::size_of::<FrameSummary>() <= 32);
}

#[test]
fn silence_dc_square_and_clipping_give_finite_values() {
    let square: Vec<f32> = (0..SR)
        .map(|i| if (i / 40) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    for (name, signal) in [
        ("silence", vec![0.0; SR * 2]),
        ("dc", generated("dc", SR)),
        ("full-scale square", square),
        ("clipped", generated("clipped", SR)),
        ("sweep", generated("sweep", SR)),
    ] {
        let track = run(&signal, 3000);
        assert!(all_finite(&track), "{name}: non-finite value");
        assert!(!track.windows.is_empty(), "{name}: no windows");
    }
    let silent = run(&vec![0.0; SR * 2], 3000);
    assert!(
        silent
            .frames
            .iter()
            .all(|f| f.rms_db == -120.0 && f.pitch_hz == 0.0)
    );
    let sf = feature("silent_fraction");
    assert!(silent.windows.iter().all(|w| w.values[sf] == 1.0));
}

#[test]
fn non_finite_input_samples_are_read_as_silence() {
    let mut signal = mixture(1.5);
    signal[1000] = f32::NAN;
    signal[9000] = f32::INFINITY;
    assert!(all_finite(&run(&signal, 777)));
}

#[test]
fn input_shorter_than_one_window_still_gives_a_frame_and_a_window() {
    let signal = generated("tones", SR);
    let track = run(&signal[..100], 100);
    assert_eq!(track.frames.len(), 1);
    assert_eq!(track.windows.len(), 1);
    assert!(all_finite(&track));
    let empty = run(&[], 100);
    assert!(empty.frames.is_empty() && empty.windows.is_empty());
    assert_eq!(empty.frame_hop_s, 0.01);
}

#[test]
fn texture_features_do_not_depend_on_level() {
    let loud = mixture(4.0);
    // -30 dB: a cue at -38 LUFS against one at -8.
    let quiet: Vec<f32> = loud.iter().map(|x| x * 10f32.powf(-30.0 / 20.0)).collect();
    let (a, b) = (run(&loud, 4000), run(&quiet, 4000));
    assert_eq!(a.windows.len(), b.windows.len());
    let mut worst = vec![0.0f32; TEXTURE_FEATURES.len()];
    for (wa, wb) in a.windows.iter().zip(&b.windows) {
        for (k, (x, y)) in wa.values.iter().zip(&wb.values).enumerate() {
            worst[k] = worst[k].max((x - y).abs() / (1e-3 + x.abs().max(y.abs())));
        }
    }
    let bad: Vec<String> = worst
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0.02)
        .map(|(k, w)| format!("{} differs by {:.1} %", TEXTURE_FEATURES[k], w * 100.0))
        .collect();
    assert!(
        bad.is_empty(),
        "level-dependent features:\n{}",
        bad.join("\n")
    );
}

/// A harmonic tone on C5 (523.25 Hz: partials on C6, G6 and C7), `gain` full scale.
fn c_tone(seconds: f64, gain: f32) -> Vec<f32> {
    (0..(seconds * SR as f64) as usize)
        .map(|i| {
            let t = i as f64 / SR as f64;
            let x: f64 = (1..=4)
                .map(|h| (2.0 * std::f64::consts::PI * 523.25 * h as f64 * t).sin() / h as f64)
                .sum();
            gain * x as f32
        })
        .collect()
}

#[test]
fn content_change_detectors_compare_the_shape_columns_and_not_the_pitch_class_profile() {
    use stemscope::features::texture::{chroma_columns, shape_columns};
    let shape = shape_columns();
    assert_eq!(shape.start, 0);
    assert!(shape.contains(&feature("mfcc_std_0")) && shape.contains(&feature("mod4hz_index")));
    assert_eq!(
        chroma_columns(),
        feature("chroma_0")..feature("chroma_11") + 1
    );
    assert!(
        !shape.contains(&feature("chroma_0")),
        "the profile is compared as a whole"
    );
}

#[test]
fn chroma_of_a_c_tone_peaks_at_c_whatever_the_level() {
    let cols: Vec<usize> = (0..12).map(|k| feature(&format!("chroma_{k}"))).collect();
    let loud = run(&c_tone(2.0, 0.3), 4000);
    // 20 dB down.
    let quiet = run(&c_tone(2.0, 0.03), 4000);
    for (wl, wq) in loud.windows.iter().zip(&quiet.windows) {
        let profile: Vec<f32> = cols.iter().map(|&c| wl.values[c]).collect();
        let sum: f32 = profile.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "sums to {sum}: {profile:?}");
        let top = (0..12).max_by(|&a, &b| profile[a].total_cmp(&profile[b]));
        assert_eq!(top, Some(0), "C should lead: {profile:?}");
        assert!(profile[0] > 0.5, "{profile:?}");
        for &c in &cols {
            assert!(
                (wl.values[c] - wq.values[c]).abs() < 1e-4,
                "level-dependent"
            );
        }
    }
}

#[test]
fn vibrato_is_measured_on_a_sung_tone_and_absent_on_a_steady_one() {
    let ext = feature("vibrato_extent_st");
    let ratio = feature("vibrato_ratio");
    let vib = run(&sung(3.0, 0.5), 4000);
    let steady = run(&sung(3.0, 0.0), 4000);
    let full = |t: &FeatureTrack| t.windows.len() - 1;
    for w in &vib.windows[..full(&vib)] {
        assert!(
            (0.3..0.7).contains(&w.values[ext]) && w.values[ratio] > 0.6,
            "vibrato 0.5 st: extent {} ratio {}",
            w.values[ext],
            w.values[ratio]
        );
    }
    for w in &steady.windows[..full(&steady)] {
        assert!(w.values[ext] < 0.05, "steady: extent {}", w.values[ext]);
    }
    let pitch = feature("pitch_mean_st");
    // 220 Hz is two octaves (24 semitones) above 55 Hz.
    assert!((steady.windows[0].values[pitch] - 24.0).abs() < 0.1);
}

#[test]
fn syllable_rate_modulation_separates_4hz_bursts_from_steady_noise() {
    let noise = lcg_noise(SR * 3, 99);
    let bursts: Vec<f32> = noise
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let t = i as f64 / SR as f64;
            x * (0.5 - 0.5 * (2.0 * std::f64::consts::PI * 4.0 * t).cos()) as f32
        })
        .collect();
    let m = feature("mod4hz_index");
    let mean = |t: &FeatureTrack| {
        t.windows.iter().map(|w| w.values[m]).sum::<f32>() / t.windows.len() as f32
    };
    let (b, s) = (mean(&run(&bursts, 4000)), mean(&run(&noise, 4000)));
    assert!(b > 0.3 && s < 0.1, "bursts {b}, steady {s}");
}

#[test]
fn periodicity_separates_a_tone_from_noise() {
    let tone = run(&sung(1.0, 0.0), 4000);
    let noise = run(&lcg_noise(SR, 3), 4000);
    let mid = |t: &FeatureTrack| t.frames[10..90].to_vec();
    assert!(
        mid(&tone)
            .iter()
            .all(|f| f.periodicity > 0.9 && (f.pitch_hz - 220.0).abs() < 2.0)
    );
    assert!(
        mid(&noise)
            .iter()
            .all(|f| f.periodicity < 0.5 && f.pitch_hz == 0.0)
    );
    assert!(mid(&tone).iter().all(|f| f.peakiness > 0.8));
    assert!(mid(&noise).iter().all(|f| f.peakiness < 0.3));
}

#[test]
fn extractor_can_be_reused_after_finish() {
    let signal = mixture(1.2);
    let mut ex = FeatureExtractor::new(FeatureConfig::default());
    let mut first = FeatureTrack::default();
    ex.push(&signal, &mut first);
    ex.finish(&mut first);
    let mut second = FeatureTrack::default();
    ex.push(&signal, &mut second);
    ex.finish(&mut second);
    assert_eq!(first.frames, second.frames);
    assert_eq!(first.windows, second.windows);
}
