//! Times the feature stage alone on a WAV file already at the analysis rate (the file is read into
//! memory first, so decoding is not timed). For the feature-speed figures in docs/measurements.md
//! ("Feature engine speed").
//!
//! ```text
//! cargo run --release --example feature_speed -- FILE.wav [default|librosa|librosa-only] [repeats]
//! RAYON_NUM_THREADS=1 cargo run --release --example feature_speed -- /tmp/ten_16k.wav default
//! ```
//! `default` is FeatureConfig::default() (16 kHz, 1024/160, 64 mel), every feature; `librosa` is
//! librosa's defaults (22.05 kHz, 2048/512, 128 mel, 20 MFCC) for an equal-frame-count
//! comparison, still with every feature (contrast, pitch, peakiness, texture windows...);
//! `librosa-only` is the same configuration computing only what
//! `tools/reference/librosa_speed.py` computes ([`FeatureSet::Librosa`]): the like-for-like ratio.
//!
//! End to end (decode + downmix/resample + features, streaming in 0.5 s blocks, as the pipeline):
//! ```text
//! cargo run --release --example feature_speed -- --e2e FILE.wav [repeats]
//! ```

use std::time::Instant;

use stemscope::condition::Conditioner;
use stemscope::decode::{self, BlockReader};
use stemscope::discover::StemKind;
use stemscope::features::{FeatureConfig, FeatureExtractor, FeatureSet, FeatureTrack};

fn end_to_end(path: &str, repeats: usize) -> anyhow::Result<()> {
    let mut best = f64::INFINITY;
    let (mut audio_s, mut frames, mut channels) = (0.0, 0, 0);
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        let src = decode::open(path.as_ref())?;
        let info = src.info().clone();
        channels = info.channel_count();
        let mut reader = BlockReader::new(src);
        let mut cond = Conditioner::new(StemKind::Music, &info.channels, info.sample_rate)?;
        let mut ex = FeatureExtractor::new(FeatureConfig::default());
        let mut track = FeatureTrack::default();
        let (mut block, mut mono) = (Vec::new(), Vec::new());
        let mut read = 0u64;
        loop {
            let n = reader.read_block(&mut block, info.sample_rate as usize / 2)?;
            if n == 0 {
                break;
            }
            read += n as u64;
            mono.clear();
            cond.push(&block, &mut mono)?;
            ex.push(&mono, &mut track);
        }
        mono.clear();
        cond.finish(&mut mono)?;
        ex.push(&mono, &mut track);
        ex.finish(&mut track);
        best = best.min(started.elapsed().as_secs_f64());
        audio_s = read as f64 / f64::from(info.sample_rate);
        frames = track.frames.len();
    }
    println!(
        "{path}: end to end (decode + condition + features), {channels} ch, {audio_s:.1} s of audio, \
         {frames} frames, {} rayon threads: best of {repeats} {best:.3} s = {:.0}x real time",
        rayon::current_num_threads(),
        audio_s / best
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--e2e") {
        let path = args
            .get(2)
            .ok_or_else(|| anyhow::anyhow!("usage: --e2e FILE [repeats]"))?;
        return end_to_end(path, args.get(3).map_or(Ok(3), |s| s.parse())?);
    }
    let path = args.get(1).ok_or_else(|| {
        anyhow::anyhow!("usage: FILE.wav [default|librosa|librosa-only] [repeats]")
    })?;
    let preset = args.get(2).map_or("default", String::as_str);
    let repeats: usize = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect();
    let librosa = FeatureConfig::librosa();
    let config = match preset {
        "default" => FeatureConfig::default(),
        "librosa" => librosa,
        "librosa-only" => FeatureConfig {
            set: FeatureSet::Librosa,
            ..librosa
        },
        other => anyhow::bail!("unknown preset {other}: default, librosa or librosa-only"),
    };
    anyhow::ensure!(
        spec.sample_rate == config.sample_rate,
        "{path}: {} Hz, the {preset} preset needs {} Hz",
        spec.sample_rate,
        config.sample_rate
    );
    let audio_s = mono.len() as f64 / spec.sample_rate as f64;
    let mut best = f64::INFINITY;
    let mut track = FeatureTrack::default();
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        let mut ex = FeatureExtractor::new(config.clone());
        track = FeatureTrack::default();
        // Half-second blocks, like the pipeline.
        for block in mono.chunks(spec.sample_rate as usize / 2) {
            ex.push(block, &mut track);
        }
        ex.finish(&mut track);
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "{path}: preset {preset}, {audio_s:.1} s of audio, {} frames, {} windows, {} rayon threads: \
         best of {repeats} {best:.3} s = {:.0}x real time",
        track.frames.len(),
        track.windows.len(),
        rayon::current_num_threads(),
        audio_s / best
    );
    Ok(())
}
