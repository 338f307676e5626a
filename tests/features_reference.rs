//! The feature engine against librosa (tests/reference/librosa_features.json, written by
//! tools/reference/librosa_features.py) on generated signals and real corpus clips.
//!
//! Tolerances (per frame):
//! - log-mel: 0.1 dB where librosa's value is above -80 dB;
//! - MFCC: 0.05 + 0.2 % of |value| (dB-scaled DCT coefficients);
//! - RMS: 1e-5 + 0.01 %; ZCR: exact to 1e-6 (frames away from the edges, where librosa pads with
//!   edge values and we pad with zeros as its STFT does);
//! - centroid: 0.5 Hz + 0.05 %; bandwidth: 1 Hz + 0.05 % (librosa's float32 sum loses ~0.6 Hz on
//!   a pure tone's ~14 Hz bandwidth); roll-off: one FFT bin (a threshold decision);
//! - flatness: 1e-4 + 0.5 %;
//! - spectral contrast: 0.1 dB where the band's valley is within 100 dB of the frame's strongest
//!   bin (deeper valleys are float32 FFT rounding noise, e.g. between a pure tone's sidelobes);
//! - flux: 0.01 dB.
//!
//! The tolerances hold on every frame, including the low-energy edges of the generated signals.

mod common_features;

use common_features::{Frame, analyze, corpus, decode_first_channel, generated};
use serde_json::Value;
use stemscope::features::FeatureConfig;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/librosa_features.json"
    );
    let text = std::fs::read_to_string(path).expect("reference file");
    serde_json::from_str(&text).expect("reference json")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn config_of(sig: &Value) -> FeatureConfig {
    let c = &sig["config"];
    let sr = c["sr"].as_u64().expect("sr") as u32;
    FeatureConfig {
        sample_rate: sr,
        n_fft: c["n_fft"].as_u64().expect("n_fft") as usize,
        hop: c["hop"].as_u64().expect("hop") as usize,
        n_mels: c["n_mels"].as_u64().expect("n_mels") as usize,
        n_mfcc: c["n_mfcc"].as_u64().expect("n_mfcc") as usize,
        fmin: 0.0,
        fmax: sr as f32 / 2.0,
        ..FeatureConfig::default()
    }
}

/// Worst excess over tolerance per feature, and the worst absolute error seen.
#[derive(Default)]
struct Check {
    failures: Vec<String>,
    worst: std::collections::BTreeMap<&'static str, f64>,
}

impl Check {
    fn cmp(
        &mut self,
        sig: &str,
        what: &'static str,
        frame: usize,
        ours: f64,
        theirs: f64,
        tol: f64,
    ) {
        let err = (ours - theirs).abs();
        let w = self.worst.entry(what).or_insert(0.0);
        *w = w.max(err);
        if (err.is_nan() || err > tol) && self.failures.len() < 40 {
            self.failures.push(format!(
                "{sig} {what} frame {frame}: ours {ours} librosa {theirs} (tolerance {tol})"
            ));
        }
    }
}

fn compare(name: &str, sig: &Value, frames: &[Frame], hop_edge: usize, check: &mut Check) {
    let n = sig["n_frames"].as_u64().expect("n_frames") as usize;
    assert_eq!(frames.len(), n, "{name}: frame count");
    let series: [(&'static str, usize, f64, f64); 7] = [
        ("rms", 0, 1e-5, 1e-4),
        ("zcr", 1, 1e-6, 0.0),
        ("centroid", 2, 0.5, 5e-4),
        ("bandwidth", 3, 1.0, 5e-4),
        ("rolloff", 4, 0.0, 0.0),
        ("flatness", 5, 1e-4, 5e-3),
        ("flux", 6, 0.01, 0.0),
    ];
    let bin_hz = config_of(sig).sample_rate as f64 / config_of(sig).n_fft as f64;
    for (what, idx, abs, rel) in series {
        let theirs = floats(&sig[what]);
        for (t, (f, &r)) in frames.iter().zip(&theirs).enumerate() {
            if what == "zcr" && (t < hop_edge || t + hop_edge >= n) {
                continue;
            }
            let tol = if what == "rolloff" {
                bin_hz * 1.01
            } else {
                abs + rel * r.abs()
            };
            check.cmp(name, what, t, f.scalars[idx] as f64, r, tol);
        }
    }
    let sampled: Vec<usize> = sig["sampled"]
        .as_array()
        .expect("sampled")
        .iter()
        .map(|x| x.as_u64().expect("index") as usize)
        .collect();
    for (j, &t) in sampled.iter().enumerate() {
        let f = &frames[t];
        for (m, r) in floats(&sig["mel_db"][j]).into_iter().enumerate() {
            if r > -80.0 {
                check.cmp(name, "mel_db", t, f.mel_db[m] as f64, r, 0.1);
            }
        }
        for (k, r) in floats(&sig["mfcc"][j]).into_iter().enumerate() {
            check.cmp(name, "mfcc", t, f.mfcc[k] as f64, r, 0.05 + 2e-3 * r.abs());
        }
        let valid = floats(&sig["contrast_valid"][j]);
        for (b, r) in floats(&sig["contrast"][j]).into_iter().enumerate() {
            if valid[b] > 0.5 {
                check.cmp(name, "contrast", t, f.contrast[b] as f64, r, 0.1);
            }
        }
    }
}

fn report(check: Check) {
    for (what, w) in &check.worst {
        println!("worst |ours - librosa| {what}: {w:.6}");
    }
    assert!(check.failures.is_empty(), "{}", check.failures.join("\n"));
}

#[test]
fn generated_signals_match_librosa_within_tolerances() {
    let doc = reference();
    let mut check = Check::default();
    for sig in doc["signals"].as_array().expect("signals") {
        if sig["source"] != "generated" {
            continue;
        }
        let name = sig["name"].as_str().expect("name");
        let config = config_of(sig);
        let edge = config.n_fft / 2 / config.hop + 1;
        let signal = generated(name, config.sample_rate as usize);
        let (_, frames) = analyze(config, &signal, 4096);
        compare(name, sig, &frames, edge, &mut check);
    }
    report(check);
}

#[test]
fn corpus_clips_match_librosa_within_tolerances() {
    let Some(corpus) = corpus() else { return };
    let doc = reference();
    let mut check = Check::default();
    for sig in doc["signals"].as_array().expect("signals") {
        if sig["source"] != "corpus" {
            continue;
        }
        let name = sig["name"].as_str().expect("name");
        let config = config_of(sig);
        let edge = config.n_fft / 2 / config.hop + 1;
        let (samples, rate) = decode_first_channel(&corpus.join(name));
        assert_eq!(rate, config.sample_rate, "{name}: rate");
        let seconds = sig["seconds"].as_f64().expect("seconds");
        let n = ((seconds * rate as f64) as usize).min(samples.len());
        let (_, frames) = analyze(config, &samples[..n], 10_000);
        compare(name, sig, &frames, edge, &mut check);
    }
    report(check);
}
