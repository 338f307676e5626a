//! Specifications of the meter and the trace, checked against the `ebur128` crate (the reference).

use super::*;
use crate::decode::ChannelRole::{self, *};

/// Deterministic test programme: per channel, noise and a tone whose level changes every
/// `seg_s` seconds over a wide range (so that both gates matter), with a stretch of silence.
pub(crate) fn programme(channels: usize, rate: u32, seconds: f64, seed: u64) -> Vec<f32> {
    let frames = (rate as f64 * seconds) as usize;
    let mut out = Vec::with_capacity(frames * channels);
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let levels_db = [
        -20.0, -35.0, -12.0, -80.0, -28.0, -45.0, -18.0, -60.0, -25.0,
    ];
    for i in 0..frames {
        let t = i as f64 / rate as f64;
        let seg = (t / 2.7) as usize;
        let silent = (7.0..8.5).contains(&t);
        let amp = 10f64.powf(levels_db[(seg + seed as usize) % levels_db.len()] / 20.0);
        for c in 0..channels {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((x >> 33) as f64 / (1u64 << 31) as f64) - 1.0;
            let tone = (2.0 * std::f64::consts::PI * (220.0 * (c + 1) as f64) * t).sin();
            let v = if silent {
                0.0
            } else {
                amp * (0.5 * noise + 0.5 * tone)
            };
            out.push(v as f32);
        }
    }
    out
}

fn meter_trace(
    roles: &[ChannelRole],
    rate: u32,
    tp: bool,
    x: &[f32],
    chunk: usize,
) -> LoudnessTrace {
    let mut m = LoudnessMeter::new(roles, rate, tp).unwrap();
    for c in x.chunks(chunk * roles.len()) {
        m.push(c).unwrap();
    }
    m.finish()
}

/// The reference: `ebur128` on the same samples.
fn reference(roles: &[ChannelRole], rate: u32, x: &[f32]) -> ebur128::EbuR128 {
    let mode = ebur128::Mode::I | ebur128::Mode::LRA | ebur128::Mode::TRUE_PEAK;
    let mut e = ebur128::EbuR128::new(roles.len() as u32, rate, mode).unwrap();
    let map: Vec<_> = roles.iter().map(|&r| ebur128_channel(r)).collect();
    e.set_channel_map(&map).unwrap();
    e.add_frames_f32(x).unwrap();
    e
}

/// The reference loudness range: EBU Tech 3342 v3 over `ebur128`'s short-term loudness read every
/// 100 ms once 3 s are in (absolute gate -70 LUFS, relative gate -20 LU, then the 10th and 95th
/// nearest-rank percentiles as ffmpeg takes them). `ebur128`'s own `loudness_range` reads one
/// value per second (libebur128), which Tech 3342 no longer allows.
fn reference_lra(roles: &[ChannelRole], rate: u32, x: &[f32]) -> Option<f64> {
    let mut e = ebur128::EbuR128::new(roles.len() as u32, rate, ebur128::Mode::S).unwrap();
    let map: Vec<_> = roles.iter().map(|&r| ebur128_channel(r)).collect();
    e.set_channel_map(&map).unwrap();
    let step = (rate / 10) as usize * roles.len();
    let mut lufs = Vec::new();
    for (k, chunk) in x.chunks_exact(step).enumerate() {
        e.add_frames_f32(chunk).unwrap();
        if k + 1 >= 30 {
            lufs.push(e.loudness_shortterm().unwrap());
        }
    }
    let energy = |l: f64| 10f64.powf((l + 0.691) / 10.0);
    let above: Vec<f64> = lufs.into_iter().filter(|&l| l >= -70.0).collect();
    let mean = above.iter().map(|&l| energy(l)).sum::<f64>() / above.len().max(1) as f64;
    let mut gated: Vec<f64> = above
        .into_iter()
        .filter(|&l| energy(l) >= mean * 0.01)
        .collect();
    gated.sort_by(f64::total_cmp);
    let rank =
        |p: f64| ((p * gated.len() as f64).round_ties_even() as usize).clamp(1, gated.len()) - 1;
    Some(gated.get(rank(0.95))? - gated.get(rank(0.10))?)
}

fn ref_true_peak_db(e: &ebur128::EbuR128, channels: usize) -> f64 {
    let p = (0..channels as u32)
        .map(|c| e.true_peak(c).unwrap())
        .fold(0.0, f64::max);
    20.0 * p.log10()
}

fn assert_close(what: &str, got: Option<f64>, want: f64, tol: f64) {
    let got = got.unwrap_or_else(|| panic!("{what}: got None, want {want:.3}"));
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.3}, want {want:.3} (tolerance {tol})"
    );
}

#[test]
fn whole_stem_figures_agree_with_ebur128_for_stereo_mono_and_5_1() {
    let cases: [(&[ChannelRole], u32); 3] = [
        (&[Left, Right], 48_000),
        (&[Mono], 44_100),
        (
            &[Left, Right, Centre, Lfe, LeftSurround, RightSurround],
            48_000,
        ),
    ];
    for (roles, rate) in cases {
        let x = programme(roles.len(), rate, 30.0, 3);
        let t = meter_trace(roles, rate, true, &x, 4096);
        let r = reference(roles, rate, &x);
        let s = t.whole();
        let label = format!("{} ch @ {rate}", roles.len());
        assert_close(
            &format!("{label} integrated"),
            s.integrated_lufs,
            r.loudness_global().unwrap(),
            0.1,
        );
        assert_close(
            &format!("{label} LRA"),
            s.lra_lu,
            reference_lra(roles, rate, &x).unwrap(),
            0.1,
        );
        assert_close(
            &format!("{label} true peak"),
            s.true_peak_dbtp,
            ref_true_peak_db(&r, roles.len()),
            0.01,
        );
        let sp = (0..roles.len() as u32)
            .map(|c| r.sample_peak(c).unwrap())
            .fold(0.0, f64::max);
        assert_close(
            &format!("{label} sample peak"),
            s.sample_peak_dbfs,
            20.0 * sp.log10(),
            1e-4,
        );
    }
}

#[test]
fn momentary_and_short_term_match_ebur128_read_every_100_ms() {
    let roles = [Left, Right];
    let rate = 48_000;
    let x = programme(2, rate, 8.0, 5);
    let t = meter_trace(&roles, rate, false, &x, 1000);
    let mut e = ebur128::EbuR128::new(2, rate, ebur128::Mode::S).unwrap();
    for (i, step) in x.chunks_exact(4800 * 2).enumerate() {
        e.add_frames_f32(step).unwrap();
        let m = e.loudness_momentary().unwrap();
        let s = e.loudness_shortterm().unwrap();
        for (name, want, got) in [
            ("momentary", m, t.momentary_lufs(i)),
            ("short-term", s, t.short_term_lufs(i)),
        ] {
            // ebur128 keeps the filter's decay over digital silence (e.g. -478 LUFS); we flush it.
            if want > -200.0 {
                assert_close(&format!("{name} at step {i}"), got, want, 0.01);
            } else {
                assert!(
                    got.is_none_or(|g| g < -200.0),
                    "{name} at step {i}: {got:?}"
                );
            }
        }
    }
}

#[test]
fn segment_loudness_equals_ebur128_on_the_segment_alone() {
    let roles = [Left, Right];
    let rate = 48_000;
    let x = programme(2, rate, 40.0, 11);
    let t = meter_trace(&roles, rate, false, &x, 24_000);
    for (a, b) in [(5.0, 17.0), (12.3, 31.7), (0.0, 40.0), (20.0, 24.0)] {
        let s = t.segment(a, b);
        let fa = (a * rate as f64).round() as usize * 2;
        let fb = (b * rate as f64).round() as usize * 2;
        let r = reference(&roles, rate, &x[fa..fb]);
        assert_close(
            &format!("[{a}, {b}) integrated"),
            s.integrated_lufs,
            r.loudness_global().unwrap(),
            0.1,
        );
        assert_close(
            &format!("[{a}, {b}) LRA"),
            s.lra_lu,
            reference_lra(&roles, rate, &x[fa..fb]).unwrap(),
            0.1,
        );
    }
}

#[test]
fn silence_gives_none_and_no_nan() {
    let roles = [Left, Right];
    let zeros = vec![0.0f32; 48_000 * 2 * 5];
    let t = meter_trace(&roles, 48_000, true, &zeros, 4800);
    let s = t.whole();
    assert_eq!(s, LoudnessStats::default());
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        !json.contains("NaN") && !json.contains("null,\"true"),
        "{json}"
    );
    // Below the absolute gate: no integrated loudness, but a peak.
    let quiet: Vec<f32> = (0..48_000 * 2 * 5)
        .map(|i| 1e-5 * ((i as f32) * 0.05).sin())
        .collect();
    let s = meter_trace(&roles, 48_000, false, &quiet, 4800).whole();
    assert_eq!(s.integrated_lufs, None);
    assert_eq!(s.lra_lu, None);
    assert!(s.sample_peak_dbfs.is_some_and(|p| p < -99.0));
    // Empty input and empty segments.
    let empty = LoudnessMeter::new(&roles, 48_000, false).unwrap().finish();
    assert_eq!(empty.whole(), LoudnessStats::default());
    assert_eq!(t.segment(3.0, 3.0), LoudnessStats::default());
    assert_eq!(t.segment(f64::NAN, 2.0).integrated_lufs, None);
}

#[test]
fn surround_channels_weigh_plus_1_5_db_and_lfe_is_excluded() {
    let roles = [Left, Right, Centre, Lfe, LeftSurround, RightSurround];
    let rate = 48_000;
    let tone = |ch: usize| -> Vec<f32> {
        let mut x = vec![0.0f32; rate as usize * 6 * 6];
        for (i, f) in x.chunks_exact_mut(6).enumerate() {
            f[ch] = 0.25 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin();
        }
        x
    };
    let on = |ch: usize| {
        meter_trace(&roles, rate, false, &tone(ch), 4800)
            .whole()
            .integrated_lufs
    };
    let left = on(0).unwrap();
    let surround = on(4).unwrap();
    assert!(
        (surround - left - 1.494).abs() < 0.01,
        "surround {surround} vs left {left}"
    );
    assert_eq!(on(3), None, "the LFE must not count");
    // ... but its peak does.
    let lfe = meter_trace(&roles, rate, false, &tone(3), 4800).whole();
    assert!(
        lfe.sample_peak_dbfs
            .is_some_and(|p| (p + 12.04).abs() < 0.01)
    );
}

#[test]
fn true_peak_catches_an_inter_sample_peak() {
    // A sine at fs/4 with a 45 degree phase: every sample is at 0.707 of the crest.
    let rate = 48_000;
    let x: Vec<f32> = (0..rate as usize * 2)
        .map(|i| {
            (0.5 * (std::f64::consts::FRAC_PI_2 * i as f64 + std::f64::consts::FRAC_PI_4).sin())
                as f32
        })
        .collect();
    let s = meter_trace(&[Mono], rate, true, &x, 4800).whole();
    let crest = 20.0 * 0.5f64.log10();
    assert_close("sample peak", s.sample_peak_dbfs, crest - 3.01, 0.02);
    assert_close("true peak", s.true_peak_dbtp, crest, 0.2);
    let s = meter_trace(&[Mono], rate, false, &x, 4800).whole();
    assert_eq!(s.true_peak_dbtp, None, "true peak only when asked");
}

#[test]
fn the_trace_does_not_depend_on_block_sizes() {
    let roles = [Left, Right, Centre, Lfe, LeftSurround, RightSurround];
    let x = programme(6, 48_000, 5.05, 2);
    let a = meter_trace(&roles, 48_000, true, &x, 1);
    let b = meter_trace(&roles, 48_000, true, &x, 24_000);
    let c = meter_trace(&roles, 48_000, true, &x, 4799);
    assert_eq!(a.len(), 50);
    for t in [&b, &c] {
        assert_eq!(a.momentary, t.momentary);
        assert_eq!(a.short_term, t.short_term);
        assert_eq!(a.sample_peak, t.sample_peak);
        assert_eq!(a.true_peak, t.true_peak);
    }
}

#[test]
fn a_partial_last_step_keeps_its_peak() {
    let mut x = vec![0.0f32; 4800 + 100];
    x[4850] = 0.5;
    let s = meter_trace(&[Mono], 48_000, false, &x, 4800).whole();
    assert_close("peak", s.sample_peak_dbfs, -6.02, 0.01);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(LoudnessMeter::new(&[], 48_000, false).is_err());
    assert!(LoudnessMeter::new(&[Mono], 0, false).is_err());
    let mut m = LoudnessMeter::new(&[Left, Right], 48_000, false).unwrap();
    assert!(m.push(&[0.0; 3]).is_err());
}

#[test]
fn spans_union_counts_blocks_inside_the_union() {
    let x = programme(1, 48_000, 20.0, 4);
    let t = meter_trace(&[Mono], 48_000, false, &x, 4800);
    // Two overlapping spans equal their union as one segment.
    let a = t.spans(&[Span::new(2.0, 6.0), Span::new(5.0, 9.0)]);
    let b = t.segment(2.0, 9.0);
    assert_eq!(a, b);
    // Disjoint spans: blocks from both, none straddling the gap.
    let runs = t.runs(&[Span::new(10.0, 12.0), Span::new(2.0, 4.0)]);
    assert_eq!(runs, vec![(20, 40), (100, 120)]);
}

mod mix_tests {
    use super::*;
    use crate::loudness::mix::{MixInputs, mix_report};

    fn tone(frames: usize, amp: f32, freq: f32) -> Vec<f32> {
        (0..frames)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / 48_000.0).sin())
            .collect()
    }

    #[test]
    fn a_mono_stem_goes_to_the_centre_of_a_5_1_mix() {
        let l51 = [Left, Right, Centre, Lfe, LeftSurround, RightSurround];
        let mono = tone(48_000 * 5, 0.3, 1000.0);
        let silent51 = vec![0.0f32; 48_000 * 5 * 6];
        let mut m = MixMeter::new(&[(&[Mono], 48_000), (&l51, 48_000)], false).unwrap();
        for (a, b) in mono.chunks(24_000).zip(silent51.chunks(24_000 * 6)) {
            m.push(&[a, b]).unwrap();
        }
        let mix = m.finish().trace.unwrap().whole();
        let alone = meter_trace(&[Mono], 48_000, false, &mono, 4800).whole();
        assert_close(
            "mix",
            mix.integrated_lufs,
            alone.integrated_lufs.unwrap(),
            0.01,
        );
    }

    #[test]
    fn a_mono_stem_goes_to_left_and_right_at_minus_3_db_without_a_centre() {
        let mono = tone(48_000 * 5, 0.3, 1000.0);
        let silent = vec![0.0f32; 48_000 * 5 * 2];
        let mut m = MixMeter::new(&[(&[Mono], 48_000), (&[Left, Right], 48_000)], false).unwrap();
        for (a, b) in mono.chunks(24_000).zip(silent.chunks(48_000)) {
            m.push(&[a, b]).unwrap();
        }
        let mix = m.finish().trace.unwrap().whole();
        let alone = meter_trace(&[Mono], 48_000, false, &mono, 4800).whole();
        // Two channels at -3 dB each carry the same power as one at 0 dB.
        assert_close(
            "mix",
            mix.integrated_lufs,
            alone.integrated_lufs.unwrap(),
            0.01,
        );
    }

    #[test]
    fn same_layout_stems_are_summed_sample_by_sample() {
        // The same tone on two stems adds 6 dB (coherent sum), not 3 dB.
        let x: Vec<f32> = tone(48_000 * 5, 0.1, 500.0)
            .into_iter()
            .flat_map(|v| [v, v])
            .collect();
        let roles: &[ChannelRole] = &[Left, Right];
        let mut m = MixMeter::new(&[(roles, 48_000), (roles, 48_000)], false).unwrap();
        for c in x.chunks(9600) {
            m.push(&[c, c]).unwrap();
        }
        let mix = m.finish().trace.unwrap().whole();
        let one = meter_trace(roles, 48_000, false, &x, 4800).whole();
        assert_close(
            "coherent sum",
            mix.integrated_lufs,
            one.integrated_lufs.unwrap() + 6.02,
            0.01,
        );
    }

    #[test]
    fn different_rates_fall_back_to_an_energy_sum_with_a_warning() {
        let m = MixMeter::new(&[(&[Mono], 48_000), (&[Mono], 44_100)], false).unwrap();
        let a = m.finish();
        assert!(a.trace.is_none());
        assert_eq!(a.warnings.len(), 1);
        let x = tone(48_000 * 5, 0.1, 500.0);
        let t = meter_trace(&[Mono], 48_000, false, &x, 4800);
        let report = mix_report(&MixInputs {
            printmaster: None,
            mix: Some(&a),
            stems: vec![&t, &t],
            dx: None,
            mx: None,
            dialogue: &[],
            music: &[],
            leave_out: &[],
        })
        .unwrap();
        // Two equal uncorrelated-assumed stems: +3 dB.
        assert_close(
            "energy sum",
            report.loudness.integrated_lufs,
            t.whole().integrated_lufs.unwrap() + 3.01,
            0.01,
        );
        assert_eq!(report.loudness.sample_peak_dbfs, None);
        assert_eq!(report.dialogue_gated_lufs, None);
    }

    #[test]
    fn dialogue_gated_loudness_and_dialogue_to_music_ratio() {
        // DX: a tone at -20 dB for 10..20 s; MX: a tone at -30 dB for 0..30 s.
        let n = 48_000 * 30;
        let dx: Vec<f32> = tone(n, 0.1, 1000.0)
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                if (480_000..960_000).contains(&i) {
                    v
                } else {
                    0.0
                }
            })
            .collect();
        let mx = tone(n, 0.0316, 1100.0);
        let tdx = meter_trace(&[Mono], 48_000, false, &dx, 4800);
        let tmx = meter_trace(&[Mono], 48_000, false, &mx, 4800);
        let mut m = MixMeter::new(&[(&[Mono], 48_000), (&[Mono], 48_000)], false).unwrap();
        for (a, b) in dx.chunks(24_000).zip(mx.chunks(24_000)) {
            m.push(&[a, b]).unwrap();
        }
        let mix = m.finish();
        let dialogue = [Span::new(10.0, 20.0)];
        let music = [Span::new(0.0, 16.0), Span::new(14.0, 30.0)];
        let r = mix_report(&MixInputs {
            printmaster: None,
            mix: Some(&mix),
            stems: vec![&tdx, &tmx],
            dx: Some(&tdx),
            mx: Some(&tmx),
            dialogue: &dialogue,
            music: &music,
            leave_out: &[],
        })
        .unwrap();
        assert_eq!(r.source, "sum of stems");
        let d = tdx.segment(10.0, 20.0).integrated_lufs.unwrap();
        let m_ = tmx.segment(10.0, 20.0).integrated_lufs.unwrap();
        assert_close("DMR", r.dialogue_to_music_lu, d - m_, 1e-9);
        // 10 dB apart in level; the K-weighting lifts 1000 Hz 0.2 dB less than 1100 Hz.
        assert!((d - m_ - 9.8).abs() < 0.15, "DMR {}", d - m_);
        // Over the dialogue the mix is DX + MX: tones of different pitch, so their powers add.
        let sum = 10.0 * (10f64.powf(d / 10.0) + 10f64.powf(m_ / 10.0)).log10();
        assert_close("dialogue-gated", r.dialogue_gated_lufs, sum, 0.05);
    }
}
