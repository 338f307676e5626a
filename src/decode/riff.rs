//! RIFF / RF64 / BW64 chunk walker and PCM decoder (the fast path for film stems).
//!
//! Film stems are mostly uncompressed PCM in a RIFF-family container, and they are where a run spends
//! its decode time, so this path reads the `data` chunk in bulk into one reusable byte buffer and
//! converts it with one tight loop per sample format (no per-sample allocation, no codec layer).
//!
//! The walker understands:
//! - `RIFF`/`WAVE` (classic, 32-bit sizes), `RF64`/`WAVE` and `BW64`/`WAVE` (EBU Tech 3306 / ITU-R
//!   BS.2088: the real sizes live in the `ds64` chunk when a 32-bit size field holds `0xFFFFFFFF`);
//! - `fmt ` with `WAVE_FORMAT_PCM` (8/16/24/32-bit integer), `WAVE_FORMAT_IEEE_FLOAT` (32/64-bit) and
//!   `WAVE_FORMAT_EXTENSIBLE` (sub-format PCM or float, channel mask);
//! - `bext` (EBU Tech 3285): the 64-bit TimeReference, the first sample's position in samples since
//!   midnight;
//! - `data`: where the samples start and how long they run. A `data` chunk that claims more bytes than
//!   the file holds is decoded as far as it goes and reported as truncated.
//!
//! Everything else (`LIST`, `iXML`, `JUNK`, `fact`, ...) is skipped. Chunks after `data` are looked at
//! only to find a trailing `bext`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::limits;
use super::{AudioSource, ChannelRole, DecodeDiagnostics, DecodeError, StreamInfo};

/// The container flavour, as told by the first four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Riff,
    Rf64,
    Bw64,
}

impl Container {
    fn name(self) -> &'static str {
        match self {
            Container::Riff => "WAV",
            Container::Rf64 => "RF64",
            Container::Bw64 => "BW64",
        }
    }
}

/// How one sample is stored in the `data` chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// Unsigned 8-bit (the WAV convention for 8-bit).
    U8,
    /// Little-endian signed integer, 2 bytes.
    I16,
    /// Little-endian signed integer, 3 bytes.
    I24,
    /// Little-endian signed integer, 4 bytes.
    I32,
    /// Little-endian IEEE float, 4 bytes.
    F32,
    /// Little-endian IEEE float, 8 bytes.
    F64,
}

impl SampleFormat {
    pub fn bytes(self) -> usize {
        match self {
            SampleFormat::U8 => 1,
            SampleFormat::I16 => 2,
            SampleFormat::I24 => 3,
            SampleFormat::I32 | SampleFormat::F32 => 4,
            SampleFormat::F64 => 8,
        }
    }
    fn is_float(self) -> bool {
        matches!(self, SampleFormat::F32 | SampleFormat::F64)
    }
}

/// Everything the walker learnt from the header chunks.
#[derive(Debug, Clone, PartialEq)]
pub struct WavHeader {
    pub container: Container,
    pub sample_format: SampleFormat,
    /// Valid bits per sample (e.g. 20 in a 24-bit container); equals the container size otherwise.
    pub valid_bits: u16,
    pub channels: u16,
    pub sample_rate: u32,
    /// Bytes per frame.
    pub block_align: u16,
    /// `WAVE_FORMAT_EXTENSIBLE` speaker mask, when the file has one.
    pub channel_mask: Option<u32>,
    /// Byte offset of the first sample.
    pub data_offset: u64,
    /// Length of the `data` chunk as the header claims it (after `ds64` resolution), in bytes.
    pub data_len: u64,
    pub has_bext: bool,
    /// `bext` TimeReference (samples since midnight).
    pub time_reference: Option<u64>,
}

impl WavHeader {
    /// Frames the header claims.
    pub fn frames(&self) -> u64 {
        self.data_len / u64::from(self.block_align.max(1))
    }

    /// "BWF PCM 24-bit", "RF64 float 32-bit", "WAV PCM 16-bit", ...
    pub fn format_name(&self) -> String {
        let container = match (self.container, self.has_bext) {
            (Container::Riff, true) => "BWF",
            (c, _) => c.name(),
        };
        let kind = if self.sample_format.is_float() {
            "float"
        } else {
            "PCM"
        };
        format!("{container} {kind} {}-bit", self.valid_bits)
    }

    /// Channel roles from the speaker mask, or the SMPTE/ITU default order for the channel count.
    pub fn roles(&self) -> Vec<ChannelRole> {
        match self.channel_mask {
            _ if self.channels == 1 => vec![ChannelRole::Mono],
            Some(mask) if mask != 0 && mask.count_ones() as usize == usize::from(self.channels) => {
                roles_from_mask(mask)
            }
            _ => super::default_roles(usize::from(self.channels)),
        }
    }
}

/// `WAVE_FORMAT_EXTENSIBLE` speaker positions (same bit order as the interleaved channels).
pub mod speaker {
    pub const FRONT_LEFT: u32 = 0x1;
    pub const FRONT_RIGHT: u32 = 0x2;
    pub const FRONT_CENTER: u32 = 0x4;
    pub const LOW_FREQUENCY: u32 = 0x8;
    pub const BACK_LEFT: u32 = 0x10;
    pub const BACK_RIGHT: u32 = 0x20;
    pub const SIDE_LEFT: u32 = 0x200;
    pub const SIDE_RIGHT: u32 = 0x400;
}

/// Roles for the set bits of a speaker mask, in channel order. In a 7.1 mask (side and back pairs)
/// the side pair is the surround pair and the back pair the rear surrounds; in a 5.1 mask whichever
/// pair is present is the surround pair (Microsoft's 5.1 uses back, the "5.1 side" layout side).
pub fn roles_from_mask(mask: u32) -> Vec<ChannelRole> {
    use speaker::*;
    let has_side = mask & (SIDE_LEFT | SIDE_RIGHT) != 0;
    (0..32)
        .map(|bit| 1u32 << bit)
        .filter(|b| mask & b != 0)
        .map(|b| match b {
            FRONT_LEFT => ChannelRole::Left,
            FRONT_RIGHT => ChannelRole::Right,
            FRONT_CENTER => ChannelRole::Centre,
            LOW_FREQUENCY => ChannelRole::Lfe,
            BACK_LEFT if has_side => ChannelRole::LeftRearSurround,
            BACK_RIGHT if has_side => ChannelRole::RightRearSurround,
            BACK_LEFT => ChannelRole::LeftSurround,
            BACK_RIGHT => ChannelRole::RightSurround,
            SIDE_LEFT => ChannelRole::LeftSurround,
            SIDE_RIGHT => ChannelRole::RightSurround,
            _ => ChannelRole::Unknown,
        })
        .collect()
}

const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 0x0003;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// True when `head` (the first 12 bytes of a file) starts a RIFF-family WAVE file.
pub fn is_riff_wave(head: &[u8]) -> bool {
    head.len() >= 12
        && matches!(&head[0..4], b"RIFF" | b"RF64" | b"BW64")
        && &head[8..12] == b"WAVE"
}

fn malformed(container: Container, message: impl Into<String>) -> DecodeError {
    DecodeError::Malformed {
        container: container.name(),
        message: message.into(),
    }
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64le(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Reads up to `buf.len()` bytes, stopping early only at the end of the file.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads a whole (small) chunk body, refusing bodies over [`limits::MAX_METADATA_CHUNK`].
fn read_chunk_body<R: Read>(
    r: &mut R,
    container: Container,
    id: &[u8; 4],
    len: u64,
) -> Result<Vec<u8>, DecodeError> {
    if len > limits::MAX_METADATA_CHUNK {
        return Err(malformed(
            container,
            format!(
                "'{}' chunk of {len} bytes exceeds the {} byte limit",
                String::from_utf8_lossy(id),
                limits::MAX_METADATA_CHUNK
            ),
        ));
    }
    let mut body = vec![0u8; len as usize];
    let got = read_full(r, &mut body)?;
    if got < body.len() {
        return Err(malformed(
            container,
            format!(
                "'{}' chunk ends before its claimed {len} bytes",
                String::from_utf8_lossy(id)
            ),
        ));
    }
    Ok(body)
}

struct Fmt {
    format: SampleFormat,
    valid_bits: u16,
    channels: u16,
    sample_rate: u32,
    block_align: u16,
    mask: Option<u32>,
}

fn parse_fmt(container: Container, b: &[u8]) -> Result<Fmt, DecodeError> {
    if b.len() < 16 {
        return Err(malformed(
            container,
            format!("'fmt ' chunk is {} bytes, needs 16", b.len()),
        ));
    }
    let mut tag = u16le(b, 0);
    let channels = u16le(b, 2);
    let sample_rate = u32le(b, 4);
    let block_align = u16le(b, 12);
    let bits = u16le(b, 14);
    let mut valid_bits = bits;
    let mut mask = None;
    if tag == WAVE_FORMAT_EXTENSIBLE {
        if b.len() < 40 {
            return Err(malformed(
                container,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is {} bytes, needs 40",
                    b.len()
                ),
            ));
        }
        let vb = u16le(b, 18);
        if vb != 0 {
            valid_bits = vb;
        }
        mask = Some(u32le(b, 20));
        // The sub-format GUID starts with the classic format tag.
        tag = u16le(b, 24);
    }
    if channels == 0 {
        return Err(malformed(container, "zero channels"));
    }
    if usize::from(channels) > limits::MAX_CHANNELS {
        return Err(DecodeError::Unsupported(format!(
            "{channels} channels (at most {} supported)",
            limits::MAX_CHANNELS
        )));
    }
    if !(limits::MIN_SAMPLE_RATE..=limits::MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(DecodeError::Unsupported(format!(
            "sample rate {sample_rate} Hz (supported {}..{} Hz)",
            limits::MIN_SAMPLE_RATE,
            limits::MAX_SAMPLE_RATE
        )));
    }
    let format = match (tag, bits) {
        (WAVE_FORMAT_PCM, 8) => SampleFormat::U8,
        (WAVE_FORMAT_PCM, 16) => SampleFormat::I16,
        (WAVE_FORMAT_PCM, 24) => SampleFormat::I24,
        (WAVE_FORMAT_PCM, 32) => SampleFormat::I32,
        (WAVE_FORMAT_IEEE_FLOAT, 32) => SampleFormat::F32,
        (WAVE_FORMAT_IEEE_FLOAT, 64) => SampleFormat::F64,
        (WAVE_FORMAT_PCM | WAVE_FORMAT_IEEE_FLOAT, _) => {
            return Err(DecodeError::Unsupported(format!(
                "{} with {bits} bits per sample",
                if tag == WAVE_FORMAT_PCM {
                    "PCM"
                } else {
                    "float"
                }
            )));
        }
        _ => {
            return Err(DecodeError::Unsupported(format!(
                "WAV codec {} (format tag 0x{tag:04X}); only PCM and float WAV are read",
                codec_name(tag)
            )));
        }
    };
    if valid_bits == 0 || usize::from(valid_bits) > format.bytes() * 8 {
        valid_bits = (format.bytes() * 8) as u16;
    }
    if usize::from(block_align) != format.bytes() * usize::from(channels) {
        return Err(malformed(
            container,
            format!(
                "block align {block_align} does not match {channels} channels of {} bytes",
                format.bytes()
            ),
        ));
    }
    Ok(Fmt {
        format,
        valid_bits,
        channels,
        sample_rate,
        block_align,
        mask,
    })
}

fn codec_name(tag: u16) -> &'static str {
    match tag {
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0050 => "MPEG",
        0x0055 => "MP3",
        0x00FF | 0x1610 => "AAC",
        0x2000 => "AC-3",
        _ => "unknown",
    }
}

/// Walks the chunks of a RIFF-family WAVE stream and returns its header. `file_len` is the stream's
/// length in bytes; the reader is left anywhere.
pub fn read_header<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<WavHeader, DecodeError> {
    let mut head = [0u8; 12];
    let got = read_full(r, &mut head)?;
    if got == 0 {
        return Err(DecodeError::Empty);
    }
    if got < 12 || !is_riff_wave(&head) {
        return Err(DecodeError::NotAudio("no RIFF/RF64 WAVE header".into()));
    }
    let container = match &head[0..4] {
        b"RF64" => Container::Rf64,
        b"BW64" => Container::Bw64,
        _ => Container::Riff,
    };

    let mut pos: u64 = 12;
    let mut ds64_data: Option<u64> = None;
    let mut fmt: Option<Fmt> = None;
    // Outer None: no bext chunk; Some(None): a bext too short to hold a TimeReference.
    let mut bext: Option<Option<u64>> = None;
    let mut data: Option<(u64, u64)> = None;
    let mut chunks = 0usize;

    while pos.saturating_add(8) <= file_len {
        // Past `data`, only a trailing `bext` is of interest, and a broken tail is not an error.
        let after_data = data.is_some();
        if after_data && bext.is_some() {
            break;
        }
        chunks += 1;
        if chunks > 10_000 {
            if after_data {
                break;
            }
            return Err(malformed(container, "more than 10000 chunks"));
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut ch = [0u8; 8];
        if read_full(r, &mut ch)? < 8 {
            break;
        }
        let id: [u8; 4] = [ch[0], ch[1], ch[2], ch[3]];
        let size32 = u32le(&ch, 4);
        let body = pos + 8;
        let mut size = u64::from(size32);
        let parsed: Result<(), DecodeError> = (|| {
            match &id {
                b"ds64" if container != Container::Riff && !after_data => {
                    let b = read_chunk_body(r, container, &id, size)?;
                    if b.len() < 24 {
                        return Err(malformed(container, "'ds64' chunk shorter than 24 bytes"));
                    }
                    ds64_data = Some(u64le(&b, 8));
                }
                b"fmt " if !after_data => {
                    let b = read_chunk_body(r, container, &id, size)?;
                    fmt = Some(parse_fmt(container, &b)?);
                }
                b"bext" if bext.is_none() => {
                    let b = read_chunk_body(r, container, &id, size)?;
                    // Description 256, Originator 32, OriginatorReference 32, OriginationDate 10,
                    // OriginationTime 8, then TimeReference (low, high) at byte 338.
                    bext = Some((b.len() >= 346).then(|| u64le(&b, 338)));
                }
                _ => {}
            }
            Ok(())
        })();
        match parsed {
            Ok(()) => {}
            Err(_) if after_data => break,
            Err(e) => return Err(e),
        }
        if &id == b"data" && !after_data {
            if size32 == u32::MAX {
                size = match (container, ds64_data) {
                    (Container::Rf64 | Container::Bw64, Some(d)) => d,
                    (Container::Rf64 | Container::Bw64, None) => {
                        return Err(malformed(
                            container,
                            "'data' size is 0xFFFFFFFF but there is no 'ds64' chunk",
                        ));
                    }
                    // Some writers of >4 GB or streamed RIFF put 0xFFFFFFFF here: the samples
                    // run to the end of the file.
                    (Container::Riff, _) => file_len.saturating_sub(body),
                };
            }
            data = Some((body, size));
            if fmt.is_none() {
                break;
            }
        }
        pos = body.saturating_add(size).saturating_add(size & 1);
    }

    let fmt = fmt.ok_or_else(|| malformed(container, "no 'fmt ' chunk before the samples"))?;
    let (data_offset, data_len) = data.ok_or_else(|| malformed(container, "no 'data' chunk"))?;
    Ok(WavHeader {
        container,
        sample_format: fmt.format,
        valid_bits: fmt.valid_bits,
        channels: fmt.channels,
        sample_rate: fmt.sample_rate,
        block_align: fmt.block_align,
        channel_mask: fmt.mask,
        data_offset,
        data_len,
        has_bext: bext.is_some(),
        time_reference: bext.flatten(),
    })
}

/// Largest single bulk read, whatever the caller asks for.
const MAX_READ_BYTES: usize = 8 * 1024 * 1024;

/// Streaming PCM decoder over the `data` chunk of a RIFF-family WAVE file.
pub struct WavSource<R = File> {
    reader: R,
    header: WavHeader,
    info: StreamInfo,
    /// Bytes of whole frames still to read (limited to what the file holds).
    remaining: u64,
    frames_read: u64,
    bytes: Vec<u8>,
    diagnostics: DecodeDiagnostics,
    /// Frames the file really holds when it is shorter than its header claims.
    available_frames: u64,
}

impl WavSource<File> {
    /// Opens a WAV/BWF/RF64/BW64 file.
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            return Err(DecodeError::Empty);
        }
        let header = read_header(&mut file, len)?;
        WavSource::from_header(file, header, len)
    }
}

impl<R: Read + Seek + Send> WavSource<R> {
    /// Builds a source over any seekable reader (e.g. an in-memory cursor) of `len` bytes.
    pub fn new(mut reader: R, len: u64) -> Result<Self, DecodeError> {
        if len == 0 {
            return Err(DecodeError::Empty);
        }
        let header = read_header(&mut reader, len)?;
        WavSource::from_header(reader, header, len)
    }

    fn from_header(mut reader: R, header: WavHeader, len: u64) -> Result<Self, DecodeError> {
        let block = u64::from(header.block_align);
        let present = len.saturating_sub(header.data_offset).min(header.data_len);
        let claimed_frames = header.frames();
        let available_frames = present / block;
        let mut diagnostics = DecodeDiagnostics::default();
        if available_frames < claimed_frames {
            diagnostics.truncated = Some((claimed_frames, available_frames));
        }
        reader.seek(SeekFrom::Start(header.data_offset))?;
        let info = StreamInfo {
            sample_rate: header.sample_rate,
            channels: header.roles(),
            frames: Some(claimed_frames),
            format: header.format_name(),
            time_reference: header.time_reference,
        };
        Ok(WavSource {
            reader,
            remaining: available_frames * block,
            header,
            info,
            frames_read: 0,
            bytes: Vec::new(),
            diagnostics,
            available_frames,
        })
    }

    pub fn header(&self) -> &WavHeader {
        &self.header
    }
}

impl<R: Read + Seek + Send> AudioSource for WavSource<R> {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, DecodeError> {
        out.clear();
        let block = usize::from(self.header.block_align);
        let max_frames = max_frames.min((MAX_READ_BYTES / block).max(1));
        let want = (max_frames as u64 * block as u64).min(self.remaining) as usize;
        if want == 0 {
            return Ok(0);
        }
        self.bytes.resize(want, 0);
        let got = read_full(&mut self.reader, &mut self.bytes)?;
        let frames = got / block;
        if got < want {
            // The file shrank under us (or lied about its length): stop at what is there.
            self.remaining = 0;
            let found = self.frames_read + frames as u64;
            self.diagnostics.truncated = Some((self.header.frames(), found));
            self.available_frames = found;
        } else {
            self.remaining -= want as u64;
        }
        convert(
            self.header.sample_format,
            &self.bytes[..frames * block],
            out,
        );
        self.frames_read += frames as u64;
        Ok(frames)
    }

    fn diagnostics(&self) -> DecodeDiagnostics {
        self.diagnostics.clone()
    }
}

/// Converts little-endian samples of `format` to `f32` in [-1, 1], replacing the contents of `out`.
/// Integers are scaled by 2^-(bits-1) of their container (so full-scale negative is exactly -1).
pub fn convert(format: SampleFormat, bytes: &[u8], out: &mut Vec<f32>) {
    let n = bytes.len() / format.bytes();
    out.clear();
    out.resize(n, 0.0);
    match format {
        SampleFormat::U8 => {
            const S: f32 = 1.0 / 128.0;
            for (o, &b) in out.iter_mut().zip(bytes) {
                *o = (f32::from(b) - 128.0) * S;
            }
        }
        SampleFormat::I16 => {
            const S: f32 = 1.0 / 32_768.0;
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = f32::from(i16::from_le_bytes([c[0], c[1]])) * S;
            }
        }
        SampleFormat::I24 => {
            // Place the 3 bytes in the top of an i32 and shift back down to sign-extend; the scale
            // folds in the 2^8 of the shift-free variant.
            const S: f32 = 1.0 / 2_147_483_648.0;
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(3)) {
                *o = i32::from_le_bytes([0, c[0], c[1], c[2]]) as f32 * S;
            }
        }
        SampleFormat::I32 => {
            const S: f32 = 1.0 / 2_147_483_648.0;
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32 * S;
            }
        }
        SampleFormat::F32 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = sanitize(f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            }
        }
        SampleFormat::F64 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                *o = sanitize(f64::from_le_bytes(a) as f32);
            }
        }
    }
}

/// NaN and infinities in a float file would poison every sum downstream; they become silence and
/// full scale.
#[inline]
fn sanitize(x: f32) -> f32 {
    if x.is_nan() { 0.0 } else { x.clamp(-1e3, 1e3) }
}
