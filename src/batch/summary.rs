//! Summary: one row per title (what the analysis found, or why it failed), written as
//! `summary.csv`, `summary.jsonl` (JSON Lines: loads directly into DuckDB, Spark, pandas) and an
//! `index.html` that links every title's report; and the merge of several shards' summaries.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::manifest::write_atomic;
use crate::report::Report;
use crate::timeline::spans::{intersect, total};
use crate::timeline::CueKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
}

/// One title in the summary. Loudness figures of a title with several reels are the
/// duration-weighted power mean of the reels' integrated loudness (an approximation of the gated
/// figure over the whole title).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TitleSummary {
    pub title: String,
    pub status: Status,
    pub error: Option<String>,
    /// True when the title was not re-analysed because its inputs had not changed.
    pub cached: bool,
    pub reels: usize,
    pub duration_s: f64,
    pub cues: usize,
    pub songs: usize,
    pub scores: usize,
    pub music_s: f64,
    pub dialogue_s: f64,
    /// `dialogue_s / duration_s`.
    pub dialogue_coverage: f64,
    /// Sung-vocal segments overlapping dialogue, and the seconds they overlap.
    pub clashes: usize,
    pub clash_s: f64,
    pub dx_lufs: Option<f64>,
    pub mx_lufs: Option<f64>,
    pub fx_lufs: Option<f64>,
    pub mix_lufs: Option<f64>,
    pub warnings: usize,
    /// Wall-clock seconds spent on the title.
    pub elapsed_s: f64,
    /// The title's `report.json` files, relative to the batch output folder.
    pub reports: Vec<String>,
}

impl TitleSummary {
    pub fn failed(title: &str, error: String) -> Self {
        TitleSummary {
            status: Status::Failed,
            error: Some(error),
            ..TitleSummary::empty(title)
        }
    }

    fn empty(title: &str) -> Self {
        TitleSummary {
            title: title.to_string(),
            status: Status::Ok,
            error: None,
            cached: false,
            reels: 0,
            duration_s: 0.0,
            cues: 0,
            songs: 0,
            scores: 0,
            music_s: 0.0,
            dialogue_s: 0.0,
            dialogue_coverage: 0.0,
            clashes: 0,
            clash_s: 0.0,
            dx_lufs: None,
            mx_lufs: None,
            fx_lufs: None,
            mix_lufs: None,
            warnings: 0,
            elapsed_s: 0.0,
            reports: Vec::new(),
        }
    }

    /// Sums up the reports of a title's reels.
    pub fn from_reports(title: &str, reports: &[(Report, String)]) -> Self {
        let mut s = TitleSummary::empty(title);
        let mut loud: [Vec<(f64, f64)>; 4] = Default::default();
        for (r, path) in reports {
            s.reels += 1;
            s.duration_s += r.duration_s;
            s.cues += r.cues.len();
            s.songs += r.cues.iter().filter(|c| c.kind == CueKind::Song).count();
            s.scores += r.cues.iter().filter(|c| c.kind == CueKind::Score).count();
            s.music_s += total(&r.cues.iter().map(|c| c.span()).collect::<Vec<_>>());
            s.dialogue_s += total(&r.dialogue);
            s.clash_s += total(&intersect(&r.vocals, &r.dialogue));
            s.clashes += r
                .vocals
                .iter()
                .filter(|v| r.dialogue.iter().any(|d| v.overlap_s(d) > 0.0))
                .count();
            s.warnings += r.warnings.len();
            for (i, stem) in ["dialogue", "music", "effects"].iter().enumerate() {
                if let Some(l) = r
                    .stems
                    .get(*stem)
                    .and_then(|st| st.loudness.integrated_lufs)
                {
                    loud[i].push((l, r.duration_s));
                }
            }
            if let Some(l) = r.mix.as_ref().and_then(|m| m.loudness.integrated_lufs) {
                loud[3].push((l, r.duration_s));
            }
            s.reports.push(path.clone());
            s.elapsed_s += r.analysis.elapsed_s;
        }
        s.dialogue_coverage = if s.duration_s > 0.0 {
            s.dialogue_s / s.duration_s
        } else {
            0.0
        };
        [s.dx_lufs, s.mx_lufs, s.fx_lufs, s.mix_lufs] = loud.map(|v| power_mean(&v));
        s
    }
}

fn power_mean(v: &[(f64, f64)]) -> Option<f64> {
    let w: f64 = v.iter().map(|(_, d)| d).sum();
    if v.is_empty() || w <= 0.0 {
        return None;
    }
    let e: f64 = v.iter().map(|(l, d)| d * 10f64.powf(l / 10.0)).sum::<f64>() / w;
    Some((10.0 * e.log10() * 100.0).round() / 100.0)
}

/// A CSV row (the reports list joined with `;`).
#[derive(Serialize)]
struct CsvRow<'a> {
    title: &'a str,
    status: Status,
    error: &'a str,
    cached: bool,
    reels: usize,
    duration_s: String,
    cues: usize,
    songs: usize,
    scores: usize,
    music_s: String,
    dialogue_s: String,
    dialogue_coverage: String,
    clashes: usize,
    clash_s: String,
    dx_lufs: String,
    mx_lufs: String,
    fx_lufs: String,
    mix_lufs: String,
    warnings: usize,
    elapsed_s: String,
    reports: String,
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}
fn opt(x: Option<f64>) -> String {
    x.map(f2).unwrap_or_default()
}

/// The file names of a summary: `summary.csv`, or `summary.shard-002-of-008.csv` for a shard.
pub fn file_names(label: Option<&str>) -> [String; 3] {
    match label {
        None => [
            "summary.csv".into(),
            "summary.jsonl".into(),
            "index.html".into(),
        ],
        Some(l) => [
            format!("summary.{l}.csv"),
            format!("summary.{l}.jsonl"),
            format!("index.{l}.html"),
        ],
    }
}

/// Writes the summary files into `out` (each atomically). `base` is the folder the rows' report
/// paths are relative to, as seen from `out`'s index (the same folder unless merging).
pub fn write(
    out: &Path,
    label: Option<&str>,
    rows: &[TitleSummary],
) -> crate::Result<[PathBuf; 3]> {
    let names = file_names(label);
    let paths = names.map(|n| out.join(n));

    let mut csv_w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        csv_w
            .serialize(CsvRow {
                title: &r.title,
                status: r.status,
                error: r.error.as_deref().unwrap_or(""),
                cached: r.cached,
                reels: r.reels,
                duration_s: f2(r.duration_s),
                cues: r.cues,
                songs: r.songs,
                scores: r.scores,
                music_s: f2(r.music_s),
                dialogue_s: f2(r.dialogue_s),
                dialogue_coverage: format!("{:.4}", r.dialogue_coverage),
                clashes: r.clashes,
                clash_s: f2(r.clash_s),
                dx_lufs: opt(r.dx_lufs),
                mx_lufs: opt(r.mx_lufs),
                fx_lufs: opt(r.fx_lufs),
                mix_lufs: opt(r.mix_lufs),
                warnings: r.warnings,
                elapsed_s: f2(r.elapsed_s),
                reports: r.reports.join(";"),
            })
            .map_err(|e| crate::Error::Other(format!("summary.csv: {e}")))?;
    }
    let csv_bytes = csv_w
        .into_inner()
        .map_err(|e| crate::Error::Other(format!("summary.csv: {e}")))?;
    write_atomic(&paths[0], &csv_bytes)?;

    let mut jsonl = String::new();
    for r in rows {
        let line = serde_json::to_string(r)
            .map_err(|e| crate::Error::Other(format!("summary.jsonl: {e}")))?;
        jsonl.push_str(&line);
        jsonl.push('\n');
    }
    write_atomic(&paths[1], jsonl.as_bytes())?;
    write_atomic(&paths[2], index_html(rows).as_bytes())?;
    Ok(paths)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Percent-encodes what a relative URL must not carry raw (spaces, `#`, `?`, `%`, quotes).
fn href(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The report page to link: `report.html` beside `report.json` when it exists is better to read,
/// but existence cannot be checked for merged remote shards, so the link targets report.json's
/// folder's `report.html` only when asked; otherwise the JSON.
fn index_html(rows: &[TitleSummary]) -> String {
    let ok = rows.iter().filter(|r| r.status == Status::Ok).count();
    let hours: f64 = rows.iter().map(|r| r.duration_s).sum::<f64>() / 3600.0;
    let mut h = String::new();
    h.push_str(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>stemscope batch</title>\n",
    );
    h.push_str("<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child,td.l{text-align:left}.failed{background:#fee}</style></head><body>\n");
    h.push_str(&format!(
        "<h1>stemscope batch</h1>\n<p>{} titles, {} analysed, {} failed; {:.2} hours of audio.</p>\n",
        rows.len(),
        ok,
        rows.len() - ok,
        hours
    ));
    h.push_str("<table><tr><th>title</th><th>status</th><th>duration</th><th>cues</th><th>songs</th><th>scores</th><th>dialogue</th><th>clashes</th><th>DX LUFS</th><th>MX LUFS</th><th>mix LUFS</th><th>reports</th></tr>\n");
    for r in rows {
        let links: Vec<String> = r
            .reports
            .iter()
            .map(|p| {
                let html = p
                    .strip_suffix("report.json")
                    .map(|d| format!("{d}report.html"));
                let label = Path::new(p)
                    .parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "report".into());
                match html {
                    Some(html) => format!(
                        "<a href=\"{}\">{}</a> (<a href=\"{}\">json</a>)",
                        href(&html),
                        esc(&label),
                        href(p)
                    ),
                    None => format!("<a href=\"{}\">{}</a>", href(p), esc(&label)),
                }
            })
            .collect();
        let status = match (r.status, &r.error) {
            (Status::Failed, Some(e)) => format!("failed: {}", esc(e)),
            (Status::Failed, None) => "failed".into(),
            (Status::Ok, _) if r.cached => "ok (unchanged)".into(),
            (Status::Ok, _) => "ok".into(),
        };
        h.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>\n",
            if r.status == Status::Failed { "failed" } else { "ok" },
            esc(&r.title),
            status,
            clock(r.duration_s),
            r.cues,
            r.songs,
            r.scores,
            100.0 * r.dialogue_coverage,
            r.clashes,
            opt(r.dx_lufs),
            opt(r.mx_lufs),
            opt(r.mix_lufs),
            links.join(" ")
        ));
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Reads a `summary*.jsonl` file.
pub fn read_jsonl(path: &Path) -> crate::Result<Vec<TitleSummary>> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| crate::Error::Input {
                path: path.to_path_buf(),
                message: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

/// `path` relative to `base` (both made absolute), with `..` where needed.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let abs = |p: &Path| {
        p.canonicalize()
            .unwrap_or_else(|_| std::env::current_dir().unwrap_or_default().join(p))
    };
    let (p, b) = (abs(path), abs(base));
    let pc: Vec<Component> = p.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = pc.iter().zip(&bc).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// What a merge found.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    pub rows: Vec<TitleSummary>,
    /// Shard files read.
    pub files: Vec<PathBuf>,
    /// Shard indices missing from a complete set `0..N`, per shard count seen.
    pub missing_shards: Vec<(u32, u32)>,
    /// Titles found in more than one input (the last one read is kept).
    pub duplicates: Vec<String>,
}

fn shard_of(name: &str) -> Option<(u32, u32)> {
    let rest = name
        .strip_prefix("summary.shard-")?
        .strip_suffix(".jsonl")?;
    let (i, n) = rest.split_once("-of-")?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

/// Combines the summaries found in `inputs` (each a batch output folder holding `summary.jsonl` or
/// `summary.shard-*.jsonl`) into one summary and index in `dest`. Report paths are rewritten
/// relative to `dest`.
pub fn merge(inputs: &[PathBuf], dest: &Path) -> crate::Result<Merged> {
    let mut m = Merged::default();
    let mut by_title: BTreeMap<String, TitleSummary> = BTreeMap::new();
    let mut shards: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    std::fs::create_dir_all(dest).map_err(|e| crate::Error::io(dest, e))?;
    for dir in inputs {
        let entries = std::fs::read_dir(dir).map_err(|e| crate::Error::io(dir, e))?;
        let mut files: Vec<(PathBuf, Option<(u32, u32)>)> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                let shard = shard_of(&name);
                (shard.is_some() || name == "summary.jsonl").then_some((p, shard))
            })
            .collect();
        // Shard files take precedence over a summary.jsonl left by an earlier unsharded run or merge.
        if files.iter().any(|(_, s)| s.is_some()) {
            files.retain(|(_, s)| s.is_some());
        }
        files.sort();
        if files.is_empty() {
            return Err(crate::Error::Input {
                path: dir.clone(),
                message: "no summary.jsonl or summary.shard-*.jsonl here".into(),
            });
        }
        for (file, shard) in files {
            if let Some((i, n)) = shard {
                shards.entry(n).or_default().push(i);
            }
            for mut row in read_jsonl(&file)? {
                let rel = relative_to(dir, dest);
                row.reports = row
                    .reports
                    .iter()
                    .map(|p| {
                        let joined = rel.join(p);
                        joined
                            .to_string_lossy()
                            .replace('\\', "/")
                            .trim_start_matches("./")
                            .to_string()
                    })
                    .collect();
                if by_title.insert(row.title.clone(), row).is_some() {
                    m.duplicates.push(file.display().to_string());
                }
            }
            m.files.push(file);
        }
    }
    for (n, seen) in &shards {
        for i in 0..*n {
            if !seen.contains(&i) {
                m.missing_shards.push((i, *n));
            }
        }
    }
    m.rows = by_title.into_values().collect();
    write(dest, None, &m.rows)?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_out_of_the_destination() {
        let root = tempfile::tempdir().unwrap();
        let a = root.path().join("shards/a");
        let d = root.path().join("merged");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&d).unwrap();
        assert_eq!(relative_to(&a, &d), PathBuf::from("../shards/a"));
        assert_eq!(relative_to(&d, &d), PathBuf::new());
    }

    #[test]
    fn multi_reel_loudness_is_a_power_mean() {
        assert_eq!(power_mean(&[(-20.0, 1.0), (-20.0, 3.0)]), Some(-20.0));
        let m = power_mean(&[(-20.0, 1.0), (-30.0, 1.0)]).unwrap();
        assert!((m - -22.6).abs() < 0.05, "{m}");
        assert_eq!(power_mean(&[]), None);
    }

    #[test]
    fn links_are_percent_encoded_and_titles_escaped() {
        let mut r = TitleSummary::failed("A <b> & co", "bad \"file\"".into());
        r.reports = vec!["My Film/R1/report.json".into()];
        let h = index_html(&[r]);
        assert!(h.contains("My%20Film/R1/report.html"));
        assert!(h.contains("A &lt;b&gt; &amp; co"));
        assert!(h.contains("bad &quot;file&quot;"));
    }
}
