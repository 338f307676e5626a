//! Music cue sheet: `cues.csv`, one row per cue in the shape cue-sheet preparers use.
//!
//! Columns: `cue` (`1M1` style: reel number, `M`, cue number in the reel; plain `1, 2, 3` when the
//! reel has no number or when asked), `title` (placeholder for the music supervisor to fill),
//! `timecode_in`, `timecode_out` (at `--fps` from the reel's start timecode), `duration` (`mm:ss`,
//! rounded up to the next whole second by default, or to the nearest), `usage` (BI background
//! instrumental, BV background vocal; VI / VV visual (source) instrumental / vocal when a
//! source-music candidate covers at least half of the cue), `kind` (song / score), `confidence`,
//! `segue_from`, `segue_into` (the label of the cue this one crossfades from or into; empty where
//! silence separates them), then `start_s`, `end_s` (seconds from the start of the reel) for
//! machines.

use std::path::Path;

use serde::Serialize;

use super::{CueNumbering, DurationRounding, Report, ReportOptions};
use crate::timeline::spans::{intersect, total};
use crate::timeline::timecode::Clock;
use crate::timeline::{CueKind, MusicCue, Span};

/// One row of the cue sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueSheetRow {
    pub cue: String,
    pub title: String,
    pub timecode_in: String,
    pub timecode_out: String,
    pub duration: String,
    pub usage: String,
    pub kind: CueKind,
    pub confidence: String,
    pub segue_from: String,
    pub segue_into: String,
    pub start_s: String,
    pub end_s: String,
}

/// Share of a cue that source-music candidates must cover for it to count as source (visual) music.
const SOURCE_SHARE: f64 = 0.5;

/// `mm:ss` of `seconds` rounded as asked (minutes keep counting past 59).
pub fn format_duration(seconds: f64, rounding: DurationRounding) -> String {
    let s = seconds.max(0.0);
    // A float hair over a whole second (39.000000001) must not round up to the next one.
    let whole = match rounding {
        DurationRounding::Up => (s - 1e-6).ceil().max(0.0),
        DurationRounding::Nearest => s.round(),
    } as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

/// The number of the reel in its name (`R2`, `REEL_03`, `reel3` -> 2, 3, 3).
pub fn reel_number(reel: Option<&str>) -> Option<u32> {
    let r = reel?;
    let digits: String = r
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Whether source-music candidates (music heard on DX or FX) cover most of the cue.
pub fn is_source(cue: &MusicCue, report: &Report) -> bool {
    let source: Vec<Span> = report
        .source_music
        .iter()
        .map(|m| Span::new(m.start_s, m.end_s))
        .collect();
    cue.duration_s > 0.0
        && total(&intersect(&[cue.span()], &source)) >= SOURCE_SHARE * cue.duration_s
}

/// The cue-sheet label of a cue.
pub fn cue_label(report: &Report, cue: &MusicCue, numbering: CueNumbering) -> String {
    match (numbering, reel_number(report.reel.as_deref())) {
        (CueNumbering::Plain, _) | (CueNumbering::Auto, None) => cue.number.to_string(),
        (CueNumbering::Auto | CueNumbering::Reel, reel) => {
            format!("{}M{}", reel.unwrap_or(1), cue.number)
        }
    }
}

/// The rows of the cue sheet.
pub fn rows(report: &Report, opts: &ReportOptions) -> Vec<CueSheetRow> {
    let clock = Clock::new(
        report.start_timecode.as_ref().map_or(0.0, |t| t.seconds),
        opts.fps,
    );
    report
        .cues
        .iter()
        .enumerate()
        .map(|(i, cue)| {
            let source = is_source(cue, report);
            let label = |k: Option<usize>| {
                k.and_then(|k| report.cues.get(k))
                    .map_or(String::new(), |c| cue_label(report, c, opts.numbering))
            };
            let usage = match (cue.kind, source) {
                (CueKind::Song, false) => "BV",
                (CueKind::Score, false) => "BI",
                (CueKind::Song, true) => "VV",
                (CueKind::Score, true) => "VI",
            };
            let kind = match cue.kind {
                CueKind::Song => "song",
                CueKind::Score => "score",
            };
            CueSheetRow {
                cue: cue_label(report, cue, opts.numbering),
                title: format!("[untitled {kind}]"),
                timecode_in: clock.label(cue.start_s),
                timecode_out: clock.label(cue.end_s),
                duration: format_duration(cue.end_s - cue.start_s, opts.rounding),
                usage: usage.to_string(),
                kind: cue.kind,
                confidence: format!("{:.2}", cue.confidence),
                segue_from: label(i.checked_sub(1).filter(|_| cue.segue_in)),
                segue_into: label(cue.segue_out.then_some(i + 1)),
                start_s: format!("{:.3}", cue.start_s),
                end_s: format!("{:.3}", cue.end_s),
            }
        })
        .collect()
}

/// Writes `cues.csv` to `path`.
pub fn write(report: &Report, path: &Path, opts: &ReportOptions) -> crate::Result<()> {
    let csv_error = |e: csv::Error| crate::Error::Other(format!("{}: {e}", path.display()));
    let mut w = csv::Writer::from_path(path).map_err(csv_error)?;
    let rows = rows(report, opts);
    if rows.is_empty() {
        // The header alone, so an empty sheet still says what it would hold.
        w.write_record([
            "cue",
            "title",
            "timecode_in",
            "timecode_out",
            "duration",
            "usage",
            "kind",
            "confidence",
            "segue_from",
            "segue_into",
            "start_s",
            "end_s",
        ])
        .map_err(csv_error)?;
    }
    for row in rows {
        w.serialize(row).map_err(csv_error)?;
    }
    w.flush().map_err(|e| crate::Error::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::StartTimecode;
    use crate::report::synthetic::{report_with_cues, source};
    use crate::timeline::timecode::FrameRate;

    #[test]
    fn durations_round_up_by_default_and_to_nearest_on_request() {
        assert_eq!(format_duration(39.2, DurationRounding::Up), "0:40");
        assert_eq!(format_duration(39.2, DurationRounding::Nearest), "0:39");
        assert_eq!(format_duration(39.0, DurationRounding::Up), "0:39");
        assert_eq!(format_duration(39.0000001, DurationRounding::Up), "0:39");
        assert_eq!(format_duration(0.3, DurationRounding::Up), "0:01");
        assert_eq!(format_duration(3725.5, DurationRounding::Nearest), "62:06");
    }

    #[test]
    fn reel_numbers_come_from_the_reel_name() {
        assert_eq!(reel_number(Some("R2")), Some(2));
        assert_eq!(reel_number(Some("REEL_03")), Some(3));
        assert_eq!(reel_number(Some("AB")), None);
        assert_eq!(reel_number(None), None);
    }

    #[test]
    fn rows_carry_reel_style_numbers_timecodes_and_usage() {
        let mut r = report_with_cues();
        r.reel = Some("R3".into());
        r.start_timecode = Some(StartTimecode {
            samples_since_midnight: 172_800_000,
            sample_rate: 48_000,
            seconds: 3600.0,
            timecode: "01:00:00:00".into(),
            fps: "24".into(),
        });
        r.source_music = vec![source(61.0, 100.0)];
        let rows = rows(&r, &ReportOptions::default());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].cue, "3M1");
        assert_eq!(rows[0].timecode_in, "01:00:05:12");
        assert_eq!(rows[0].timecode_out, "01:00:44:18");
        assert_eq!(rows[0].duration, "0:40");
        assert_eq!(rows[0].usage, "BI");
        assert_eq!(rows[1].usage, "VV");
        assert_eq!(rows[2].usage, "BV");
        let plain = super::rows(
            &r,
            &ReportOptions {
                numbering: CueNumbering::Plain,
                fps: FrameRate::Fps25,
                ..ReportOptions::default()
            },
        );
        assert_eq!(plain[0].cue, "1");
        assert_eq!(plain[0].timecode_in, "01:00:05:12");
    }

    #[test]
    fn segued_cues_name_each_other_and_cues_apart_name_none() {
        // Cues 2 and 3 overlap by a crossfade; cue 1 ends in silence.
        let mut r = report_with_cues();
        r.reel = Some("R2".into());
        r.cues[2].start_s = 99.0;
        let segue = crate::detect::music::Segue {
            at_s: 99.5,
            novelty_ratio: 2.0,
            required_ratio: 1.5,
        };
        crate::timeline::link_segues(&mut r.cues, &[segue]);
        let rows = rows(&r, &ReportOptions::default());
        let segues: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.segue_from.as_str(), r.segue_into.as_str()))
            .collect();
        assert_eq!(segues, [("", ""), ("", "2M3"), ("2M2", "")]);
    }

    #[test]
    fn written_sheet_parses_back_with_one_row_per_cue() {
        let r = report_with_cues();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cues.csv");
        write(&r, &path, &ReportOptions::default()).unwrap();
        let mut rd = csv::Reader::from_path(&path).unwrap();
        let headers = rd.headers().unwrap().clone();
        assert_eq!(&headers[0], "cue");
        assert_eq!(&headers[4], "duration");
        let recs: Vec<_> = rd.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), r.cues.len());
        assert_eq!(&recs[1][6], "song");
        assert_eq!(&headers[8], "segue_from");
        assert_eq!(&headers[9], "segue_into");
    }
}
