//! Conditioning: the documented downmix and the streaming resampler's length, alignment and quality.

use std::f32::consts::PI;

use stemscope::condition::{ANALYSIS_RATE, Conditioner, DIALOGUE_SIDE_WEIGHT, Downmix};
use stemscope::decode::{ChannelRole, default_roles};
use stemscope::discover::StemKind;

#[test]
fn lfe_is_excluded_and_music_is_an_equal_power_average() {
    let d = Downmix::for_stem(StemKind::Music, &default_roles(6));
    let w = 1.0 / 5f32.sqrt();
    assert_eq!(d.weights, vec![w, w, w, 0.0, w, w]);
    let d = Downmix::for_stem(StemKind::Effects, &default_roles(2));
    assert_eq!(d.weights, vec![1.0 / 2f32.sqrt(); 2]);
    let d = Downmix::for_stem(StemKind::Music, &[ChannelRole::Mono]);
    assert_eq!(d.weights, vec![1.0]);
}

#[test]
fn dialogue_with_a_centre_is_centre_weighted() {
    let d = Downmix::for_stem(StemKind::Dialogue, &default_roles(6));
    assert_eq!(
        d.weights,
        vec![
            DIALOGUE_SIDE_WEIGHT,
            DIALOGUE_SIDE_WEIGHT,
            1.0,
            0.0,
            0.0,
            0.0
        ]
    );
    // Without a centre, dialogue falls back to the equal-power average.
    let d = Downmix::for_stem(StemKind::Dialogue, &default_roles(2));
    assert_eq!(d.weights, vec![1.0 / 2f32.sqrt(); 2]);
}

#[test]
fn dual_mono_stereo_folds_back_to_the_mono_level() {
    let d = Downmix::for_stem(StemKind::Dialogue, &default_roles(2));
    let x = 0.5 / 2f32.sqrt(); // the builder's dual-mono: 3 dB down per side
    let mut out = Vec::new();
    d.apply(&[x, x, -x, -x], &mut out);
    assert!(
        (out[0] - 0.5).abs() < 1e-6 && (out[1] + 0.5).abs() < 1e-6,
        "{out:?}"
    );
}

#[test]
fn downmix_applies_weights_per_frame() {
    let d = Downmix::for_stem(StemKind::Dialogue, &default_roles(6));
    let mut out = Vec::new();
    d.apply(
        &[1.0, 1.0, 0.5, 9.0, 9.0, 9.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0],
        &mut out,
    );
    assert_eq!(out, vec![0.5 + 2.0 * DIALOGUE_SIDE_WEIGHT, -1.0]);
}

fn condition(rate: u32, input: &[f32], block: usize) -> Vec<f32> {
    let mut c = Conditioner::new(StemKind::Music, &[ChannelRole::Mono], rate).unwrap();
    let mut out = Vec::new();
    for chunk in input.chunks(block.max(1)) {
        c.push(chunk, &mut out).unwrap();
    }
    c.finish(&mut out).unwrap();
    out
}

fn sine(rate: u32, n: usize, f: f32) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 * (2.0 * PI * f * i as f32 / rate as f32).sin())
        .collect()
}

#[test]
fn output_length_is_the_rounded_rate_ratio_for_any_block_size() {
    for rate in [48_000u32, 44_100, 96_000, 22_050, 8_000] {
        for (n, block) in [
            (48_000usize, 1usize),
            (100_003, 4_801),
            (12_345, 100_000),
            (5, 3),
            (0, 10),
        ] {
            if block == 1 && n > 20_000 && rate != 48_000 {
                continue; // the 1-sample case once is enough
            }
            let out = condition(rate, &vec![0.1; n], block);
            let want = (n as f64 * f64::from(ANALYSIS_RATE) / f64::from(rate)).round() as i64;
            assert!(
                (out.len() as i64 - want).abs() <= 2,
                "{rate} Hz, {n} frames in blocks of {block}: {} samples, want {want}",
                out.len()
            );
        }
    }
}

#[test]
fn block_size_does_not_change_the_output() {
    let x = sine(48_000, 30_000, 440.0);
    let a = condition(48_000, &x, 30_000);
    let b = condition(48_000, &x, 777);
    assert_eq!(a.len(), b.len());
    let diff = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f32::max);
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn sixteen_khz_input_passes_through_unchanged() {
    let x = sine(16_000, 1000, 300.0);
    assert_eq!(condition(16_000, &x, 64), x);
}

#[test]
fn resampled_tone_keeps_its_level_frequency_and_timing() {
    for rate in [48_000u32, 44_100, 96_000] {
        let x = sine(rate, rate as usize * 2, 1000.0);
        let y = condition(rate, &x, 4096);
        // Away from the edges: project onto the expected 1 kHz sine and cosine at 16 kHz.
        let (from, to) = (2000, y.len() - 2000);
        let (mut s, mut c, mut e) = (0.0f64, 0.0f64, 0.0f64);
        for (i, &v) in y[from..to].iter().enumerate() {
            let t = 2.0 * std::f64::consts::PI * 1000.0 * (i + from) as f64 / 16_000.0;
            s += f64::from(v) * t.sin();
            c += f64::from(v) * t.cos();
            e += f64::from(v) * f64::from(v);
        }
        let n = (to - from) as f64;
        let amp = 2.0 * (s * s + c * c).sqrt() / n;
        let offset_us = c.atan2(s) / (2.0 * std::f64::consts::PI * 1000.0) * 1e6;
        let residual = (e / n - amp * amp / 2.0).max(0.0).sqrt();
        assert!((amp - 0.5).abs() < 0.002, "{rate} Hz: amplitude {amp}");
        // No leftover resampler delay.
        assert!(offset_us.abs() < 2.0, "{rate} Hz: offset {offset_us} us");
        assert!(residual < 0.002, "{rate} Hz: residual {residual}");
    }
}

#[test]
fn content_above_8_khz_is_filtered_out() {
    let x = sine(48_000, 48_000, 11_000.0);
    let y = condition(48_000, &x, 4096);
    let rms = (y[2000..14000].iter().map(|s| s * s).sum::<f32>() / 12000.0).sqrt();
    // The input's RMS is 0.354; an alias at 5 kHz must sit more than 60 dB down.
    assert!(rms < 0.354e-3, "alias RMS {rms}");
}
