//! Feature-stage speed: STFT + log-mel + MFCC alone, and the full feature set, on three minutes of
//! synthetic audio, with the default 16 kHz configuration and librosa's 22.05 kHz one; and only
//! librosa's feature list (`FeatureSet::Librosa`) at librosa's configuration, the like-for-like
//! comparison with `tools/reference/librosa_speed.py`.
//! Throughput is in samples; audio seconds per second = samples/s / sample rate.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stemscope::features::mel::{Dct, MelFilterbank, power_to_db};
use stemscope::features::stft::Stft;
use stemscope::features::{FeatureConfig, FeatureExtractor, FeatureSet, FeatureTrack};

/// Speech-like test audio: harmonic tones with vibrato, noise bursts and pauses.
fn audio(seconds: usize, sr: usize) -> Vec<f32> {
    let mut x = 1u32;
    (0..seconds * sr)
        .map(|i| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let t = i as f32 / sr as f32;
            let f0 = 180.0 * (1.0 + 0.02 * (std::f32::consts::TAU * 5.5 * t).sin());
            let tone: f32 = (1..5)
                .map(|h| (std::f32::consts::TAU * f0 * h as f32 * t).sin() / h as f32)
                .sum();
            match (t * 3.0) as usize % 3 {
                0 => 0.2 * tone,
                1 => 0.2 * noise,
                _ => 0.001 * noise,
            }
        })
        .collect()
}

fn librosa_config() -> FeatureConfig {
    FeatureConfig::librosa()
}

fn stft_mel_mfcc(c: &mut Criterion) {
    let config = FeatureConfig::default();
    let signal = audio(180, config.sample_rate as usize);
    let stft = Stft::new(config.n_fft);
    let mel = MelFilterbank::new(
        config.sample_rate,
        config.n_fft,
        config.n_mels,
        0.0,
        config.fmax as f64,
    );
    let dct = Dct::new(config.n_mels, config.n_mfcc);
    let mut scratch = stft.scratch();
    let mut power = vec![0.0; stft.n_bins()];
    let mut bands = vec![0.0; config.n_mels];
    let mut mfcc = vec![0.0; config.n_mfcc];
    let mut g = c.benchmark_group("features");
    g.sample_size(10);
    g.throughput(Throughput::Elements(signal.len() as u64));
    g.bench_function("stft_mel_mfcc_16k_180s_1thread", |b| {
        b.iter(|| {
            let mut acc = 0.0f32;
            for frame in signal.windows(config.n_fft).step_by(config.hop) {
                stft.power(frame, &mut scratch, &mut power);
                mel.apply(&power, &mut bands);
                for v in bands.iter_mut() {
                    *v = power_to_db(*v);
                }
                dct.apply(&bands, &mut mfcc);
                acc += mfcc[1];
            }
            acc
        })
    });
    g.finish();
}

fn full(c: &mut Criterion) {
    let mut g = c.benchmark_group("features");
    g.sample_size(10);
    for (name, config) in [
        ("full_16k_180s", FeatureConfig::default()),
        ("full_librosa_22k_180s", librosa_config()),
        (
            "librosa_set_22k_180s",
            FeatureConfig {
                set: FeatureSet::Librosa,
                ..librosa_config()
            },
        ),
    ] {
        let signal = audio(180, config.sample_rate as usize);
        g.throughput(Throughput::Elements(signal.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut ex = FeatureExtractor::new(config.clone());
                let mut track = FeatureTrack::default();
                for block in signal.chunks(config.sample_rate as usize / 2) {
                    ex.push(block, &mut track);
                }
                ex.finish(&mut track);
                track.frames.len() + track.windows.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, stft_mel_mfcc, full);
criterion_main!(benches);
