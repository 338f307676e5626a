//! Speech activity on the dialogue stem, end to end through the feature engine and the built-in model.

use stemscope::detect::dialogue;
use stemscope::detect::dialogue::corpus::{self, FrameCounts, Room, RoomTone, SceneSpec};
use stemscope::detect::dialogue::foley::Foley;
use stemscope::detect::dialogue::rng::Rng;
use stemscope::timeline::Span;

const SR: f64 = 16_000.0;

fn speech_frames(spans: &[Span], n: usize) -> Vec<bool> {
    let mut out = vec![false; n];
    for s in spans {
        let a = (s.start_s / 0.01).round() as usize;
        let b = ((s.end_s / 0.01).round() as usize).min(n);
        out[a.min(b)..b].iter_mut().for_each(|v| *v = true);
    }
    out
}

fn spoken_seconds(signal: &[f32]) -> f64 {
    let track = corpus::extract(signal);
    dialogue::detect(&track).iter().map(Span::duration_s).sum()
}

#[test]
fn room_tone_hum_and_a_scene_cut_are_not_speech() {
    let mut rng = Rng::new(11);
    let quiet = RoomTone {
        band_lo_hz: 80.0,
        band_hi_hz: 6000.0,
        hum: Some((50.0, 0.0)),
        rumble_db: Some(0.0),
    }
    .render(8 * 16_000, 0.002, &mut rng);
    let loud = RoomTone::random(&mut rng).render(8 * 16_000, 0.02, &mut rng);
    let signal: Vec<f32> = quiet.into_iter().chain(loud).collect();
    let s = spoken_seconds(&signal);
    assert!(s < 0.2, "{s} s of speech found in room tone");
}

#[test]
fn clicks_and_footstep_thumps_over_room_tone_are_not_speech() {
    let mut rng = Rng::new(12);
    let mut signal = RoomTone::random(&mut rng).render(10 * 16_000, 0.003, &mut rng);
    for k in 0..14 {
        let at = 8_000 + k * 10_000;
        // A click, then a 60 ms decaying low thump.
        signal[at] += 0.5;
        for i in 0..960 {
            let t = i as f64 / SR;
            signal[at + 2_000 + i] +=
                (0.3 * (-t / 0.015).exp() * (std::f64::consts::TAU * 90.0 * t).sin()) as f32;
        }
    }
    let s = spoken_seconds(&signal);
    assert!(s < 0.3, "{s} s of speech found in clicks and thumps");
}

#[test]
fn level_does_not_decide_speech() {
    // The same scene 30 dB apart gives the same segments.
    let Some(speech) = load_speech("speech/smstools_speech-male.flac") else {
        return;
    };
    let mut rng = Rng::new(3);
    let spec = SceneSpec {
        snr_db: 20.0,
        room: None,
        tone: RoomTone::random(&mut rng),
        truth_gap_frames: 30,
    };
    let scene = corpus::build_scene(&speech, &[], &spec, &mut rng);
    let quiet: Vec<f32> = scene.signal.iter().map(|s| s * 0.0316).collect();
    let a = dialogue::detect(&corpus::extract(&scene.signal));
    let b = dialogue::detect(&corpus::extract(&quiet));
    let n = scene.truth.len();
    let c = FrameCounts::count(&speech_frames(&a, n), &speech_frames(&b, n));
    assert!(c.fp + c.fn_ <= 3, "{c:?}");
    assert!(!a.is_empty());
}

#[test]
fn footsteps_knocks_and_rustle_after_a_line_neither_extend_it_nor_count_as_speech() {
    let Some(speech) = load_speech("speech/smstools_speech-male.flac") else {
        return;
    };
    // Room tone 20 dB under the line; the line at 1 s; from 0.6 s after its end, 5 s of
    // footsteps, a knock, a rustle and a breath, as loud as the line's peak.
    let mut rng = Rng::new(31);
    let rms = (speech.iter().map(|s| s * s).sum::<f32>() / speech.len() as f32).sqrt();
    let gain = 0.03 / rms;
    let line_at = 16_000;
    let sounds_at = line_at + speech.len() + 9_600;
    let len = sounds_at + 6 * 16_000;
    let mut signal = RoomTone::random(&mut rng).render(len, 0.003, &mut rng);
    for (d, s) in signal[line_at..].iter_mut().zip(&speech) {
        *d += s * gain;
    }
    let peak = speech.iter().fold(0.0f32, |m, s| m.max(s.abs())) * gain;
    let mut at = sounds_at;
    for kind in [
        Foley::Footsteps,
        Foley::Knock,
        Foley::Cloth,
        Foley::Footsteps,
        Foley::Breath,
    ] {
        let sound = kind.render(&mut rng);
        if at + sound.len() > len {
            break;
        }
        for (d, s) in signal[at..].iter_mut().zip(&sound) {
            *d += s * peak;
        }
        at += sound.len() + 4_000;
    }
    let spans = dialogue::detect(&corpus::extract(&signal));
    let after: f64 = spans
        .iter()
        .map(|s| (s.end_s - s.start_s.max(sounds_at as f64 / SR)).max(0.0))
        .sum();
    assert!(
        after < 0.2,
        "{after} s of speech among the production sounds: {spans:?}"
    );
    let line_end = (line_at + speech.len()) as f64 / SR;
    let spoken: f64 = spans
        .iter()
        .map(|s| (s.end_s.min(line_end) - s.start_s.max(1.0)).max(0.0))
        .sum();
    let truth_s = corpus::dry_truth(&speech).iter().filter(|&&t| t).count() as f64 * 0.01;
    assert!(
        spoken > 0.85 * truth_s,
        "{spoken} s of {truth_s} s of the line found"
    );
}

fn load_speech(rel: &str) -> Option<Vec<f32>> {
    let dir = corpus::default_corpus_dir();
    if !dir.join(rel).exists() {
        eprintln!(
            "skipping: corpus file {} is absent",
            dir.join(rel).display()
        );
        return None;
    }
    match corpus::load_analysis_signal(&dir.join(rel)) {
        Ok(s) => Some(s),
        Err(e) => panic!("{e}"),
    }
}

/// Regression check on real speech (these files are in the model's training set; the held-out
/// figure comes from `cargo run --release --example train_dialogue`).
#[test]
fn real_speech_in_noise_reverb_and_production_sounds_is_found_frame_by_frame() {
    let (Some(female), Some(male), Some(rain)) = (
        load_speech("speech/smstools_speech-female.flac"),
        load_speech("speech/whisper_jfk.flac"),
        load_speech("effects/smstools_rain.flac"),
    ) else {
        return;
    };
    let mut rng = Rng::new(21);
    let mut total = FrameCounts::default();
    for (speech, snr, room) in [
        (&female, 10.0, None),
        (&male, 20.0, None),
        (
            &female,
            30.0,
            Some(Room {
                rt60_s: 0.7,
                wet_db: -8.0,
            }),
        ),
    ] {
        let spec = SceneSpec {
            snr_db: snr,
            room,
            tone: RoomTone::random(&mut rng),
            truth_gap_frames: 30,
        };
        let scene = corpus::build_scene(speech, std::slice::from_ref(&rain), &spec, &mut rng);
        let spans = dialogue::detect(&corpus::extract(&scene.signal));
        let pred = speech_frames(&spans, scene.truth.len());
        total.add(&FrameCounts::count(&pred, &scene.truth));
        // The answer is a list of separate segments in time order.
        assert!(spans.windows(2).all(|w| w[0].end_s < w[1].start_s));
    }
    assert!(total.f1() > 0.9, "frame F1 {:.3} ({total:?})", total.f1());
}
