//! The `stemscope` command line: a thin layer over the library. Errors are reported with the file
//! they concern; exit code 1 for failed work, 2 for usage errors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use stemscope::discover::{DiscoverOptions, StemFiles, StemKind, StemSet};
use stemscope::pipeline::{self, AnalyzeOptions};
use stemscope::report::{self, CueNumbering, DurationRounding, ReportOptions};
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(a) => analyze(a).context("analyze"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stemscope: {e:#}");
            ExitCode::from(1)
        }
    }
}
