//! `batch` end to end with the real stages: generated titles in a nested tree, one corrupt title, a
//! resumed second run, and two shards merged.

use std::path::Path;

use stemscope::batch::{self, BatchOptions, Shard, Stages, Status};
use stemscope::discover::DiscoverOptions;
use stemscope::pipeline::AnalyzeOptions;
use stemscope::report::ReportOptions;
use stemscope::synth::{Layout, SynthConfig};

fn title(dir: &Path, name: &str, seed: u64) {
    let cfg = SynthConfig {
        seconds: 6.0,
        layout: Layout::Mono,
        bits: 16,
        seed,
        title: name.into(),
        ..SynthConfig::default()
    };
    stemscope::synth::generate(dir, &cfg).unwrap();
}

fn options(out: &Path) -> BatchOptions {
    BatchOptions {
        out: out.to_path_buf(),
        jobs: 2,
        force: false,
        shard: None,
        discover: DiscoverOptions::default(),
        analyze: AnalyzeOptions::default(),
        report: ReportOptions::default(),
        progress: false,
    }
}

#[test]
fn a_tree_of_generated_titles_is_analysed_resumed_and_merged_and_a_corrupt_title_fails_alone() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("deliverables");
    title(&input.join("Alpha"), "Alpha", 1);
    title(&input.join("studio/Beta"), "Beta", 2);
    let bad = input.join("Gamma");
    std::fs::create_dir_all(&bad).unwrap();
    for s in ["DX", "MX", "FX"] {
        std::fs::write(
            bad.join(format!("Gamma_{s}.wav")),
            b"RIFF\x10\0\0\0WAVEjunkjunkjunk",
        )
        .unwrap();
    }
    let out = root.path().join("out");
    let titles = batch::titles::find_titles(&input, &[]).unwrap();
    assert_eq!(titles.len(), 3);

    let o = batch::run(&titles, &options(&out), &Stages::real()).unwrap();
    assert_eq!((o.analysed, o.failed), (2, 1), "{:#?}", o.rows);
    let gamma = o.rows.iter().find(|r| r.title == "Gamma").unwrap();
    assert_eq!(gamma.status, Status::Failed);
    assert!(
        gamma.error.as_deref().unwrap_or("").contains("Gamma_"),
        "{gamma:?}"
    );
    for t in ["Alpha", "studio/Beta"] {
        let row = o.rows.iter().find(|r| r.title == t).unwrap();
        assert_eq!(row.status, Status::Ok);
        assert!((row.duration_s - 6.0).abs() < 0.05, "{row:?}");
        assert!(out.join(t).join("report.json").is_file());
        assert!(out.join(t).join("report.html").is_file());
    }

    // Nothing changed: nothing is analysed again (the failed title is retried and fails again).
    let o2 = batch::run(&titles, &options(&out), &Stages::real()).unwrap();
    assert_eq!((o2.analysed, o2.cached, o2.failed), (0, 2, 1));

    // Two shards into another folder, merged: every title exactly once.
    let sharded = root.path().join("sharded");
    for i in 0..2 {
        let opts = BatchOptions {
            shard: Some(Shard::new(i, 2).unwrap()),
            ..options(&sharded)
        };
        batch::run(&titles, &opts, &Stages::real()).unwrap();
    }
    let m = batch::summary::merge(std::slice::from_ref(&sharded), &sharded).unwrap();
    let mut names: Vec<_> = m.rows.iter().map(|r| r.title.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Alpha", "Gamma", "studio/Beta"]);
    assert!(m.missing_shards.is_empty());
}
