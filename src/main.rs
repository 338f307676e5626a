//! The `stemscope` command line: a thin layer over the library. Errors are reported with the file
//! they concern; exit code 1 for failed work, 2 for usage errors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use stemscope::batch::{self, BatchOptions, Shard, Stages};
use stemscope::bench::{self, BenchOptions};
use stemscope::discover::{DiscoverOptions, StemFiles, StemKind, StemSet};
use stemscope::pipeline::{self, AnalyzeOptions};
use stemscope::report::{self, CueNumbering, DurationRounding, ReportOptions};
use stemscope::synth::{self, Layout, SynthConfig};
use stemscope::timeline::scene_file::SceneFile;
use stemscope::timeline::scenes::SceneOptions;
use stemscope::timeline::timecode::FrameRate;

#[derive(Parser)]
#[command(
    name = "stemscope",
    version,
    about = "What the music does against dialogue and effects, from a film's DX/MX/FX stems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse the stems of one title (a folder of stems, or explicit --dx/--mx/--fx files).
    Analyze(AnalyzeArgs),
    /// Retrain the sung-vocal model from labelled folders (folder layout: see models/README.md).
    Train(TrainArgs),
    /// Evaluate the sung-vocal model on a labelled folder: frame-level voice F1, cue song/score accuracy.
    Eval(EvalArgs),
    /// Analyse every title (folder of stems) under a tree, resumably, optionally one shard of it.
    Batch(BatchArgs),
    /// Combine the summaries of several batch outputs or shards into one summary and index.
    Merge(MergeArgs),
    /// Time the pipeline stage by stage on a folder, or on generated stems.
    Bench(BenchArgs),
    /// Generate a synthetic title: film-like DX/MX/FX stems and a truth.json.
    Demo(DemoArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// Labelled folders (each with a MANIFEST.tsv), e.g. ../shared/corpus /tmp/stemscope-train.
    #[arg(required = true)]
    data: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(short, long, default_value = "models/vocal-v1.json")]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cross-validation folds (grouped by source recording); 0 skips cross-validation.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Hidden units per layer, comma-separated (0 = logistic regression).
    #[arg(long, value_delimiter = ',', default_value = "64")]
    hidden: Vec<usize>,
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// L2 weight decay.
    #[arg(long, default_value_t = 1e-3)]
    l2: f32,
    /// Windows either side averaged into the context half of the model input.
    #[arg(long, default_value_t = 4)]
    context: usize,
    /// Mixtures made per isolated voice (scored in cross-validation).
    #[arg(long, default_value_t = 6)]
    mixes: usize,
    /// Extra training-only mixtures per isolated voice, pitch-shifted (never scored).
    #[arg(long, default_value_t = 0)]
    shifted_mixes: usize,
    /// Largest pitch shift of those mixtures, semitones either way.
    #[arg(long, default_value_t = 4.0)]
    max_shift_st: f64,
    /// Texture features left out of the model: names starting with one of these prefixes
    /// (comma-separated; "none" keeps every feature). By default the mean MFCCs (they describe
    /// the singer, not the singing) and the pitch-class profile (read by cue splits; it did not
    /// help this model) are left out, which gives the shipped model's 91 inputs.
    #[arg(long, value_delimiter = ',', default_value = "mfcc_mean_,chroma_")]
    drop_features: Vec<String>,
    /// Longest excerpt read per file, seconds.
    #[arg(long, default_value_t = 40.0)]
    max_item_s: f64,
    /// Train on non-commercial / research-only items too (never for the shipped model).
    #[arg(long)]
    allow_restricted: bool,
    /// Files whose path contains one of these strings (comma-separated) are scored in
    /// cross-validation but never trained on: what a model without them gets on the same examples
    /// (an A/B of new training data).
    #[arg(long, value_delimiter = ',')]
    eval_only: Vec<String>,
    /// Also write the examples and their features under this path prefix (PREFIX.json,
    /// PREFIX.windows.f32, PREFIX.frames.f32), for analysis outside stemscope.
    #[arg(long, value_name = "PREFIX")]
    dump: Option<PathBuf>,
    /// Also write every cross-validated cue (truth, prediction, seconds of voice) to this TSV file.
    #[arg(long, value_name = "FILE")]
    cues_tsv: Option<PathBuf>,
}

#[derive(Args)]
struct EvalArgs {
    /// Labelled folder (with a MANIFEST.tsv).
    data: PathBuf,
    /// Model file (default: the model built into this binary).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Also lay each isolated voice over this many accompaniments of the folder.
    #[arg(long, default_value_t = 0)]
    mixes: usize,
    /// Longest excerpt read per file, seconds.
    #[arg(long, default_value_t = 600.0)]
    max_item_s: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn train(a: TrainArgs) -> anyhow::Result<()> {
    use stemscope::model::{TrainOptions, dataset::DatasetOptions, train::TrainConfig};
    let opts = TrainOptions {
        folders: a.data.clone(),
        dataset: DatasetOptions {
            seed: a.seed,
            folds: a.folds.max(1),
            max_item_s: a.max_item_s,
            allow_restricted: a.allow_restricted,
            eval_only: a
                .eval_only
                .iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect(),
            mixes_per_voice: a.mixes,
            shifted_mixes_per_voice: a.shifted_mixes,
            max_shift_st: a.max_shift_st,
            ..DatasetOptions::default()
        },
        train: TrainConfig {
            hidden: a.hidden.iter().copied().filter(|&h| h > 0).collect(),
            epochs: a.epochs,
            l2: a.l2,
            seed: a.seed,
            ..TrainConfig::default()
        },
        command: std::env::args().collect::<Vec<_>>().join(" "),
        cross_validate: a.folds > 0,
        dump: a.dump.clone(),
        drop_features: a
            .drop_features
            .iter()
            .filter(|d| d.as_str() != "none" && !d.is_empty())
            .cloned()
            .collect(),
        context_windows: a.context,
        ..TrainOptions::default()
    };
    let outcome = stemscope::model::train_from_folders(&opts)?;
    for s in &outcome.skipped {
        eprintln!("skipped: {s}");
    }
    if let Some(cv) = &outcome.cross_validation {
        println!(
            "grouped cross-validation ({} folds):\n{}",
            a.folds,
            cv.summary()
        );
        if let Some(path) = &a.cues_tsv {
            let file = std::fs::File::create(path)
                .with_context(|| format!("{}: cannot create the cue table", path.display()))?;
            cv.write_cues_tsv(std::io::BufWriter::new(file))
                .with_context(|| format!("{}: cannot write the cue table", path.display()))?;
            println!("wrote {} ({} cues)", path.display(), cv.cues.len());
        }
    }
    outcome.model.save(&a.out)?;
    println!(
        "wrote {} ({} examples, {} windows)",
        a.out.display(),
        outcome.model.training.examples,
        outcome.model.training.windows
    );
    Ok(())
}

fn eval(a: EvalArgs) -> anyhow::Result<()> {
    use stemscope::model::{VocalModel, dataset::DatasetOptions};
    let owned;
    let model = match &a.model {
        Some(p) => {
            owned = VocalModel::load(p)?;
            &owned
        }
        None => VocalModel::embedded()?,
    };
    let opts = DatasetOptions {
        seed: a.seed,
        folds: 1,
        max_item_s: a.max_item_s,
        offset_s: 0.0,
        levels: 1,
        mixes_per_voice: a.mixes,
        mixes_per_speech: 0,
        keep_level: true,
        ..DatasetOptions::default()
    };
    let (report, skipped) = stemscope::model::evaluate_folder(model, &a.data, &opts)?;
    for s in &skipped {
        eprintln!("skipped: {s}");
    }
    println!(
        "model {} on {}:\n{}",
        model.name,
        a.data.display(),
        report.summary()
    );
    Ok(())
}

#[derive(Args)]
struct BatchArgs {
    /// Root of the tree of titles.
    root: PathBuf,
    /// Output folder: one folder per title, summary.csv, summary.jsonl, index.html.
    #[arg(short, long)]
    out: PathBuf,
    /// Titles analysed at once.
    #[arg(short, long, default_value_t = 1)]
    jobs: usize,
    /// Re-analyse titles whose inputs have not changed since their last report.
    #[arg(long)]
    force: bool,
    /// Process one shard: I/N (0 <= I < N), `auto` (Slurm job array) or `auto/N` (Kubernetes
    /// Indexed Job: JOB_COMPLETION_INDEX, N = completions).
    #[arg(long)]
    shard: Option<String>,
    /// No progress bars.
    #[arg(short, long)]
    quiet: bool,
    /// Analyse all reels of a title as one timeline.
    #[arg(long)]
    join_reels: bool,
    /// Analyse dialogue/effects even when the music stem is missing.
    #[arg(long)]
    allow_missing: bool,
    /// Measure true peak (4x oversampling) on every stem.
    #[arg(long)]
    true_peak: bool,
    /// Split continuous music into two cues only where the change is this many times clearer than
    /// the split rule asks (1: as measured; 1.3-1.5 for score that changes a lot within a cue).
    #[arg(long, default_value_t = 1.0, value_parser = segue_margin, value_name = "M")]
    segue_margin: f64,
}

#[derive(Args)]
struct MergeArgs {
    /// Batch output folders (holding summary.jsonl or summary.shard-*.jsonl).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Where to write the merged summary and index (default: the first input).
    #[arg(short, long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    /// Folder of stems of one title (default: generate stems, see --minutes).
    dir: Option<PathBuf>,
    /// Length of the generated stems, minutes.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Layout of the generated stems: mono, stereo or 5.1.
    #[arg(long, default_value = "5.1")]
    layout: Layout,
    /// Bits per sample of the generated stems (16 or 24).
    #[arg(long, default_value_t = 24)]
    bits: u16,
    /// Thread counts for the full analysis, e.g. 1,2.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Only the full analysis rows (skip decode / condition / features / loudness alone).
    #[arg(long)]
    no_stages: bool,
    /// Skip the ffmpeg comparison.
    #[arg(long)]
    no_ffmpeg: bool,
    /// Keep the generated stems (their folder is printed).
    #[arg(long)]
    keep: bool,
}

#[derive(Args)]
struct DemoArgs {
    /// Output folder.
    out: PathBuf,
    /// Length in seconds (the default makes the demo title of data/demo).
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Length in minutes (overrides --seconds).
    #[arg(long)]
    minutes: Option<f64>,
    /// mono, stereo or 5.1.
    #[arg(long, default_value = "mono")]
    layout: Layout,
    /// 16 or 24.
    #[arg(long, default_value_t = 16)]
    bits: u16,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// File name prefix (TITLE_DX.wav, ...); default: the output folder's name in upper case.
    #[arg(long)]
    title: Option<String>,
}

#[derive(Args)]
struct AnalyzeArgs {
    /// Folder holding the stems of one title.
    dir: Option<PathBuf>,
    /// Output folder (report.json and friends).
    #[arg(short, long, default_value = "out")]
    out: PathBuf,
    /// Dialogue stem file (repeat for one mono file per channel).
    #[arg(long)]
    dx: Vec<PathBuf>,
    /// Music stem file (repeat for one mono file per channel).
    #[arg(long)]
    mx: Vec<PathBuf>,
    /// Effects stem file (repeat for one mono file per channel).
    #[arg(long)]
    fx: Vec<PathBuf>,
    /// Printmaster / full mix file (repeat for one mono file per channel).
    #[arg(long)]
    pm: Vec<PathBuf>,
    /// Analyse all reels as one timeline, one after another.
    #[arg(long)]
    join_reels: bool,
    /// Analyse dialogue/effects even when the music stem is missing.
    #[arg(long)]
    allow_missing: bool,
    /// Measure true peak (4x oversampling) on every stem.
    #[arg(long)]
    true_peak: bool,
    /// Scenes to report on instead of the automatic segmentation: a CSV (start,end[,name]), a CMX3600
    /// EDL (record in/out of each event) or a marker list (Pro Tools / Avid marker text export).
    #[arg(long, value_name = "FILE")]
    scenes: Option<PathBuf>,
    /// Frame rate of the timecodes read and written: 23.976, 24, 25, 29.97 (drop-frame), 29.97ndf, 30.
    #[arg(long, default_value = "24")]
    fps: FrameRate,
    /// Cue-sheet durations: round up to the next whole second, or to the nearest.
    #[arg(long, default_value = "up", value_name = "up|nearest")]
    cue_rounding: DurationRounding,
    /// Cue-sheet numbers: auto (1M1 style when the reel has a number), reel (always 1M1), plain (1, 2).
    #[arg(long, default_value = "auto", value_name = "auto|reel|plain")]
    cue_numbers: CueNumbering,
    /// Split continuous music into two cues only where the change is this many times clearer than
    /// the split rule asks (1: as measured; 1.3-1.5 for score that changes a lot within a cue; each
    /// split's margin is in report.json, `segues[]`).
    #[arg(long, default_value_t = 1.0, value_parser = segue_margin, value_name = "M")]
    segue_margin: f64,
}

/// `--segue-margin`: a finite number, 1 or more.
fn segue_margin(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(m) if m.is_finite() && m >= 1.0 => Ok(m),
        _ => Err(format!(
            "`{s}` is not a margin: give a number of 1 or more (1 splits as measured, 1.5 only clear changes)"
        )),
    }
}

/// The cue detector's settings with the margin a split needs.
fn cue_config(segue_margin: f64) -> stemscope::detect::music::CueConfig {
    let mut cfg = stemscope::detect::music::CueConfig::default();
    cfg.novelty.segue_margin = segue_margin;
    cfg
}

fn explicit_set(a: &AnalyzeArgs) -> Option<StemSet> {
    let mut stems = Vec::new();
    for (kind, paths) in [
        (StemKind::Dialogue, &a.dx),
        (StemKind::Music, &a.mx),
        (StemKind::Effects, &a.fx),
        (StemKind::Printmaster, &a.pm),
    ] {
        if !paths.is_empty() {
            stems.push(StemFiles {
                kind,
                paths: paths.clone(),
            });
        }
    }
    if stems.is_empty() {
        return None;
    }
    let title = stems[0].paths[0]
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "title".into());
    Some(StemSet {
        title,
        reel: None,
        stems,
        joined_reels: Vec::new(),
    })
}

fn analyze(a: AnalyzeArgs) -> anyhow::Result<()> {
    let sets = match (explicit_set(&a), &a.dir) {
        (Some(set), _) => vec![set],
        (None, Some(dir)) => stemscope::discover::discover(
            dir,
            &DiscoverOptions {
                join_reels: a.join_reels,
                allow_missing: a.allow_missing,
            },
        )?,
        (None, None) => anyhow::bail!("give a folder of stems, or --dx/--mx/--fx files"),
    };
    let scene_file = match &a.scenes {
        Some(path) => Some(SceneFile::read(path, a.fps)?),
        None => None,
    };
    let opts = AnalyzeOptions {
        true_peak: a.true_peak,
        scenes: SceneOptions {
            fps: a.fps,
            file: scene_file,
            ..SceneOptions::default()
        },
        cues: cue_config(a.segue_margin),
        ..AnalyzeOptions::default()
    };
    let report_opts = ReportOptions {
        fps: a.fps,
        rounding: a.cue_rounding,
        numbering: a.cue_numbers,
        ..ReportOptions::default()
    };
    let many = sets.len() > 1;
    let mut failed = 0;
    for set in &sets {
        let out = match (&set.reel, many) {
            (Some(reel), true) => a.out.join(reel),
            _ => a.out.clone(),
        };
        match pipeline::analyze(set, &opts)
            .and_then(|r| report::write_all(&r, &out, &report_opts).map(|p| (r, p)))
        {
            Ok((r, paths)) => {
                println!("{}", report::summary(&r));
                for path in paths {
                    println!("  wrote {}", path.display());
                }
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} reel(s) failed", sets.len());
    }
    Ok(())
}

fn batch(a: BatchArgs) -> anyhow::Result<bool> {
    let shard = match &a.shard {
        Some(spec) => {
            Some(Shard::parse(spec, &|k| std::env::var(k).ok()).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let titles = batch::titles::find_titles(&a.root, std::slice::from_ref(&a.out))?;
    if titles.is_empty() {
        anyhow::bail!("{}: no folder holding audio files found", a.root.display());
    }
    let opts = BatchOptions {
        out: a.out.clone(),
        jobs: a.jobs.max(1),
        force: a.force,
        shard,
        discover: DiscoverOptions {
            join_reels: a.join_reels,
            allow_missing: a.allow_missing,
        },
        analyze: AnalyzeOptions {
            true_peak: a.true_peak,
            cues: cue_config(a.segue_margin),
            ..AnalyzeOptions::default()
        },
        report: ReportOptions::default(),
        progress: !a.quiet,
    };
    let o = batch::run(&titles, &opts, &Stages::real())?;
    let shard_note = match shard {
        Some(s) => format!(
            " (shard {}/{}; {} titles in other shards)",
            s.index, s.count, o.other_shards
        ),
        None => String::new(),
    };
    println!(
        "{} titles{shard_note}: {} analysed, {} unchanged, {} failed",
        o.rows.len(),
        o.analysed,
        o.cached,
        o.failed
    );
    for r in o.rows.iter().filter(|r| r.error.is_some()) {
        println!(
            "  failed: {}: {}",
            r.title,
            r.error.as_deref().unwrap_or("")
        );
    }
    for f in &o.files {
        println!("  wrote {}", f.display());
    }
    Ok(o.failed == 0)
}

fn merge(a: MergeArgs) -> anyhow::Result<bool> {
    let dest = a.out.clone().unwrap_or_else(|| a.inputs[0].clone());
    let m = batch::summary::merge(&a.inputs, &dest)?;
    let failed = m
        .rows
        .iter()
        .filter(|r| r.status == batch::Status::Failed)
        .count();
    println!(
        "{} titles from {} summary file(s): {} failed",
        m.rows.len(),
        m.files.len(),
        failed
    );
    for (i, n) in &m.missing_shards {
        println!("  missing: shard {i} of {n}");
    }
    for d in &m.duplicates {
        println!("  title seen twice (kept the later): {d}");
    }
    println!("  wrote {}", dest.join("summary.jsonl").display());
    Ok(failed == 0 && m.missing_shards.is_empty())
}

fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let mut _temp = None;
    let (dir, label) = match &a.dir {
        Some(d) => (d.clone(), d.display().to_string()),
        None => {
            let cfg = SynthConfig {
                seconds: a.minutes * 60.0,
                layout: a.layout,
                bits: a.bits,
                title: "BENCH".into(),
                ..SynthConfig::default()
            };
            eprintln!(
                "generating {} min of {} {}-bit stems...",
                a.minutes,
                a.layout.name(),
                a.bits
            );
            let t = bench::TempStems::generate(&cfg, a.keep)?;
            if a.keep {
                eprintln!("stems in {}", t.path().display());
            }
            let d = t.path().to_path_buf();
            _temp = Some(t);
            (
                d,
                format!(
                    "generated {} min {} 48 kHz {}-bit DX/MX/FX",
                    a.minutes,
                    a.layout.name(),
                    a.bits
                ),
            )
        }
    };
    let sets = stemscope::discover::discover(&dir, &DiscoverOptions::default())?;
    let opts = BenchOptions {
        threads: a.threads.clone(),
        ffmpeg: !a.no_ffmpeg,
        stages: !a.no_stages,
        ..BenchOptions::default()
    };
    let r = bench::run(&label, &sets, &opts)?;
    println!("{}", r.table());
    Ok(())
}

fn demo(a: DemoArgs) -> anyhow::Result<()> {
    let title = a.title.clone().unwrap_or_else(|| {
        a.out
            .file_name()
            .map(|n| n.to_string_lossy().to_uppercase())
            .unwrap_or_else(|| "DEMO".into())
    });
    let cfg = SynthConfig {
        seconds: a.minutes.map(|m| m * 60.0).unwrap_or(a.seconds),
        layout: a.layout,
        bits: a.bits,
        seed: a.seed,
        title,
        ..SynthConfig::default()
    };
    let o = synth::generate(&a.out, &cfg)?;
    for p in o.stems.iter().chain(std::iter::once(&o.truth)) {
        println!("wrote {}", p.display());
    }
    println!(
        "{:.1} s, {:.1} MB of audio",
        o.frames as f64 / cfg.sample_rate as f64,
        o.bytes as f64 / 1e6
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(a) => analyze(a).context("analyze").map(|()| true),
        Command::Train(a) => train(a).context("train").map(|()| true),
        Command::Eval(a) => eval(a).context("eval").map(|()| true),
        Command::Batch(a) => batch(a).context("batch"),
        Command::Merge(a) => merge(a).context("merge"),
        Command::Bench(a) => bench(a).context("bench").map(|()| true),
        Command::Demo(a) => demo(a).context("demo").map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("stemscope: {e:#}");
            ExitCode::from(1)
        }
    }
}
