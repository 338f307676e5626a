//! One multichannel stem made of several mono files (one file per channel), as film mixes are often
//! delivered (`Title_DX_L.wav`, `Title_DX_C.wav`, ...).
//!
//! Each file is opened with [`super::open`] and read through its own [`BlockReader`], so every call
//! takes the same number of frames from each; the frames are then interleaved. The files must agree
//! on sample rate and (when their headers tell) on length: a per-channel set whose members disagree
//! is more likely a wrong grouping than a stem, so it is refused with the numbers. Channel roles come
//! from the name suffixes (`_L`, `.C`, `_Ls`, ...); when they do not name every channel once, the
//! default order for the channel count is used.

use std::path::PathBuf;

use super::{
    AudioSource, BlockReader, ChannelRole, DecodeDiagnostics, DecodeError, StreamInfo, limits,
};

pub struct MultiMonoSource {
    info: StreamInfo,
    paths: Vec<PathBuf>,
    readers: Vec<BlockReader>,
    scratch: Vec<f32>,
    /// Set when one file ended before the others: (frames of the longest header, frames read).
    uneven_end: Option<(u64, u64)>,
    frames_read: u64,
}

fn disagree(path: &std::path::Path, message: String) -> crate::Error {
    crate::Error::Decode {
        path: path.to_path_buf(),
        source: DecodeError::ChannelFiles { message },
    }
}

impl MultiMonoSource {
    pub fn open(paths: &[PathBuf]) -> Result<Self, crate::Error> {
        let first = paths
            .first()
            .ok_or_else(|| crate::Error::Other("a per-channel stem without files".into()))?;
        if paths.len() > limits::MAX_FILES_PER_STEM {
            return Err(disagree(
                first,
                format!(
                    "{} per-channel files (at most {})",
                    paths.len(),
                    limits::MAX_FILES_PER_STEM
                ),
            ));
        }
        let mut readers = Vec::with_capacity(paths.len());
        for p in paths {
            let src = super::open(p).map_err(|source| crate::Error::Decode {
                path: p.clone(),
                source,
            })?;
            if src.info().channel_count() != 1 {
                return Err(disagree(
                    p,
                    format!(
                        "a per-channel file must be mono, this one has {} channels",
                        src.info().channel_count()
                    ),
                ));
            }
            readers.push(BlockReader::new(src));
        }
        let rate = readers[0].info().sample_rate;
        let frames = readers[0].info().frames;
        for (r, p) in readers.iter().zip(paths).skip(1) {
            if r.info().sample_rate != rate {
                return Err(disagree(
                    p,
                    format!(
                        "{} Hz, but {} is {rate} Hz",
                        r.info().sample_rate,
                        first.display()
                    ),
                ));
            }
            if let (Some(a), Some(b)) = (frames, r.info().frames)
                && a != b
            {
                return Err(disagree(
                    p,
                    format!("{b} frames, but {} has {a} frames", first.display()),
                ));
            }
        }
        let named: Vec<ChannelRole> = paths
            .iter()
            .map(|p| crate::discover::channel_role_of(p).unwrap_or(ChannelRole::Unknown))
            .collect();
        let all_named = named.iter().all(|r| *r != ChannelRole::Unknown)
            && named
                .iter()
                .enumerate()
                .all(|(i, r)| !named[..i].contains(r));
        let channels = if all_named {
            named
        } else {
            super::default_roles(paths.len())
        };
        let format = format!("{} x mono {}", paths.len(), readers[0].info().format);
        let time_reference = readers[0].info().time_reference;
        Ok(MultiMonoSource {
            info: StreamInfo {
                sample_rate: rate,
                channels,
                frames,
                format,
                time_reference,
            },
            paths: paths.to_vec(),
            readers,
            scratch: Vec::new(),
            uneven_end: None,
            frames_read: 0,
        })
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

impl AudioSource for MultiMonoSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, DecodeError> {
        out.clear();
        let ch = self.readers.len();
        let want = max_frames.clamp(1, 1 << 20);
        let mut n = usize::MAX;
        let mut longest = 0;
        for (c, r) in self.readers.iter_mut().enumerate() {
            let got = r.read_block(&mut self.scratch, want)?;
            if c == 0 {
                out.resize(got * ch, 0.0);
            }
            n = n.min(got);
            longest = longest.max(got);
            for (i, &s) in self.scratch.iter().take(out.len() / ch).enumerate() {
                out[i * ch + c] = s;
            }
        }
        let n = if n == usize::MAX { 0 } else { n };
        if n < longest {
            // One channel ran out before the others: stop at the shortest.
            self.uneven_end = Some((
                self.info
                    .frames
                    .unwrap_or(self.frames_read + longest as u64),
                self.frames_read + n as u64,
            ));
        }
        out.truncate(n * ch);
        self.frames_read += n as u64;
        if n < longest {
            // Make later calls return 0.
            self.readers.iter_mut().for_each(|r| r.stop());
        }
        Ok(n)
    }

    fn diagnostics(&self) -> DecodeDiagnostics {
        let mut d = DecodeDiagnostics::default();
        for r in &self.readers {
            let rd = r.diagnostics();
            d.skipped_packets += rd.skipped_packets;
            if d.truncated.is_none() {
                d.truncated = rd.truncated;
            }
        }
        if d.truncated.is_none() {
            d.truncated = self.uneven_end;
        }
        d
    }
}
