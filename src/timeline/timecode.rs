//! SMPTE timecode: frame rates (23.976, 24, 25, 29.97 drop-frame, 29.97 non-drop, 30), conversion
//! between seconds, frame counts and `HH:MM:SS:FF` labels, drop-frame counting done the SMPTE 12M way.
//!
//! Times in stemscope are seconds of real time. A timecode label is a frame count written in hours,
//! minutes, seconds and frames at the *nominal* rate (24 for 23.976, 30 for 29.97); the frames run at the
//! real rate (24000/1001, 30000/1001). Drop-frame 29.97 skips labels `;00` and `;01` at the start of
//! every minute except minutes 0, 10, 20, 30, 40 and 50, so that its labels stay within a few frames of
//! the wall clock. 23.976 is always non-drop.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A video frame rate for timecode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum FrameRate {
    /// 24000/1001 frames/s, non-drop, labelled at 24.
    #[serde(rename = "23.976")]
    Fps23_976,
    #[default]
    #[serde(rename = "24")]
    Fps24,
    #[serde(rename = "25")]
    Fps25,
    /// 30000/1001 frames/s, drop-frame labels (`HH:MM:SS;FF`).
    #[serde(rename = "29.97df")]
    Fps29_97Df,
    /// 30000/1001 frames/s, non-drop labels (drifts 3.6 s per hour from the wall clock).
    #[serde(rename = "29.97ndf")]
    Fps29_97Ndf,
    #[serde(rename = "30")]
    Fps30,
}

/// Frames dropped at the start of each non-tenth minute in 29.97 drop-frame.
const DF_DROP: i64 = 2;
/// Drop-frame frames in one minute that drops (30 * 60 - 2).
const DF_FRAMES_PER_MIN: i64 = 1798;
/// Drop-frame frames in ten minutes (9 dropping minutes and one full one).
const DF_FRAMES_PER_10MIN: i64 = 17982;

impl FrameRate {
    /// Frames per second of the labels: 24, 25 or 30.
    pub fn nominal(self) -> i64 {
        match self {
            FrameRate::Fps23_976 | FrameRate::Fps24 => 24,
            FrameRate::Fps25 => 25,
            FrameRate::Fps29_97Df | FrameRate::Fps29_97Ndf | FrameRate::Fps30 => 30,
        }
    }

    /// Real frames per second.
    pub fn fps(self) -> f64 {
        match self {
            FrameRate::Fps23_976 => 24000.0 / 1001.0,
            FrameRate::Fps29_97Df | FrameRate::Fps29_97Ndf => 30000.0 / 1001.0,
            other => other.nominal() as f64,
        }
    }

    pub fn drop_frame(self) -> bool {
        self == FrameRate::Fps29_97Df
    }

    /// The name accepted by `--fps` and written in reports.
    pub fn label(self) -> &'static str {
        match self {
            FrameRate::Fps23_976 => "23.976",
            FrameRate::Fps24 => "24",
            FrameRate::Fps25 => "25",
            FrameRate::Fps29_97Df => "29.97df",
            FrameRate::Fps29_97Ndf => "29.97ndf",
            FrameRate::Fps30 => "30",
        }
    }

    /// The frame count (frames since 00:00:00:00) of the frame that holds `seconds` of real time.
    /// A small tolerance keeps exact frame boundaries (e.g. 3600.0 s at 23.976) on their frame.
    pub fn frames_at(self, seconds: f64) -> i64 {
        (seconds * self.fps() + 1e-6).floor() as i64
    }

    /// The frame count whose start is nearest to `seconds`.
    pub fn nearest_frame(self, seconds: f64) -> i64 {
        (seconds * self.fps()).round() as i64
    }

    /// Real time in seconds at the start of frame `frames`.
    pub fn seconds_of(self, frames: i64) -> f64 {
        frames as f64 / self.fps()
    }

    /// The label of frame count `frames` (wraps at 24 hours; negative counts wrap backwards).
    pub fn timecode(self, frames: i64) -> Timecode {
        let nominal = self.nominal();
        let per_day = self.frames_per_day();
        let mut n = frames.rem_euclid(per_day);
        if self.drop_frame() {
            let tens = n / DF_FRAMES_PER_10MIN;
            let rest = n % DF_FRAMES_PER_10MIN;
            // Nine dropping minutes per ten: add back the labels skipped so far.
            n += 9 * DF_DROP * tens;
            if rest > DF_DROP {
                n += DF_DROP * ((rest - DF_DROP) / DF_FRAMES_PER_MIN);
            }
        }
        Timecode {
            hours: (n / (nominal * 3600)) as u32,
            minutes: ((n / (nominal * 60)) % 60) as u32,
            seconds: ((n / nominal) % 60) as u32,
            frames: (n % nominal) as u32,
            drop_frame: self.drop_frame(),
        }
    }

    /// The frame count of a label; `None` for a label this rate does not have (frame number too high,
    /// or a dropped `;00`/`;01` label in drop-frame).
    pub fn frames_of(self, tc: &Timecode) -> Option<i64> {
        let nominal = self.nominal();
        if tc.minutes > 59 || tc.seconds > 59 || i64::from(tc.frames) >= nominal || tc.hours > 23 {
            return None;
        }
        let total_minutes = i64::from(tc.hours) * 60 + i64::from(tc.minutes);
        let labels = (total_minutes * 60 + i64::from(tc.seconds)) * nominal + i64::from(tc.frames);
        if self.drop_frame() {
            if tc.seconds == 0 && i64::from(tc.frames) < DF_DROP && !tc.minutes.is_multiple_of(10) {
                return None;
            }
            Some(labels - DF_DROP * (total_minutes - total_minutes / 10))
        } else {
            Some(labels)
        }
    }

    /// Frames in 24 hours of labels.
    fn frames_per_day(self) -> i64 {
        if self.drop_frame() {
            DF_FRAMES_PER_10MIN * 6 * 24
        } else {
            self.nominal() * 86_400
        }
    }

    /// The label of the frame that holds `seconds` of real time.
    pub fn timecode_at(self, seconds: f64) -> Timecode {
        self.timecode(self.frames_at(seconds))
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for FrameRate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "23.976" | "23.98" | "23.976nd" => Ok(FrameRate::Fps23_976),
            "24" => Ok(FrameRate::Fps24),
            "25" => Ok(FrameRate::Fps25),
            "29.97" | "29.97df" | "29.97d" | "2997df" => Ok(FrameRate::Fps29_97Df),
            "29.97ndf" | "29.97nd" => Ok(FrameRate::Fps29_97Ndf),
            "30" => Ok(FrameRate::Fps30),
            other => Err(format!(
                "unknown frame rate {other:?}; use 23.976, 24, 25, 29.97 (drop-frame), 29.97ndf or 30"
            )),
        }
    }
}

/// An SMPTE timecode label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timecode {
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
    pub frames: u32,
    /// Written with `;` before the frames.
    pub drop_frame: bool,
}

impl Timecode {
    /// Parses `HH:MM:SS:FF` or `HH:MM:SS;FF` (each field one or two digits). Only the shape
    /// is checked here; [`FrameRate::frames_of`] checks the label exists at a rate.
    pub fn parse(text: &str) -> Option<Timecode> {
        let t = text.trim();
        let drop_frame = t.contains(';');
        let parts: Vec<&str> = t.split([':', ';']).collect();
        if parts.len() != 4 {
            return None;
        }
        let mut v = [0u32; 4];
        for (slot, p) in v.iter_mut().zip(&parts) {
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *slot = p.parse().ok()?;
        }
        Some(Timecode {
            hours: v[0],
            minutes: v[1],
            seconds: v[2],
            frames: v[3],
            drop_frame,
        })
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

/// Writes reel times as timecode: the reel's start (seconds since midnight, from the BWF time
/// reference; 0 when unknown) plus the time in the reel, at `rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    pub start_s: f64,
    pub rate: FrameRate,
}

impl Clock {
    pub fn new(start_s: f64, rate: FrameRate) -> Clock {
        Clock { start_s, rate }
    }

    /// The label of the frame holding reel time `t` (seconds from the start of the reel).
    pub fn label(&self, t: f64) -> String {
        self.rate.timecode_at(self.start_s + t).to_string()
    }

    /// Reel seconds of a label (may be negative when the label lies before the reel start).
    pub fn reel_seconds(&self, tc: &Timecode) -> Option<f64> {
        self.rate
            .frames_of(tc)
            .map(|f| self.rate.seconds_of(f) - self.start_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(s: &str) -> Timecode {
        Timecode::parse(s).unwrap()
    }

    #[test]
    fn drop_frame_skips_two_labels_at_each_minute() {
        let r = FrameRate::Fps29_97Df;
        let n = r.frames_of(&tc("00:00:59;29")).unwrap();
        assert_eq!(n, 1799);
        assert_eq!(r.timecode(n + 1).to_string(), "00:01:00;02");
        let n = r.frames_of(&tc("00:01:59;29")).unwrap();
        assert_eq!(r.timecode(n + 1).to_string(), "00:02:00;02");
    }

    #[test]
    fn drop_frame_keeps_labels_at_tenth_minutes() {
        let r = FrameRate::Fps29_97Df;
        let n = r.frames_of(&tc("00:09:59;29")).unwrap();
        assert_eq!(n, 17981);
        assert_eq!(r.timecode(n + 1).to_string(), "00:10:00;00");
        assert_eq!(r.timecode(n + 2).to_string(), "00:10:00;01");
        assert_eq!(r.frames_of(&tc("00:10:00;00")), Some(17982));
        assert_eq!(r.frames_of(&tc("01:00:00;00")), Some(107_892));
        // One hour of drop-frame labels is 3600 s of wall clock to within 4 ms.
        assert!((r.seconds_of(107_892) - 3600.0).abs() < 0.004);
    }

    #[test]
    fn dropped_labels_do_not_exist() {
        let r = FrameRate::Fps29_97Df;
        assert_eq!(r.frames_of(&tc("00:01:00;00")), None);
        assert_eq!(r.frames_of(&tc("00:01:00;01")), None);
        assert!(r.frames_of(&tc("00:20:00;00")).is_some());
        assert_eq!(FrameRate::Fps25.frames_of(&tc("00:00:00:25")), None);
    }

    #[test]
    fn drop_frame_round_trips_every_frame_of_a_day_sampled() {
        let r = FrameRate::Fps29_97Df;
        let mut n = 0;
        while n < r.frames_per_day() {
            let label = r.timecode(n);
            assert_eq!(r.frames_of(&label), Some(n), "{label}");
            n += 7;
        }
    }

    #[test]
    fn labels_are_consecutive_across_minute_and_ten_minute_boundaries() {
        let r = FrameRate::Fps29_97Df;
        for n in 0..(2 * DF_FRAMES_PER_10MIN + 10) {
            let a = r.timecode(n);
            let b = r.timecode(n + 1);
            let step = (b.hours * 108_000 + b.minutes * 1800 + b.seconds * 30 + b.frames) as i64
                - (a.hours * 108_000 + a.minutes * 1800 + a.seconds * 30 + a.frames) as i64;
            let expected = if b.seconds == 0 && b.frames == 2 && !b.minutes.is_multiple_of(10) {
                3
            } else {
                1
            };
            assert_eq!(step, expected, "{a} -> {b}");
        }
    }

    #[test]
    fn bwf_start_of_one_hour_reads_01_00_00_00_at_24_and_25() {
        let s = 172_800_000.0 / 48_000.0;
        assert_eq!(FrameRate::Fps24.timecode_at(s).to_string(), "01:00:00:00");
        assert_eq!(FrameRate::Fps25.timecode_at(s).to_string(), "01:00:00:00");
        assert_eq!(FrameRate::Fps30.timecode_at(s).to_string(), "01:00:00:00");
    }

    #[test]
    fn film_rate_23_976_is_non_drop_on_slowed_time() {
        let r = FrameRate::Fps23_976;
        // 01:00:00:00 at 23.976 is 86400 frames of 1001/24000 s: 3603.6 s of real time.
        assert_eq!(r.frames_of(&tc("01:00:00:00")), Some(86_400));
        assert!((r.seconds_of(86_400) - 3603.6).abs() < 1e-9);
        assert_eq!(r.timecode_at(3603.6).to_string(), "01:00:00:00");
        // The same real hour reads short of 01:00:00:00.
        assert_eq!(r.timecode_at(3600.0).to_string(), "00:59:56:09");
        assert!(!r.timecode_at(10.0).drop_frame);
    }

    #[test]
    fn non_drop_29_97_drifts_from_the_wall_clock() {
        let r = FrameRate::Fps29_97Ndf;
        assert_eq!(r.timecode_at(3600.0).to_string(), "00:59:56:12");
        assert_eq!(
            FrameRate::Fps29_97Df.timecode_at(3600.0).to_string(),
            "01:00:00;00"
        );
    }

    #[test]
    fn frame_rates_parse_from_their_labels() {
        for r in [
            FrameRate::Fps23_976,
            FrameRate::Fps24,
            FrameRate::Fps25,
            FrameRate::Fps29_97Df,
            FrameRate::Fps29_97Ndf,
            FrameRate::Fps30,
        ] {
            assert_eq!(r.label().parse::<FrameRate>(), Ok(r));
        }
        assert_eq!("29.97".parse::<FrameRate>(), Ok(FrameRate::Fps29_97Df));
        assert!("48".parse::<FrameRate>().is_err());
    }

    #[test]
    fn malformed_timecodes_are_refused() {
        for bad in [
            "",
            "1:2:3",
            "01:00:00:00:00",
            "01:0a:00:00",
            "001:00:00:00",
            "01:00:00.12",
        ] {
            assert_eq!(Timecode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn clock_labels_reel_times_from_the_start_timecode() {
        let c = Clock::new(3600.0, FrameRate::Fps24);
        assert_eq!(c.label(0.0), "01:00:00:00");
        assert_eq!(c.label(61.5), "01:01:01:12");
        assert_eq!(c.reel_seconds(&tc("01:00:10:12")), Some(10.5));
    }
}
