//! Evaluates the scene segmentation alone on development reels before the decoder and feature
//! engine exist: reads `DEVn_DX.wav` and `DEVn_FX.wav` with hound (WAV only), computes stand-in
//! frame summaries (RMS, centroid, flatness over 1024-point frames every 10 ms at 16 kHz), runs
//! `timeline::scenes::segment` and writes `OUT/DEVn/report.json` holding only `scenes`, for
//! `score.py`. Once the pipeline decodes and extracts features, `stemscope analyze` replaces this.
//!
//! `cargo run --release --example scene_eval -- /tmp/dev-reels /tmp/scene-eval`

use std::path::Path;

use realfft::RealFftPlanner;
use stemscope::features::{FeatureTrack, FrameSummary};
use stemscope::loudness::LoudnessTrace;
use stemscope::timeline::scenes::{self, SegmentConfig, StemInput};

const RATE: usize = 16_000;
const N_FFT: usize = 1024;
const HOP: usize = 160;

/// Mono 16 kHz samples of a WAV (channels averaged, 48 kHz decimated by 3 after a box filter).
fn read_mono_16k(path: &Path) -> Result<Vec<f32>, String> {
    let mut r = hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = r.spec();
    if spec.sample_rate != 48_000 {
        return Err(format!(
            "{}: {} Hz, only 48 kHz here",
            path.display(),
            spec.sample_rate
        ));
    }
    let ch = spec.channels as usize;
    let scale = match spec.sample_format {
        hound::SampleFormat::Int => 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32,
        hound::SampleFormat::Float => 1.0,
    };
    let mut out = Vec::new();
    let (mut acc, mut n_acc, mut frame_sum, mut k) = (0.0f32, 0, 0.0f32, 0usize);
    let mut push = |v: f32| {
        frame_sum += v;
        k += 1;
        if k == ch {
            acc += frame_sum / ch as f32;
            n_acc += 1;
            frame_sum = 0.0;
            k = 0;
            if n_acc == 3 {
                out.push(acc / 3.0);
                acc = 0.0;
                n_acc = 0;
            }
        }
    };
    match spec.sample_format {
        hound::SampleFormat::Int => {
            for s in r.samples::<i32>() {
                push(s.map_err(|e| e.to_string())? as f32 * scale);
            }
        }
        hound::SampleFormat::Float => {
            for s in r.samples::<f32>() {
                push(s.map_err(|e| e.to_string())?);
            }
        }
    }
    Ok(out)
}

fn frames(x: &[f32]) -> FeatureTrack {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(N_FFT);
    let window: Vec<f32> = (0..N_FFT)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N_FFT as f32).cos())
        .collect();
    let mut buf = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let mut out = Vec::new();
    let mut start = 0;
    while start + N_FFT <= x.len() {
        let seg = &x[start..start + N_FFT];
        let rms = (seg.iter().map(|v| v * v).sum::<f32>() / N_FFT as f32).sqrt();
        for ((b, s), w) in buf.iter_mut().zip(seg).zip(&window) {
            *b = s * w;
        }
        let _ = fft.process(&mut buf, &mut spec);
        let (mut num, mut den, mut logsum) = (0.0f64, 0.0f64, 0.0f64);
        for (i, c) in spec.iter().enumerate().skip(1) {
            let p = f64::from(c.norm_sqr()) + 1e-20;
            let f = i as f64 * RATE as f64 / N_FFT as f64;
            num += f * p;
            den += p;
            logsum += p.ln();
        }
        let n = (spec.len() - 1) as f64;
        out.push(FrameSummary {
            rms_db: (20.0 * rms.max(1e-6).log10()).max(-120.0),
            centroid_hz: (num / den) as f32,
            flatness: ((logsum / n).exp() / (den / n)) as f32,
            ..Default::default()
        });
        start += HOP;
    }
    FeatureTrack {
        frame_hop_s: HOP as f64 / RATE as f64,
        texture_len_s: 1.0,
        texture_hop_s: 0.25,
        frames: out,
        windows: Vec::new(),
    }
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (reels, out) = match (args.get(1), args.get(2)) {
        (Some(a), Some(b)) => (Path::new(a).to_path_buf(), Path::new(b).to_path_buf()),
        _ => return Err("usage: scene_eval REELS_DIR OUT_DIR".into()),
    };
    let mut names: Vec<String> = std::fs::read_dir(&reels)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let dx_path = reels.join(&name).join(format!("{name}_DX.wav"));
        let fx_path = reels.join(&name).join(format!("{name}_FX.wav"));
        let (dx, fx) = match (read_mono_16k(&dx_path), read_mono_16k(&fx_path)) {
            (Ok(d), Ok(f)) => (d, f),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("skip {name}: {e}");
                continue;
            }
        };
        let duration_s = fx.len() as f64 / RATE as f64;
        let (dx_track, fx_track) = (frames(&dx), frames(&fx));
        let loud = LoudnessTrace::default();
        let found = scenes::segment(
            Some(StemInput {
                features: &fx_track,
                loudness: &loud,
            }),
            Some(StemInput {
                features: &dx_track,
                loudness: &loud,
            }),
            &[],
            duration_s,
            &SegmentConfig::default(),
        );
        let spans = scenes::scenes_from_boundaries(&found, duration_s);
        let json = serde_json::json!({
            "scenes": spans.iter().map(|s| serde_json::json!({"start_s": s.start_s, "end_s": s.end_s})).collect::<Vec<_>>(),
            "boundaries": found.iter().map(|b| serde_json::json!({"time_s": b.time_s, "score": b.score})).collect::<Vec<_>>(),
        });
        let dir = out.join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("report.json"), json.to_string()).map_err(|e| e.to_string())?;
        let list: Vec<String> = found
            .iter()
            .map(|b| format!("{:.1}s ({:.1})", b.time_s, b.score))
            .collect();
        println!("{name}: {}", list.join(", "));
    }
    Ok(())
}
