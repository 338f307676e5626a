//! The HTML report as a browser sees it: headless Chromium loads the page written by
//! `report::write_all` and its DOM holds every cue and every scene. Skipped (with a message) when
//! Chromium is not installed.

use std::path::Path;
use std::process::Command;

use stemscope::detect::leader::{LeaderMark, MarkKind};
use stemscope::report::synthetic::synthetic_report;
use stemscope::report::{Report, ReportOptions, write_all};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn dump_dom(browser: &str, page: &Path, profile: &Path) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Adds a leader to a synthetic report: 1 kHz line-up tone at 1-5 s on dialogue and a 2-pop at
/// 10 s on every stem (labelled as the pipeline labels them, from 00:00:00:00 at 24 fps).
fn with_leader(mut report: Report) -> Report {
    let mark = |kind, start_s: f64, end_s: f64, tc: &str| LeaderMark {
        kind,
        start_s,
        end_s,
        timecode: Some(tc.to_string()),
        frequency_hz: 1000.0,
        level_dbfs: Some(-20.0),
    };
    for stem in ["dialogue", "music", "effects"] {
        let mut marks = Vec::new();
        if stem == "dialogue" {
            marks.push(mark(MarkKind::LineupTone, 1.0, 5.0, "00:00:01:00"));
        }
        marks.push(mark(MarkKind::HeadPop, 10.0, 10.0417, "00:00:10:00"));
        report.leader.insert(stem.to_string(), marks);
    }
    report
}

#[test]
fn browser_dom_of_a_two_hour_report_lists_every_cue_and_scene() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on PATH");
        return;
    };
    let report = with_leader(synthetic_report(7200.0, 60, 80, 11));
    let dir = tempfile::tempdir().unwrap();
    let paths = write_all(&report, dir.path(), &ReportOptions::default()).unwrap();
    let page = paths.iter().find(|p| p.ends_with("report.html")).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let dom = dump_dom(browser, page, profile.path());
    // The cue sheet table in the DOM: one row per cue, 1M1 style (reel R1).
    for c in &report.cues {
        assert!(
            dom.contains(&format!("<td>1M{}</td>", c.number)),
            "cue 1M{} missing",
            c.number
        );
    }
    for s in &report.scenes {
        let name = s.name.as_deref().unwrap().replace('&', "&amp;");
        assert!(dom.contains(&name), "scene {name} missing");
    }
    // The leader: a flag per pop and a shaded span for the tone on the timeline, and a table row
    // per mark.
    assert_eq!(dom.matches(r#"class="leader pop""#).count(), 3);
    assert_eq!(dom.matches(r#"class="leader tone""#).count(), 1);
    let table = &dom[dom.find(r#"id="leader-table""#).expect("leader table")..];
    assert_eq!(table.matches("<td>head pop</td>").count(), 3);
    assert!(table.contains("<td>line-up tone</td><td>00:00:01:00</td>"));
    // The loudness curves lift the pen over the marks: dialogue's 1 s values from 2 to 7 s (tone)
    // and 11 to 13 s (pop) hold a mark in their 3 s window, so its first row's curve is drawn in
    // three pieces (a curve without a gap is one).
    let first_row = dom.split("<svg").nth(1).unwrap();
    let title = first_row
        .find("<title>dialogue short-term loudness")
        .unwrap();
    let d = &first_row[first_row[..title].rfind(" d=\"").unwrap()..title];
    assert_eq!(d.matches('M').count(), 3, "{d}");
    // Ten-minute rows for a two-hour reel.
    assert_eq!(dom.matches("<svg").count(), 12);
}

/// Writes preview pages (a 5-minute reel and a 2-hour film) into `$STEMSCOPE_PREVIEW_DIR` for a person
/// to look at; does nothing when the variable is unset.
#[test]
fn preview_pages_are_written_on_request() {
    let Some(dir) = std::env::var_os("STEMSCOPE_PREVIEW_DIR") else {
        return;
    };
    let dir = Path::new(&dir);
    for (name, report) in [
        ("short", with_leader(synthetic_report(300.0, 5, 7, 5))),
        ("long", with_leader(synthetic_report(7200.0, 60, 80, 11))),
    ] {
        write_all(&report, &dir.join(name), &ReportOptions::default()).unwrap();
    }
}
