//! Decode: turns a stem file (or a set of per-channel mono files) into blocks of interleaved `f32`
//! samples, streaming, in constant memory.
//!
//! PCM WAV / BWF / RF64 / BW64 goes through our own chunk walker ([`riff`]) because it is where film
//! stems spend their decode time and because it carries the `bext` time reference; everything else
//! (FLAC, AIFF, Ogg Vorbis, MP3, ...) goes through symphonia ([`compressed`]). Per-channel mono files
//! are zipped into one multichannel source by [`multi`]. [`read_ahead`] decodes a stem's next block
//! while its current one is analysed.

pub mod compressed;
pub mod concat;
pub mod multi;
pub mod read_ahead;
pub mod riff;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::discover::{StemKind, StemSet};

/// Hard limits against malicious or broken streams.
pub mod limits {
    /// More channels than this is not a film stem.
    pub const MAX_CHANNELS: usize = 64;
    /// Sample rates outside this range are refused.
    pub const MIN_SAMPLE_RATE: u32 = 4_000;
    pub const MAX_SAMPLE_RATE: u32 = 768_000;
    /// Largest chunk (other than `data`) that the walker will read into memory.
    pub const MAX_METADATA_CHUNK: u64 = 16 * 1024 * 1024;
    /// Most files zipped into one stem (one per channel) or joined reels.
    pub const MAX_FILES_PER_STEM: usize = 64;
}

/// What a channel carries, as far as the file tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChannelRole {
    Mono,
    Left,
    Right,
    Centre,
    Lfe,
    LeftSurround,
    RightSurround,
    LeftRearSurround,
    RightRearSurround,
    /// A channel whose role the file does not tell (or one we do not model).
    Unknown,
}

/// The description of a decoded stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamInfo {
    pub sample_rate: u32,
    /// Channel roles, in the order of the interleaved samples.
    pub channels: Vec<ChannelRole>,
    /// Total frames when the container says so.
    pub frames: Option<u64>,
    /// Human-readable format, e.g. "WAV PCM 24-bit", "RF64 float 32-bit", "FLAC 24-bit".
    pub format: String,
    /// BWF `bext` TimeReference: the first sample's position in samples since midnight.
    pub time_reference: Option<u64>,
}

impl StreamInfo {
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
    pub fn duration_s(&self) -> Option<f64> {
        self.frames.map(|f| f as f64 / self.sample_rate as f64)
    }
}

/// Problems met while decoding that did not stop it; reported as warnings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecodeDiagnostics {
    /// The file ended before the length its header claims (frames expected, frames found).
    pub truncated: Option<(u64, u64)>,
    /// Corrupt packets that were skipped.
    pub skipped_packets: u64,
}

/// A streaming source of interleaved `f32` samples in [-1, 1].
pub trait AudioSource: Send {
    fn info(&self) -> &StreamInfo;
    /// Appends up to `max_frames` interleaved frames to `out` (after clearing it) and returns the
    /// number of frames read; 0 means the end of the stream.
    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, DecodeError>;
    /// Problems met so far.
    fn diagnostics(&self) -> DecodeDiagnostics;
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not an audio file this tool can read ({0})")]
    NotAudio(String),
    #[error("unsupported codec or sample format: {0}")]
    Unsupported(String),
    #[error("malformed {container} header: {message}")]
    Malformed {
        container: &'static str,
        message: String,
    },
    #[error("per-channel files disagree: {message}")]
    ChannelFiles { message: String },
    #[error("stream error: {0}")]
    Stream(String),
}

/// The default roles for a file that does not name its channels: mono, stereo, and the SMPTE/ITU
/// film orders L R C LFE Ls Rs (5.1) and L R C LFE Ls Rs Lrs Rrs (7.1).
pub fn default_roles(channels: usize) -> Vec<ChannelRole> {
    use ChannelRole::*;
    match channels {
        1 => vec![Mono],
        2 => vec![Left, Right],
        6 => vec![Left, Right, Centre, Lfe, LeftSurround, RightSurround],
        8 => vec![
            Left,
            Right,
            Centre,
            Lfe,
            LeftSurround,
            RightSurround,
            LeftRearSurround,
            RightRearSurround,
        ],
        n => vec![Unknown; n],
    }
}

/// Opens one audio file of any supported format: RIFF-family PCM on the fast path, everything else
/// through symphonia.
pub fn open(path: &Path) -> Result<Box<dyn AudioSource>, DecodeError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(DecodeError::NotAudio("a folder, not a file".into()));
    }
    let mut head = [0u8; 12];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    drop(file);
    if got == 0 {
        return Err(DecodeError::Empty);
    }
    if riff::is_riff_wave(&head[..got]) {
        return Ok(Box::new(riff::WavSource::open(path)?));
    }
    if got >= 4 && &head[..4] == b"riff" {
        return Err(DecodeError::Unsupported(
            "Sony Wave64 (.w64); convert it to RF64 or WAV".into(),
        ));
    }
    Ok(Box::new(compressed::SymphoniaSource::open(path)?))
}

/// Decodes an in-memory file through the same dispatch as [`open`] (`ext` hints the format).
pub fn open_bytes(bytes: Vec<u8>, ext: Option<&str>) -> Result<Box<dyn AudioSource>, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if riff::is_riff_wave(&bytes[..bytes.len().min(12)]) {
        let len = bytes.len() as u64;
        return Ok(Box::new(riff::WavSource::new(
            std::io::Cursor::new(bytes),
            len,
        )?));
    }
    Ok(Box::new(compressed::SymphoniaSource::from_bytes(
        bytes, ext,
    )?))
}

/// Opens a stem: one file, or several mono files that are one channel each (ordered as given).
pub fn open_stem(paths: &[PathBuf]) -> Result<Box<dyn AudioSource>, crate::Error> {
    match paths {
        [] => Err(crate::Error::Other("a stem without files".into())),
        [one] => open(one).map_err(|source| crate::Error::Decode {
            path: one.clone(),
            source,
        }),
        many => multi::MultiMonoSource::open(many).map(|s| Box::new(s) as Box<dyn AudioSource>),
    }
}

/// Opens the stem of `kind` in `set`: with joined reels, the reels' files played one after another
/// (a reel without this stem contributes silence of its length); otherwise the set's own files.
pub fn open_set_stem(set: &StemSet, kind: StemKind) -> Result<Box<dyn AudioSource>, crate::Error> {
    if set.joined_reels.is_empty() {
        let files = set
            .get(kind)
            .ok_or_else(|| crate::Error::Other(format!("no {} stem in the set", kind.name())))?;
        return open_stem(&files.paths);
    }
    Ok(Box::new(concat::ConcatSource::open(
        &set.joined_reels,
        kind,
    )?))
}

/// Reads exactly `frames` frames per call (fewer only at the end of the stream), whatever packet
/// sizes the underlying source returns, so that blocks of several stems stay aligned.
pub struct BlockReader {
    source: Box<dyn AudioSource>,
    carry: Vec<f32>,
    scratch: Vec<f32>,
    done: bool,
}

impl BlockReader {
    pub fn new(source: Box<dyn AudioSource>) -> Self {
        BlockReader {
            source,
            carry: Vec::new(),
            scratch: Vec::new(),
            done: false,
        }
    }

    pub fn info(&self) -> &StreamInfo {
        self.source.info()
    }

    pub fn diagnostics(&self) -> DecodeDiagnostics {
        self.source.diagnostics()
    }

    /// Ends the stream here: later reads return 0 frames.
    pub fn stop(&mut self) {
        self.done = true;
        self.carry.clear();
    }

    /// Fills `out` (cleared first) with `frames` interleaved frames; returns the frames read.
    pub fn read_block(&mut self, out: &mut Vec<f32>, frames: usize) -> Result<usize, DecodeError> {
        let ch = self.source.info().channel_count().max(1);
        let want = frames * ch;
        out.clear();
        let take = self.carry.len().min(want);
        out.extend(self.carry.drain(..take));
        if out.is_empty() && want > 0 && !self.done {
            // The usual case: the source fills `out` itself (at most `frames` frames), saving a
            // copy of every sample through `scratch`; what exceeds the block is carried over.
            let n = self.source.read(out, frames)?;
            if n == 0 {
                self.done = true;
            }
            out.truncate(n * ch);
            if out.len() > want {
                self.carry.extend_from_slice(&out[want..]);
                out.truncate(want);
            }
        }
        while out.len() < want && !self.done {
            let n = self.source.read(&mut self.scratch, frames)?;
            if n == 0 {
                self.done = true;
                break;
            }
            let room = want - out.len();
            let avail = self.scratch.len().min(n * ch);
            if avail <= room {
                out.extend_from_slice(&self.scratch[..avail]);
            } else {
                out.extend_from_slice(&self.scratch[..room]);
                self.carry.extend_from_slice(&self.scratch[room..avail]);
            }
        }
        Ok(out.len() / ch)
    }
}
