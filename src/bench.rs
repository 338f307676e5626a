//! Bench: times the pipeline stage by stage on a folder of stems (or on generated stems of a given
//! length and layout), and the same files through ffmpeg for comparison.
//!
//! The streaming stages are run cumulatively, one stem after another on one thread: decode alone;
//! decode + condition; + features; + loudness (the whole streaming pass). Then the full analysis
//! (streaming pass, detectors, report) on a rayon pool of each requested size, and the writing of
//! the reports. Every row gives wall time, audio seconds per wall second (x real time), MB/s read
//! and the peak resident memory of that row (VmHWM, reset before each row where the kernel allows).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::condition::Conditioner;
use crate::decode::BlockReader;
use crate::discover::StemSet;
use crate::features::{FeatureExtractor, FeatureTrack};
use crate::loudness::LoudnessMeter;
use crate::pipeline::AnalyzeOptions;

/// One row of the table.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub name: String,
    pub wall_s: f64,
    pub peak_rss_mb: Option<f64>,
}

/// What a bench run measured.
#[derive(Debug, Clone)]
pub struct BenchResult {
    pub input: String,
    /// Audio seconds of the timeline(s): the length of the film, not summed over stems.
    pub audio_s: f64,
    pub bytes: u64,
    pub files: usize,
    pub rows: Vec<BenchRow>,
    /// True when VmHWM could be reset before each row (else each row's peak includes earlier rows).
    pub peak_per_row: bool,
    pub machine: String,
}

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Rayon pool sizes for the full analysis.
    pub threads: Vec<usize>,
    pub ffmpeg: bool,
    pub analyze: AnalyzeOptions,
    /// Run the cumulative stage rows (decode, condition, ...); the full analysis always runs.
    pub stages: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            threads: vec![1, 2],
            ffmpeg: true,
            analyze: AnalyzeOptions::default(),
            stages: true,
        }
    }
}

/// Peak resident set size of this process (VmHWM), MB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux >= 4.0); false where not allowed.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Upto {
    Decode,
    Condition,
    Features,
    Loudness,
}

/// Streams every stem of `set` one after another through the stages up to `upto`.
fn stream(set: &StemSet, opts: &AnalyzeOptions, upto: Upto) -> crate::Result<()> {
    for stem in &set.stems {
        let source = crate::decode::open_stem(&stem.paths)?;
        let info = source.info().clone();
        let path = stem.paths.first().cloned().unwrap_or_default();
        let mut reader = BlockReader::new(source);
        let mut cond = Conditioner::new(stem.kind, &info.channels, info.sample_rate)?;
        let mut fx = FeatureExtractor::new(opts.features.clone());
        let mut meter = LoudnessMeter::new(&info.channels, info.sample_rate, opts.true_peak)?;
        let mut track = FeatureTrack::default();
        let frames = ((info.sample_rate as f64 * opts.block_s).round() as usize).max(1);
        let (mut block, mut mono) = (Vec::new(), Vec::new());
        loop {
            let n =
                reader
                    .read_block(&mut block, frames)
                    .map_err(|source| crate::Error::Decode {
                        path: path.clone(),
                        source,
                    })?;
            if n == 0 {
                break;
            }
            if upto >= Upto::Condition {
                mono.clear();
                cond.push(&block, &mut mono)?;
            }
            if upto >= Upto::Features {
                fx.push(&mono, &mut track);
            }
            if upto >= Upto::Loudness {
                meter.push(&block)?;
            }
        }
        if upto >= Upto::Features {
            mono.clear();
            cond.finish(&mut mono)?;
            fx.push(&mono, &mut track);
            fx.finish(&mut track);
        }
        std::hint::black_box((&track, meter.finish()));
    }
    Ok(())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}

fn timed<T>(
    name: &str,
    rows: &mut Vec<BenchRow>,
    f: impl FnOnce() -> crate::Result<T>,
) -> crate::Result<T> {
    reset_peak_rss();
    let t = Instant::now();
    let out = f()?;
    rows.push(BenchRow {
        name: name.to_string(),
        wall_s: t.elapsed().as_secs_f64(),
        peak_rss_mb: peak_rss_mb(),
    });
    Ok(out)
}

/// Times the stages on the stem sets (reels) of one title.
pub fn run(input: &str, sets: &[StemSet], opts: &BenchOptions) -> crate::Result<BenchResult> {
    let files: Vec<PathBuf> = sets
        .iter()
        .flat_map(|s| s.stems.iter().flat_map(|st| st.paths.iter().cloned()))
        .collect();
    let bytes = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut rows = Vec::new();
    let peak_per_row = reset_peak_rss();
    let mut audio_s = 0.0;
    if opts.stages {
        for (name, upto) in [
            ("decode", Upto::Decode),
            ("decode+condition", Upto::Condition),
            ("+features", Upto::Features),
            ("+loudness (streaming pass)", Upto::Loudness),
        ] {
            timed(&format!("{name}, 1 thread"), &mut rows, || {
                sets.iter().try_for_each(|s| stream(s, &opts.analyze, upto))
            })?;
        }
    }
    let mut last_reports = Vec::new();
    for &n in &opts.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| crate::Error::Other(format!("cannot start {n} threads: {e}")))?;
        last_reports = timed(
            &format!("analyze, {n} thread{}", if n == 1 { "" } else { "s" }),
            &mut rows,
            || {
                pool.install(|| {
                    sets.iter()
                        .map(|s| crate::pipeline::analyze(s, &opts.analyze))
                        .collect::<crate::Result<Vec<_>>>()
                })
            },
        )?;
    }
    if !last_reports.is_empty() {
        audio_s = last_reports.iter().map(|r| r.duration_s).sum();
        let dir =
            std::env::temp_dir().join(format!("stemscope-bench-reports-{}", std::process::id()));
        timed("write reports", &mut rows, || {
            last_reports.iter().enumerate().try_for_each(|(i, r)| {
                crate::batch::write_reports(r, &dir.join(i.to_string()), &Default::default())
                    .map(|_| ())
            })
        })?;
        let _ = std::fs::remove_dir_all(&dir);
    }
    if opts.ffmpeg {
        for (name, filter) in [
            ("ffmpeg -threads 1 decode", None),
            ("ffmpeg -threads 1 ebur128", Some("ebur128")),
        ] {
            if let Some(s) = ffmpeg_seconds(&files, filter) {
                rows.push(BenchRow {
                    name: name.into(),
                    wall_s: s,
                    peak_rss_mb: None,
                });
            }
        }
    }
    Ok(BenchResult {
        input: input.to_string(),
        audio_s,
        bytes,
        files: files.len(),
        rows,
        peak_per_row,
        machine: machine(),
    })
}

/// Wall seconds for ffmpeg to decode (and optionally filter) each file, one after another; `None`
/// when ffmpeg is not installed or fails.
pub fn ffmpeg_seconds(files: &[PathBuf], filter: Option<&str>) -> Option<f64> {
    let t = Instant::now();
    for f in files {
        let mut cmd = Command::new("ffmpeg");
        cmd.args([
            "-hide_banner",
            "-nostats",
            "-loglevel",
            "error",
            "-threads",
            "1",
            "-i",
        ])
        .arg(f);
        if let Some(af) = filter {
            cmd.args(["-af", af]);
        }
        cmd.args(["-f", "null", "-"]);
        let ok = cmd.output().ok()?.status.success();
        if !ok {
            return None;
        }
    }
    Some(t.elapsed().as_secs_f64())
}

impl BenchResult {
    /// A Markdown table, ready to paste into the README.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{}: {:.1} s of audio ({:.1} min), {} files, {:.1} MB; machine: {}\n\n",
            self.input,
            self.audio_s,
            self.audio_s / 60.0,
            self.files,
            self.bytes as f64 / 1e6,
            self.machine
        );
        s.push_str("| stage | wall s | x real time | MB/s read | peak RSS MB |\n|---|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let xrt = if r.wall_s > 0.0 {
                self.audio_s / r.wall_s
            } else {
                0.0
            };
            let mbs = if r.wall_s > 0.0 {
                self.bytes as f64 / 1e6 / r.wall_s
            } else {
                0.0
            };
            let peak = r
                .peak_rss_mb
                .map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "-".into());
            let mbs = if r.name.starts_with("write") {
                "-".to_string()
            } else {
                format!("{mbs:.0}")
            };
            s.push_str(&format!(
                "| {} | {:.2} | {:.1} | {} | {} |\n",
                r.name, r.wall_s, xrt, mbs, peak
            ));
        }
        if !self.peak_per_row {
            s.push_str("\n(peak RSS could not be reset between rows: each row's figure includes the rows above)\n");
        }
        let get = |p: &str| {
            self.rows
                .iter()
                .find(|r| r.name.starts_with(p))
                .map(|r| r.wall_s)
        };
        if let (Some(a1), Some(ff)) = (get("analyze, 1 thread"), get("ffmpeg -threads 1 decode")) {
            s.push_str(&format!(
                "\nanalyze (1 thread) / ffmpeg decode (1 thread): {:.2}x\n",
                a1 / ff.max(1e-9)
            ));
        }
        if let (Some(a1), Some(a2)) = (get("analyze, 1 thread"), get("analyze, 2 threads")) {
            s.push_str(&format!(
                "2 threads speed-up over 1: {:.2}x\n",
                a1 / a2.max(1e-9)
            ));
        }
        s
    }
}

/// A folder for generated bench stems, removed on drop.
pub struct TempStems {
    pub dir: PathBuf,
    keep: bool,
}

impl TempStems {
    pub fn generate(cfg: &crate::synth::SynthConfig, keep: bool) -> crate::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "stemscope-bench-{}-{}",
            std::process::id(),
            cfg.seed
        ));
        crate::synth::generate(&dir, cfg)?;
        Ok(TempStems { dir, keep })
    }
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempStems {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_memory_is_read_from_proc_and_grows_with_a_large_allocation() {
        let Some(before) = peak_rss_mb() else {
            eprintln!("skipped: no /proc/self/status here");
            return;
        };
        let v = vec![1u8; 64 << 20];
        std::hint::black_box(&v);
        let after = peak_rss_mb().unwrap();
        assert!(after >= before + 50.0, "{before} -> {after}");
    }

    #[test]
    fn the_table_states_speed_against_ffmpeg_and_thread_scaling() {
        let r = BenchResult {
            input: "x".into(),
            audio_s: 600.0,
            bytes: 1_000_000_000,
            files: 3,
            rows: vec![
                BenchRow {
                    name: "analyze, 1 thread".into(),
                    wall_s: 10.0,
                    peak_rss_mb: Some(100.0),
                },
                BenchRow {
                    name: "analyze, 2 threads".into(),
                    wall_s: 5.0,
                    peak_rss_mb: Some(120.0),
                },
                BenchRow {
                    name: "ffmpeg -threads 1 decode".into(),
                    wall_s: 4.0,
                    peak_rss_mb: None,
                },
            ],
            peak_per_row: true,
            machine: "m".into(),
        };
        let t = r.table();
        assert!(
            t.contains("| analyze, 1 thread | 10.00 | 60.0 | 100 | 100 |"),
            "{t}"
        );
        assert!(t.contains("ffmpeg decode (1 thread): 2.50x"));
        assert!(t.contains("speed-up over 1: 2.00x"));
    }
}
