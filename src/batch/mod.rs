//! Batch: every title under a deliverables tree, a bounded number in flight, resumable, shardable.
//!
//! - [`titles`]: a title is a folder that directly holds audio files; nested trees are walked.
//!   `--shard I/N` keeps a fixed 1/N of them (a hash of the title's relative path), so N machines
//!   (a Slurm job array, a Kubernetes Indexed Job) split the work without talking to each other.
//! - [`manifest`]: next to each title's reports, the fingerprint of its inputs; an unchanged title is
//!   skipped on the next run. Reports and manifests are written through a rename, so a run killed
//!   half-way leaves no half-written file, only titles to redo.
//! - [`summary`]: `summary.csv`, `summary.jsonl` and `index.html` for the run, and `merge` of several
//!   shards' summaries.
//!
//! Memory: at most `jobs` titles are analysed at once and each analysis streams, so the batch's
//! memory does not depend on the number or the length of the titles.

pub mod manifest;
pub mod summary;
pub mod titles;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::discover::{DiscoverOptions, StemSet};
use crate::pipeline::AnalyzeOptions;
use crate::report::{Report, ReportOptions};
use manifest::Manifest;
pub use summary::{Status, TitleSummary};
pub use titles::{Shard, Title};

/// Settings of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub out: PathBuf,
    /// Titles analysed at once (each also uses rayon across its stems).
    pub jobs: usize,
    /// Re-analyse titles whose inputs are unchanged.
    pub force: bool,
    pub shard: Option<Shard>,
    pub discover: DiscoverOptions,
    pub analyze: AnalyzeOptions,
    pub report: ReportOptions,
    /// Draw progress bars (only ever on a terminal).
    pub progress: bool,
}

/// What a batch run did.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// One row per title of the shard, in title order.
    pub rows: Vec<TitleSummary>,
    /// The summary files written.
    pub files: [PathBuf; 3],
    pub analysed: usize,
    pub cached: usize,
    pub failed: usize,
    /// Titles under the root outside this shard.
    pub other_shards: usize,
}

/// Analyses one stem set. The real one is [`crate::pipeline::analyze`]; tests use others.
pub type AnalyzeFn<'a> = dyn Fn(&StemSet, &AnalyzeOptions) -> crate::Result<Report> + Sync + 'a;
/// Finds the stem sets of a title folder. The real one is [`crate::discover::discover`].
pub type DiscoverFn<'a> =
    dyn Fn(&Path, &DiscoverOptions) -> crate::Result<Vec<StemSet>> + Sync + 'a;

/// The stages a batch runs for each title.
pub struct Stages<'a> {
    pub discover: &'a DiscoverFn<'a>,
    pub analyze: &'a AnalyzeFn<'a>,
}

fn real_discover(dir: &Path, opts: &DiscoverOptions) -> crate::Result<Vec<StemSet>> {
    Ok(crate::discover::discover(dir, opts)?)
}

impl Stages<'static> {
    /// Discovery and analysis as `stemscope analyze` does them.
    pub fn real() -> Self {
        Stages {
            discover: &real_discover,
            analyze: &crate::pipeline::analyze,
        }
    }
}

/// Writes a reel's reports (report.json, cue sheet, scene table, HTML page) into `dir`; returns the
/// path of `report.json`.
pub fn write_reports(report: &Report, dir: &Path, opts: &ReportOptions) -> crate::Result<PathBuf> {
    let paths = crate::report::write_all(report, dir, opts)?;
    Ok(paths
        .into_iter()
        .next()
        .unwrap_or_else(|| dir.join("report.json")))
}

fn options_key(opts: &BatchOptions) -> String {
    let a = &opts.analyze;
    format!(
        "true_peak={} block_s={} features={:?} scenes={:?} cues={:?} report={:?} join_reels={} allow_missing={}",
        a.true_peak,
        a.block_s,
        a.features,
        a.scenes,
        a.cues,
        opts.report,
        opts.discover.join_reels,
        opts.discover.allow_missing
    )
}

/// Expected audio seconds of a title (for progress), from the stems' headers; 0 when unknown.
fn expected_seconds(sets: &[StemSet]) -> f64 {
    sets.iter()
        .map(|set| {
            set.stems
                .iter()
                .filter_map(|s| s.paths.first())
                .filter_map(|p| crate::decode::open(p).ok())
                .filter_map(|src| src.info().duration_s())
                .fold(0.0, f64::max)
        })
        .sum()
}

struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    started: Instant,
    /// Milliseconds of audio finished in completed titles.
    done_ms: AtomicU64,
    active: Mutex<Vec<(ProgressBar, Arc<AtomicU64>)>>,
}

impl Progress {
    fn new(enabled: bool, titles: usize, total_s: f64) -> Progress {
        let target = if enabled && std::io::stdout().is_terminal() {
            ProgressDrawTarget::stderr_with_hz(4)
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new((total_s * 1000.0) as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30.cyan/blue}] {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.set_prefix(format!("0/{titles} titles"));
        Progress {
            multi,
            overall,
            started: Instant::now(),
            done_ms: AtomicU64::new(0),
            active: Mutex::new(Vec::new()),
        }
    }

    fn start(&self, key: &str, expected_s: f64) -> (ProgressBar, Arc<AtomicU64>) {
        let bar = self
            .multi
            .add(ProgressBar::new((expected_s * 1000.0).max(1.0) as u64));
        bar.set_style(
            ProgressStyle::with_template("  {prefix:40!} [{bar:20}] {percent:>3}% {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(key.to_string());
        let counter = Arc::new(AtomicU64::new(0));
        if let Ok(mut a) = self.active.lock() {
            a.push((bar.clone(), counter.clone()));
        }
        (bar, counter)
    }

    fn finish(&self, bar: &ProgressBar, counter: &Arc<AtomicU64>, done: usize, total: usize) {
        self.done_ms
            .fetch_add(counter.load(Ordering::Relaxed), Ordering::Relaxed);
        if let Ok(mut a) = self.active.lock() {
            a.retain(|(_, c)| !Arc::ptr_eq(c, counter));
        }
        self.multi.remove(bar);
        self.overall.set_prefix(format!("{done}/{total} titles"));
        self.refresh();
    }

    /// Moves the bars to the counters' values; audio hours and speed in the overall message.
    fn refresh(&self) {
        let mut ms = self.done_ms.load(Ordering::Relaxed);
        if let Ok(a) = self.active.lock() {
            for (bar, c) in a.iter() {
                let v = c.load(Ordering::Relaxed);
                bar.set_position(v);
                ms += v;
            }
        }
        self.overall.set_position(ms);
        let wall = self.started.elapsed().as_secs_f64().max(1e-3);
        let audio_s = ms as f64 / 1000.0;
        self.overall.set_message(format!(
            "{:.2} h audio, {:.1}x real time",
            audio_s / 3600.0,
            audio_s / wall
        ));
    }

    fn println(&self, line: &str) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }
}

/// Analyses every title of `titles` that is in the shard, `opts.jobs` at a time, and writes the
/// summary. Failed titles are recorded with their error and do not stop the others.
pub fn run(titles: &[Title], opts: &BatchOptions, stages: &Stages) -> crate::Result<BatchOutcome> {
    std::fs::create_dir_all(&opts.out).map_err(|e| crate::Error::io(&opts.out, e))?;
    let mine: Vec<&Title> = titles
        .iter()
        .filter(|t| opts.shard.is_none_or(|s| s.contains(&t.key)))
        .collect();
    let other_shards = titles.len() - mine.len();
    let key = options_key(opts);

    // Plan: which titles are unchanged since their last report.
    struct Job<'t> {
        title: &'t Title,
        inputs: Result<Vec<manifest::InputFile>, String>,
        cached: Option<TitleSummary>,
    }
    let jobs: Vec<Job> = mine
        .iter()
        .map(|t| {
            let inputs = manifest::fingerprint(&t.dir).map_err(|e| e.to_string());
            let cached = match (&inputs, opts.force) {
                (Ok(inputs), false) => manifest::load(&opts.out.join(&t.key)).and_then(|m| {
                    (m.summary.status == Status::Ok
                        && &m.inputs == inputs
                        && m.options == key
                        && m.stemscope_version == env!("CARGO_PKG_VERSION"))
                    .then_some(TitleSummary {
                        cached: true,
                        ..m.summary
                    })
                }),
                _ => None,
            };
            Job {
                title: t,
                inputs,
                cached,
            }
        })
        .collect();

    let to_run: Vec<usize> = (0..jobs.len())
        .filter(|&i| jobs[i].cached.is_none())
        .collect();
    let sets: Vec<crate::Result<Vec<StemSet>>> = to_run
        .iter()
        .map(|&i| (stages.discover)(&jobs[i].title.dir, &opts.discover))
        .collect();
    let total_s: f64 = sets
        .iter()
        .filter_map(|s| s.as_ref().ok())
        .map(|s| expected_seconds(s))
        .sum();
    let progress = Progress::new(opts.progress, to_run.len(), total_s);

    let results: Mutex<Vec<Option<TitleSummary>>> = Mutex::new(vec![None; jobs.len()]);
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let stop_ticker = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop_ticker.load(Ordering::Relaxed) {
                progress.refresh();
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        let workers: Vec<_> = (0..opts.jobs.clamp(1, 64))
            .map(|_| {
                s.spawn(|| {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = to_run.get(n) else { break };
                        let job = &jobs[i];
                        let expected = sets[n].as_ref().map(|s| expected_seconds(s)).unwrap_or(0.0);
                        let (bar, counter) = progress.start(&job.title.key, expected);
                        let row = analyse_title(
                            job.title,
                            &job.inputs,
                            &sets[n],
                            opts,
                            &key,
                            stages.analyze,
                            &counter,
                        );
                        if let (Status::Failed, Some(e)) = (row.status, &row.error) {
                            progress.println(&format!("failed: {}: {e}", job.title.key));
                        }
                        let done = finished.fetch_add(1, Ordering::Relaxed) + 1;
                        progress.finish(&bar, &counter, done, to_run.len());
                        if let Ok(mut r) = results.lock() {
                            r[i] = Some(row);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        stop_ticker.store(true, Ordering::Relaxed);
    });
    progress.overall.finish_and_clear();

    let mut results = results.into_inner().unwrap_or_default();
    let rows: Vec<TitleSummary> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            j.cached
                .clone()
                .or_else(|| results.get_mut(i).and_then(Option::take))
                .unwrap_or_else(|| {
                    TitleSummary::failed(&j.title.key, "not analysed (worker stopped)".into())
                })
        })
        .collect();
    let label = opts.shard.map(|s| s.label());
    let files = summary::write(&opts.out, label.as_deref(), &rows)?;
    let failed = rows.iter().filter(|r| r.status == Status::Failed).count();
    let cached = rows.iter().filter(|r| r.cached).count();
    Ok(BatchOutcome {
        analysed: rows.len() - failed - cached,
        cached,
        failed,
        rows,
        files,
        other_shards,
    })
}

/// Analyses the reels of one title and writes their reports and the title's manifest. Never fails:
/// an error (or a panic in an analysis stage) becomes a failed row.
fn analyse_title(
    title: &Title,
    inputs: &Result<Vec<manifest::InputFile>, String>,
    sets: &crate::Result<Vec<StemSet>>,
    opts: &BatchOptions,
    key: &str,
    analyze: &AnalyzeFn,
    counter: &Arc<AtomicU64>,
) -> TitleSummary {
    let started = Instant::now();
    let out_dir = opts.out.join(&title.key);
    let inputs = match inputs {
        Ok(i) => i,
        Err(e) => return TitleSummary::failed(&title.key, e.clone()),
    };
    let sets = match sets {
        Ok(s) => s,
        Err(e) => return TitleSummary::failed(&title.key, e.to_string()),
    };
    // A failed or changed title must not keep vouching for old reports.
    let _ = std::fs::remove_file(out_dir.join(manifest::MANIFEST_NAME));
    let mut aopts = opts.analyze.clone();
    aopts.progress = Some(counter.clone());
    let many = sets.len() > 1;
    let mut reports = Vec::new();
    for (n, set) in sets.iter().enumerate() {
        let reel_dir = match (&set.reel, many) {
            (Some(reel), true) => out_dir.join(reel),
            (None, true) => out_dir.join(format!("reel{}", n + 1)),
            _ => out_dir.clone(),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            analyze(set, &aopts)
                .and_then(|r| write_reports(&r, &reel_dir, &opts.report).map(|p| (r, p)))
        }));
        match result {
            Ok(Ok((report, path))) => {
                let rel = summary::relative_to(&path, &opts.out)
                    .to_string_lossy()
                    .replace('\\', "/");
                reports.push((report, rel));
            }
            Ok(Err(e)) => return failed_reel(title, set, e.to_string()),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown".into());
                return failed_reel(title, set, format!("internal error (panic): {msg}"));
            }
        }
    }
    let mut row = TitleSummary::from_reports(&title.key, &reports);
    row.elapsed_s = started.elapsed().as_secs_f64();
    let m = Manifest {
        stemscope_version: env!("CARGO_PKG_VERSION").to_string(),
        options: key.to_string(),
        inputs: inputs.clone(),
        summary: row.clone(),
    };
    if let Err(e) = manifest::store(&out_dir, &m) {
        return TitleSummary::failed(&title.key, e.to_string());
    }
    row
}

fn failed_reel(title: &Title, set: &StemSet, error: String) -> TitleSummary {
    let e = match &set.reel {
        Some(reel) => format!("reel {reel}: {error}"),
        None => error,
    };
    TitleSummary::failed(&title.key, e)
}

#[cfg(test)]
mod tests;
