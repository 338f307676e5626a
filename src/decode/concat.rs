//! Joined reels: one stem played reel after reel (`--join-reels`), as one timeline.
//!
//! Every reel's files are opened up front so that disagreements (sample rate, channel count) are
//! refused before any work is done. A reel that lacks this stem (e.g. no music in reel 3) contributes
//! digital silence of that reel's length, taken from another stem of the same reel, so the stems of
//! the joined title stay aligned.

use crate::discover::{StemFiles, StemKind};

use super::{AudioSource, DecodeDiagnostics, DecodeError, StreamInfo};

enum Segment {
    Audio(Box<dyn AudioSource>),
    Silence { frames_left: u64 },
}

pub struct ConcatSource {
    info: StreamInfo,
    segments: Vec<Segment>,
    current: usize,
}

fn reel_error(files: &[StemFiles], message: String) -> crate::Error {
    let path = files
        .first()
        .and_then(|f| f.paths.first())
        .cloned()
        .unwrap_or_default();
    crate::Error::Decode {
        path,
        source: DecodeError::ChannelFiles { message },
    }
}

impl ConcatSource {
    pub fn open(reels: &[Vec<StemFiles>], kind: StemKind) -> Result<Self, crate::Error> {
        if reels.len() > super::limits::MAX_FILES_PER_STEM {
            return Err(crate::Error::Other(format!(
                "{} reels to join (at most {})",
                reels.len(),
                super::limits::MAX_FILES_PER_STEM
            )));
        }
        // First pass: open the reels that have this stem.
        let mut opened: Vec<Option<Box<dyn AudioSource>>> = Vec::with_capacity(reels.len());
        for reel in reels {
            opened.push(match reel.iter().find(|s| s.kind == kind) {
                Some(files) => Some(super::open_stem(&files.paths)?),
                None => None,
            });
        }
        let first =
            opened.iter().flatten().next().ok_or_else(|| {
                crate::Error::Other(format!("no reel has a {} stem", kind.name()))
            })?;
        let mut info = first.info().clone();
        let (rate, channels) = (info.sample_rate, info.channel_count());
        let mut total: Option<u64> = Some(0);
        let mut segments = Vec::with_capacity(reels.len());
        for (reel, src) in reels.iter().zip(opened) {
            match src {
                Some(src) => {
                    let i = src.info();
                    if i.sample_rate != rate || i.channel_count() != channels {
                        return Err(reel_error(
                            reel,
                            format!(
                                "joined reels disagree: this reel's {} stem is {} Hz with {} channels, the first is {rate} Hz with {channels}",
                                kind.name(),
                                i.sample_rate,
                                i.channel_count()
                            ),
                        ));
                    }
                    total = total.zip(i.frames).map(|(t, f)| t + f);
                    segments.push(Segment::Audio(src));
                }
                None => {
                    // The reel's length from any of its other stems.
                    let other = reel.first().ok_or_else(|| {
                        crate::Error::Other("an empty reel in --join-reels".into())
                    })?;
                    let probe = super::open_stem(&other.paths)?;
                    let pi = probe.info();
                    let frames = pi
                        .frames
                        .map(|f| {
                            (f as f64 * f64::from(rate) / f64::from(pi.sample_rate.max(1))).round()
                                as u64
                        })
                        .ok_or_else(|| {
                            reel_error(
                                reel,
                                format!(
                                    "this reel has no {} stem and the length of its other stems is unknown",
                                    kind.name()
                                ),
                            )
                        })?;
                    total = total.map(|t| t + frames);
                    segments.push(Segment::Silence {
                        frames_left: frames,
                    });
                }
            }
        }
        info.frames = total;
        // The joined timeline starts where the first reel starts.
        info.time_reference = match segments.first() {
            Some(Segment::Audio(s)) => s.info().time_reference,
            _ => None,
        };
        info.format = format!("{} ({} reels joined)", info.format, reels.len());
        Ok(ConcatSource {
            info,
            segments,
            current: 0,
        })
    }
}

impl AudioSource for ConcatSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, DecodeError> {
        out.clear();
        let ch = self.info.channel_count();
        while let Some(seg) = self.segments.get_mut(self.current) {
            let n = match seg {
                Segment::Audio(src) => src.read(out, max_frames)?,
                Segment::Silence { frames_left } => {
                    let n = (*frames_left).min(max_frames.clamp(1, 1 << 20) as u64) as usize;
                    *frames_left -= n as u64;
                    out.resize(n * ch, 0.0);
                    n
                }
            };
            if n > 0 {
                return Ok(n);
            }
            self.current += 1;
        }
        Ok(0)
    }

    fn diagnostics(&self) -> DecodeDiagnostics {
        let mut d = DecodeDiagnostics::default();
        for s in &self.segments {
            if let Segment::Audio(src) = s {
                let sd = src.diagnostics();
                d.skipped_packets += sd.skipped_packets;
                d.truncated = d.truncated.or(sd.truncated);
            }
        }
        d
    }
}
