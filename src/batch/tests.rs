//! Batch behaviour with stand-in discovery and analysis (the real stages are tested in their own
//! modules and end to end in tests/).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::discover::{StemFiles, StemKind};
use crate::pipeline::{TitleAnalysis, build_report};
use crate::timeline::Span;

/// Stand-in discovery: `<T>_DX.wav`, `<T>_MX.wav`, `<T>_FX.wav` in the folder; no MX is an error.
fn fake_discover(dir: &Path, _: &DiscoverOptions) -> crate::Result<Vec<StemSet>> {
    let mut stems = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        for (tok, kind) in [
            ("_DX", StemKind::Dialogue),
            ("_MX", StemKind::Music),
            ("_FX", StemKind::Effects),
        ] {
            if n.contains(tok) {
                stems.push(StemFiles {
                    kind,
                    paths: vec![p.clone()],
                });
            }
        }
    }
    if !stems.iter().any(|s| s.kind == StemKind::Music) {
        return Err(crate::Error::Input {
            path: dir.to_path_buf(),
            message: "no music stem".into(),
        });
    }
    Ok(vec![StemSet {
        title: dir.file_name().unwrap().to_string_lossy().into(),
        stems,
        ..StemSet::default()
    }])
}

/// Stand-in analysis: a file holding "corrupt" fails, one holding "panic" panics; otherwise a report
/// of 60 s with 30 s of dialogue and a vocal that overlaps it by 5 s.
fn fake_analyze(set: &StemSet, opts: &AnalyzeOptions) -> crate::Result<Report> {
    for s in &set.stems {
        let bytes = std::fs::read(&s.paths[0]).unwrap();
        if bytes == b"corrupt" {
            return Err(crate::Error::Input {
                path: s.paths[0].clone(),
                message: "corrupt data".into(),
            });
        }
        if bytes == b"panic" {
            panic!("stage bug");
        }
    }
    let mut r = build_report(set, &TitleAnalysis::default(), opts);
    r.duration_s = 60.0;
    r.dialogue = vec![Span::new(0.0, 10.0), Span::new(20.0, 40.0)];
    r.vocals = vec![Span::new(35.0, 50.0)];
    Ok(r)
}

fn make_title(root: &Path, key: &str, content: &[u8], stems: &[&str]) {
    let dir = root.join(key);
    std::fs::create_dir_all(&dir).unwrap();
    let name = key.rsplit('/').next().unwrap();
    for s in stems {
        std::fs::write(dir.join(format!("{name}_{s}.wav")), content).unwrap();
    }
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

fn tree() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path().join("in");
    make_title(&r, "A", b"fine", &["DX", "MX", "FX"]);
    make_title(&r, "studio/B", b"corrupt", &["DX", "MX", "FX"]);
    make_title(&r, "studio/C", b"fine", &["DX", "FX"]);
    make_title(&r, "D", b"panic", &["DX", "MX"]);
    make_title(&r, "E", b"fine", &["DX", "MX"]);
    root
}

#[test]
fn failed_titles_are_recorded_with_their_error_and_the_others_complete() {
    let root = tree();
    let out = root.path().join("out");
    let titles = titles::find_titles(&root.path().join("in"), &[]).unwrap();
    let stages = Stages {
        discover: &fake_discover,
        analyze: &fake_analyze,
    };
    let o = run(&titles, &options(&out), &stages).unwrap();
    assert_eq!(o.rows.len(), 5);
    assert_eq!(o.failed, 3);
    assert_eq!(o.analysed, 2);
    let by = |k: &str| o.rows.iter().find(|r| r.title == k).unwrap();
    assert_eq!(by("A").status, Status::Ok);
    assert_eq!(by("A").reports, vec!["A/report.json".to_string()]);
    assert!(out.join("A/report.json").is_file());
    assert!(
        by("studio/B")
            .error
            .as_deref()
            .unwrap()
            .contains("corrupt data")
    );
    assert!(
        by("studio/B")
            .error
            .as_deref()
            .unwrap()
            .contains("B_DX.wav")
    );
    assert!(
        by("studio/C")
            .error
            .as_deref()
            .unwrap()
            .contains("no music stem")
    );
    assert!(by("D").error.as_deref().unwrap().contains("panic"));
    // Summary figures come from the reports.
    let a = by("A");
    assert_eq!(a.duration_s, 60.0);
    assert_eq!(a.dialogue_s, 30.0);
    assert!((a.dialogue_coverage - 0.5).abs() < 1e-9);
    assert_eq!((a.clashes, a.clash_s), (1, 5.0));
    // No manifest vouches for a failed title; no temporary file is left anywhere.
    assert!(out.join("A").join(manifest::MANIFEST_NAME).is_file());
    assert!(!out.join("studio/B").join(manifest::MANIFEST_NAME).exists());
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            assert!(
                !p.to_string_lossy().ends_with(".tmp"),
                "left {}",
                p.display()
            );
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}

#[test]
fn summary_files_hold_one_row_per_title_and_the_index_links_each_report() {
    let root = tree();
    let out = root.path().join("out");
    let titles = titles::find_titles(&root.path().join("in"), &[]).unwrap();
    let stages = Stages {
        discover: &fake_discover,
        analyze: &fake_analyze,
    };
    run(&titles, &options(&out), &stages).unwrap();
    let rows = summary::read_jsonl(&out.join("summary.jsonl")).unwrap();
    assert_eq!(rows.len(), 5);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("title,status,error")
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("href=\"A/report.html\"") && index.contains("href=\"E/report.json\""));
    assert!(index.contains("studio/B") && index.contains("failed: "));
}

#[test]
fn unchanged_titles_are_skipped_changed_or_forced_ones_are_redone() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in");
    let out = root.path().join("out");
    make_title(&input, "A", b"fine", &["DX", "MX"]);
    make_title(&input, "B", b"fine", &["DX", "MX"]);
    let calls = AtomicUsize::new(0);
    let counting = |s: &StemSet, o: &AnalyzeOptions| {
        calls.fetch_add(1, Ordering::SeqCst);
        fake_analyze(s, o)
    };
    let stages = Stages {
        discover: &fake_discover,
        analyze: &counting,
    };
    let titles = titles::find_titles(&input, &[]).unwrap();
    let o1 = run(&titles, &options(&out), &stages).unwrap();
    assert_eq!(
        (o1.analysed, o1.cached, calls.load(Ordering::SeqCst)),
        (2, 0, 2)
    );

    let o2 = run(&titles, &options(&out), &stages).unwrap();
    assert_eq!(
        (o2.analysed, o2.cached, calls.load(Ordering::SeqCst)),
        (0, 2, 2)
    );
    assert!(o2.rows.iter().all(|r| r.cached && r.duration_s == 60.0));

    std::fs::write(input.join("B/B_MX.wav"), b"fine, but longer").unwrap();
    let o3 = run(&titles, &options(&out), &stages).unwrap();
    assert_eq!(
        (o3.analysed, o3.cached, calls.load(Ordering::SeqCst)),
        (1, 1, 3)
    );

    let forced = BatchOptions {
        force: true,
        ..options(&out)
    };
    let o4 = run(&titles, &forced, &stages).unwrap();
    assert_eq!(
        (o4.analysed, o4.cached, calls.load(Ordering::SeqCst)),
        (2, 0, 5)
    );

    // Other analysis options invalidate the reports too.
    let other = BatchOptions {
        analyze: AnalyzeOptions {
            true_peak: true,
            ..AnalyzeOptions::default()
        },
        ..options(&out)
    };
    let o5 = run(&titles, &other, &stages).unwrap();
    assert_eq!(o5.analysed, 2);
}

#[test]
fn shards_written_to_one_folder_merge_into_every_title_exactly_once() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in");
    for i in 0..12 {
        make_title(&input, &format!("T{i:02}"), b"fine", &["DX", "MX"]);
    }
    let out = root.path().join("out");
    let stages = Stages {
        discover: &fake_discover,
        analyze: &fake_analyze,
    };
    let titles = titles::find_titles(&input, &[]).unwrap();
    let mut analysed = 0;
    for i in 0..3 {
        let opts = BatchOptions {
            shard: Some(Shard::new(i, 3).unwrap()),
            ..options(&out)
        };
        let o = run(&titles, &opts, &stages).unwrap();
        assert_eq!(o.rows.len() + o.other_shards, 12);
        analysed += o.analysed;
        assert!(
            out.join(format!("summary.shard-{i:03}-of-003.jsonl"))
                .is_file()
        );
    }
    assert_eq!(analysed, 12);
    let m = summary::merge(std::slice::from_ref(&out), &out).unwrap();
    assert_eq!(m.rows.len(), 12);
    assert!(m.missing_shards.is_empty() && m.duplicates.is_empty());
    let merged = summary::read_jsonl(&out.join("summary.jsonl")).unwrap();
    let mut keys: Vec<_> = merged.iter().map(|r| r.title.clone()).collect();
    keys.dedup();
    assert_eq!(keys.len(), 12);
    assert_eq!(merged[0].reports, vec!["T00/report.json".to_string()]);

    // Merging into another folder rewrites the links; a lost shard is reported.
    std::fs::remove_file(out.join("summary.shard-001-of-003.jsonl")).unwrap();
    let dest = root.path().join("merged");
    let m = summary::merge(std::slice::from_ref(&out), &dest).unwrap();
    assert_eq!(m.missing_shards, vec![(1, 3)]);
    assert!(m.rows.len() < 12);
    assert!(
        m.rows[0].reports[0].starts_with("../out/"),
        "{:?}",
        m.rows[0].reports
    );
}
