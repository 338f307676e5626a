//! Given scenes: reads a scene list from a file (`analyze --scenes FILE`), so the report follows the
//! editor's scenes instead of the automatic segmentation.
//!
//! Three shapes are accepted (the shape is told by the extension, `.csv` / `.edl`, else by content):
//! - **CSV**: `start,end[,name]` per line; times in seconds (`12.5`), clock time (`1:02.5`,
//!   `0:01:02.5`) or timecode (`01:00:10:00`, `01:00:10;00`); an optional header line; `#` comments.
//! - **CMX3600 EDL**: each event line's *record* in and out (the last two timecodes) make one scene;
//!   `* FROM CLIP NAME:` names the event above it; events repeating the same record times (audio and
//!   video of one shot) count once.
//! - **Marker list**: one marker per line with a timecode; each marker starts a scene that runs to the
//!   next marker (the last to the end of the reel). Pro Tools "MARKERS LISTING" rows
//!   (`#, LOCATION, TIME REFERENCE, UNITS, NAME, COMMENTS`, tab-separated), Avid "Export Markers" text
//!   (`user, timecode, track, colour, comment, duration`) and plain `01:00:10:00 Name` lines all fit.
//!   Lines without a timecode that do not start with a marker number (headers) are skipped.
//!
//! Timecodes are read at the report's frame rate against the reel's start timecode; seconds are from
//! the start of the reel. A malformed line is an error naming the file and the line.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::timecode::{Clock, FrameRate, Timecode};

/// A time as written in a scene file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeRef {
    /// Seconds from the start of the reel.
    Seconds(f64),
    /// A timecode label, read against the reel's start timecode.
    Timecode(Timecode),
}

impl TimeRef {
    fn reel_seconds(&self, clock: &Clock) -> Option<f64> {
        match self {
            TimeRef::Seconds(s) => Some(*s),
            TimeRef::Timecode(tc) => clock.reel_seconds(tc),
        }
    }
}

/// One scene (or marker) read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneMark {
    /// 1-based line in the file.
    pub line: usize,
    pub start: TimeRef,
    /// `None` for markers: the scene runs to the next one.
    pub end: Option<TimeRef>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneFileFormat {
    Csv,
    Edl,
    Markers,
}

/// A parsed scene file.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneFile {
    pub path: PathBuf,
    pub format: SceneFileFormat,
    pub marks: Vec<SceneMark>,
}

/// A given scene in reel seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenScene {
    pub start_s: f64,
    pub end_s: f64,
    pub name: Option<String>,
}

fn input_error(path: &Path, line: usize, message: impl std::fmt::Display) -> crate::Error {
    crate::Error::Input {
        path: path.to_path_buf(),
        message: format!("line {line}: {message}"),
    }
}

/// Parses a time field: seconds, `[h:]mm:ss[.fff]`, or a timecode valid at `rate`.
pub fn parse_time(text: &str, rate: FrameRate) -> Result<TimeRef, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty time".into());
    }
    let colons = t.matches([':', ';']).count();
    if colons == 3 {
        let tc =
            Timecode::parse(t).ok_or_else(|| format!("{t:?} is not a timecode HH:MM:SS:FF"))?;
        if rate.frames_of(&tc).is_none() {
            return Err(format!("{t} is not a timecode at {rate} fps"));
        }
        return Ok(TimeRef::Timecode(tc));
    }
    let mut seconds = 0.0;
    let parts: Vec<&str> = t.split(':').collect();
    if parts.len() > 3 || t.contains(';') {
        return Err(format!("{t:?} is not a time"));
    }
    for (i, p) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let ok_chars = p.bytes().all(|b| b.is_ascii_digit() || (last && b == b'.'));
        let v: f64 = match p.parse() {
            Ok(v) if ok_chars && !p.is_empty() => v,
            _ => {
                return Err(format!(
                    "{t:?} is not a time (seconds, mm:ss or HH:MM:SS:FF)"
                ));
            }
        };
        if i > 0 && v >= 60.0 {
            return Err(format!("{t:?}: minutes and seconds must be below 60"));
        }
        seconds = seconds * 60.0 + v;
    }
    if !seconds.is_finite() {
        return Err(format!("{t:?} is not a time"));
    }
    Ok(TimeRef::Seconds(seconds))
}

impl SceneFile {
    /// Reads and parses `path`; timecodes are checked against `rate`.
    pub fn read(path: &Path, rate: FrameRate) -> crate::Result<SceneFile> {
        let bytes = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        SceneFile::parse(path, &text, rate)
    }

    /// Parses scene-file text (`path` names the file in errors and picks the shape by extension).
    pub fn parse(path: &Path, text: &str, rate: FrameRate) -> crate::Result<SceneFile> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let format = match ext.as_str() {
            "csv" => SceneFileFormat::Csv,
            "edl" => SceneFileFormat::Edl,
            _ => sniff(text),
        };
        let marks = match format {
            SceneFileFormat::Csv => parse_csv(path, text, rate)?,
            SceneFileFormat::Edl => parse_edl(path, text, rate)?,
            SceneFileFormat::Markers => parse_markers(path, text, rate)?,
        };
        if marks.is_empty() {
            return Err(crate::Error::Input {
                path: path.to_path_buf(),
                message: format!("no scenes found (read as {format:?})"),
            });
        }
        Ok(SceneFile {
            path: path.to_path_buf(),
            format,
            marks,
        })
    }

    /// The scenes in reel seconds, in start order, clipped to `[0, duration_s]`. Scenes that fall
    /// wholly outside the reel are left out with a warning (naming the file and the line).
    pub fn resolve(
        &self,
        clock: &Clock,
        duration_s: f64,
        warnings: &mut Vec<String>,
    ) -> Vec<GivenScene> {
        let mut marks: Vec<(f64, &SceneMark)> = self
            .marks
            .iter()
            .filter_map(|m| m.start.reel_seconds(clock).map(|s| (s, m)))
            .collect();
        marks.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = Vec::new();
        for (i, (start, m)) in marks.iter().enumerate() {
            let end = match &m.end {
                Some(e) => e.reel_seconds(clock).unwrap_or(*start),
                None => marks.get(i + 1).map(|n| n.0).unwrap_or(duration_s),
            };
            let (s, e) = (start.max(0.0), end.min(duration_s));
            if e <= s {
                warnings.push(format!(
                    "{} line {}: scene {:.3}-{:.3} s lies outside the reel (0-{:.3} s, start timecode {}); left out",
                    self.path.display(),
                    m.line,
                    start,
                    end,
                    duration_s,
                    clock.label(0.0)
                ));
                continue;
            }
            out.push(GivenScene {
                start_s: s,
                end_s: e,
                name: m.name.clone(),
            });
        }
        out
    }
}

fn sniff(text: &str) -> SceneFileFormat {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines
        .iter()
        .any(|l| l.starts_with("TITLE:") || l.starts_with("FCM:"))
    {
        return SceneFileFormat::Edl;
    }
    if !lines.is_empty() && lines.iter().all(|l| l.contains(',') && !l.contains('\t')) {
        return SceneFileFormat::Csv;
    }
    SceneFileFormat::Markers
}

fn parse_csv(path: &Path, text: &str, rate: FrameRate) -> crate::Result<Vec<SceneMark>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut marks = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
            input_error(path, line, format!("not CSV: {e}"))
        })?;
        let line = record
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(index + 1);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let first = record.get(0).unwrap_or("");
        if index == 0 && parse_time(first, rate).is_err() && first.chars().any(char::is_alphabetic)
        {
            continue; // a header line
        }
        if record.len() < 2 {
            return Err(input_error(path, line, "expected start,end[,name]"));
        }
        let start = parse_time(first, rate).map_err(|m| input_error(path, line, m))?;
        let end = parse_time(record.get(1).unwrap_or(""), rate)
            .map_err(|m| input_error(path, line, m))?;
        let name = record.get(2).map(str::to_string).filter(|n| !n.is_empty());
        if let (TimeRef::Seconds(s), TimeRef::Seconds(e)) = (start, end)
            && e <= s
        {
            return Err(input_error(
                path,
                line,
                format!("the scene ends ({e}) before it starts ({s})"),
            ));
        }
        if let (TimeRef::Timecode(s), TimeRef::Timecode(e)) = (start, end)
            && rate.frames_of(&e) <= rate.frames_of(&s)
        {
            return Err(input_error(
                path,
                line,
                format!("the scene ends ({e}) before it starts ({s})"),
            ));
        }
        marks.push(SceneMark {
            line,
            start,
            end: Some(end),
            name,
        });
    }
    Ok(marks)
}

fn parse_edl(path: &Path, text: &str, rate: FrameRate) -> crate::Result<Vec<SceneMark>> {
    let mut marks: Vec<SceneMark> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if let Some(name) = l.strip_prefix("* FROM CLIP NAME:") {
            if let Some(last) = marks.last_mut()
                && last.name.is_none()
            {
                last.name = Some(name.trim().to_string()).filter(|n| !n.is_empty());
            }
            continue;
        }
        let tokens: Vec<&str> = l.split_whitespace().collect();
        let is_event = tokens
            .first()
            .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
        if !is_event {
            continue; // TITLE:, FCM:, comments, M2 speed lines, blank lines
        }
        if tokens.len() < 6 {
            return Err(input_error(
                path,
                line,
                "EDL event without source and record timecodes",
            ));
        }
        let tcs = &tokens[tokens.len() - 4..];
        let mut parsed = [None; 4];
        for (slot, t) in parsed.iter_mut().zip(tcs) {
            match parse_time(t, rate) {
                Ok(TimeRef::Timecode(tc)) => *slot = Some(tc),
                _ => {
                    return Err(input_error(
                        path,
                        line,
                        format!("EDL event: {t:?} is not a timecode at {rate} fps"),
                    ));
                }
            }
        }
        let (Some(rec_in), Some(rec_out)) = (parsed[2], parsed[3]) else {
            return Err(input_error(
                path,
                line,
                "EDL event without record timecodes",
            ));
        };
        if rate.frames_of(&rec_out) <= rate.frames_of(&rec_in) {
            return Err(input_error(
                path,
                line,
                format!("EDL event: record out {rec_out} is not after record in {rec_in}"),
            ));
        }
        let duplicate = marks.iter().any(|m| {
            m.start == TimeRef::Timecode(rec_in) && m.end == Some(TimeRef::Timecode(rec_out))
        });
        if !duplicate {
            marks.push(SceneMark {
                line,
                start: TimeRef::Timecode(rec_in),
                end: Some(TimeRef::Timecode(rec_out)),
                name: None,
            });
        }
    }
    Ok(marks)
}

fn looks_like_timecode(token: &str) -> bool {
    token.matches([':', ';']).count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b';')
}

const UNIT_WORDS: &[&str] = &["samples", "ticks", "frames", "seconds"];

fn is_track(token: &str) -> bool {
    let t = token.to_ascii_uppercase();
    let digits = t.trim_start_matches(['V', 'A']).trim_start_matches("TC");
    t != digits && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_markers(path: &Path, text: &str, rate: FrameRate) -> crate::Result<Vec<SceneMark>> {
    let mut marks = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let tabbed = raw.contains('\t');
        let fields: Vec<&str> = if tabbed {
            raw.split('\t').map(str::trim).collect()
        } else {
            raw.split_whitespace().collect()
        };
        let numbered = fields
            .first()
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
        let Some(at) = fields.iter().position(|f| looks_like_timecode(f)) else {
            if numbered {
                return Err(input_error(
                    path,
                    line,
                    "marker without a timecode (export the markers with timecode as the main counter)",
                ));
            }
            continue; // header or session-info line
        };
        let start = parse_time(fields[at], rate).map_err(|m| input_error(path, line, m))?;
        let after = &fields[at + 1..];
        let before = &fields[..at];
        let name = if numbered {
            // Pro Tools: #, LOCATION, TIME REFERENCE, UNITS, NAME, COMMENTS.
            after
                .iter()
                .find(|f| {
                    !f.is_empty()
                        && f.parse::<f64>().is_err()
                        && !UNIT_WORDS.contains(&f.to_ascii_lowercase().as_str())
                })
                .map(|f| f.to_string())
        } else if after.first().is_some_and(|f| is_track(f)) {
            // Avid: user, timecode, track, colour, comment, duration.
            after
                .get(2)
                .filter(|f| !f.is_empty())
                .or(before.last())
                .map(|f| f.to_string())
        } else if !after.is_empty() {
            Some(after.join(" "))
        } else {
            Some(before.join(" "))
        };
        marks.push(SceneMark {
            line,
            start,
            end: None,
            name: name.filter(|n| !n.trim().is_empty()),
        });
    }
    Ok(marks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock::new(3600.0, FrameRate::Fps24)
    }

    fn resolve(name: &str, text: &str) -> Vec<GivenScene> {
        let f = SceneFile::parse(Path::new(name), text, FrameRate::Fps24).unwrap();
        let mut w = Vec::new();
        let scenes = f.resolve(&clock(), 300.0, &mut w);
        assert!(w.is_empty(), "{w:?}");
        scenes
    }

    #[test]
    fn csv_takes_seconds_clock_times_and_timecodes_with_a_header() {
        let s = resolve(
            "s.csv",
            "start,end,name\n0,42.5,Opening\n0:42.5,01:01:30:12,\"Kitchen, night\"\n# note\n01:01:30:12,300\n",
        );
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].start_s, s[0].end_s), (0.0, 42.5));
        assert_eq!(s[0].name.as_deref(), Some("Opening"));
        assert_eq!((s[1].start_s, s[1].end_s), (42.5, 90.5));
        assert_eq!(s[1].name.as_deref(), Some("Kitchen, night"));
        assert_eq!(s[2].name, None);
    }

    #[test]
    fn malformed_csv_lines_name_the_file_and_line() {
        let err = SceneFile::parse(Path::new("scenes.csv"), "0,10\n10,abc\n", FrameRate::Fps24)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("scenes.csv") && err.contains("line 2"),
            "{err}"
        );
        let err = SceneFile::parse(Path::new("s.csv"), "0,10\n20,15\n", FrameRate::Fps24)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("before it starts"),
            "{err}"
        );
        let err = SceneFile::parse(Path::new("s.csv"), "0,10\n5\n", FrameRate::Fps24)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = SceneFile::parse(Path::new("s.csv"), "0,00:00:01:30\n", FrameRate::Fps24)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1") && err.contains("24 fps"), "{err}");
    }

    #[test]
    fn edl_events_give_record_in_and_out_once_per_shot() {
        let edl = "TITLE: REEL 1\nFCM: NON-DROP FRAME\n\n\
            001  AX       V     C        00:00:00:00 00:00:40:00 01:00:00:00 01:00:40:00\n\
            * FROM CLIP NAME: SC 1 EXT BEACH\n\
            001  AX       AA    C        00:00:00:00 00:00:40:00 01:00:00:00 01:00:40:00\n\
            002  AX       V     C        00:10:00:00 00:11:05:12 01:00:40:00 01:01:45:12\n\
            M2   AX       086.7          00:10:00:00\n";
        let s = resolve("cut.edl", edl);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].start_s, s[0].end_s), (0.0, 40.0));
        assert_eq!(s[0].name.as_deref(), Some("SC 1 EXT BEACH"));
        assert_eq!((s[1].start_s, s[1].end_s), (40.0, 105.5));
    }

    #[test]
    fn malformed_edl_event_is_an_error_naming_its_line() {
        let edl = "TITLE: X\n001  AX  V  C  00:00:00:00 00:00:40:00 01:00:00:00\n";
        let err = SceneFile::parse(Path::new("cut.edl"), edl, FrameRate::Fps24)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cut.edl") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn pro_tools_marker_listing_starts_one_scene_per_marker() {
        let text = "M A R K E R S  L I S T I N G\n\
            #   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME                             \tCOMMENTS\n\
            1   \t01:00:00:00  \t172800000         \tSamples  \tScene 1 - Beach                  \t\n\
            2   \t01:01:10:00  \t176160000         \tSamples  \tScene 2 - Car                    \tnight\n";
        let f = SceneFile::parse(Path::new("markers.txt"), text, FrameRate::Fps24).unwrap();
        assert_eq!(f.format, SceneFileFormat::Markers);
        let mut w = Vec::new();
        let s = f.resolve(&clock(), 300.0, &mut w);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].start_s, s[0].end_s), (0.0, 70.0));
        assert_eq!((s[1].start_s, s[1].end_s), (70.0, 300.0));
        assert_eq!(s[0].name.as_deref(), Some("Scene 1 - Beach"));
        assert_eq!(s[1].name.as_deref(), Some("Scene 2 - Car"));
    }

    #[test]
    fn avid_and_plain_marker_lines_are_read() {
        let text = "editor\t01:00:00:00\tV1\tred\tOpening\t1\t\n\
            01:02:00:00 Chase scene\n";
        let s = resolve("m.txt", text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name.as_deref(), Some("Opening"));
        assert_eq!(s[1].name.as_deref(), Some("Chase scene"));
        assert_eq!(s[1].start_s, 120.0);
    }

    #[test]
    fn numbered_marker_without_timecode_is_an_error() {
        let err = SceneFile::parse(
            Path::new("m.txt"),
            "1\t1|1|000\tSamples\tIntro\n",
            FrameRate::Fps24,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("m.txt") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn scenes_outside_the_reel_are_left_out_with_a_warning() {
        let f = SceneFile::parse(Path::new("s.csv"), "10,20\n400,500\n", FrameRate::Fps24).unwrap();
        let mut w = Vec::new();
        let s = f.resolve(&clock(), 300.0, &mut w);
        assert_eq!(s.len(), 1);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("line 2"), "{w:?}");
    }

    #[test]
    fn drop_frame_scene_files_refuse_dropped_labels() {
        let err = SceneFile::parse(
            Path::new("s.csv"),
            "00:00:00;00,00:01:00;00\n",
            FrameRate::Fps29_97Df,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
