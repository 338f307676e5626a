//! A streaming BWF writer: `fmt ` (PCM, or WAVE_FORMAT_EXTENSIBLE with a channel mask), a `bext` chunk
//! carrying the start time reference, then the samples. The length is known before the first sample
//! is written, so the header is final from the start and nothing is seeked back; files whose data
//! would pass 4 GiB are written as RF64 with a `ds64` chunk.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The format of a file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BwfSpec {
    pub sample_rate: u32,
    pub channels: u16,
    /// 16 or 24.
    pub bits: u16,
    /// WAVE_FORMAT_EXTENSIBLE channel mask; `None` writes plain PCM (mono, stereo).
    pub channel_mask: Option<u32>,
    /// Position of the first sample, in samples since midnight (BWF `TimeReference`).
    pub time_reference: u64,
    /// `bext` Description (truncated to 256 bytes).
    pub description: String,
}

const BEXT_LEN: usize = 602;
const KSDATAFORMAT_SUBTYPE_PCM: [u8; 16] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

pub struct BwfWriter {
    path: PathBuf,
    out: BufWriter<File>,
    spec: BwfSpec,
    frames_total: u64,
    frames_written: u64,
    bytes: Vec<u8>,
}

fn io_err(path: &Path, e: std::io::Error) -> crate::Error {
    crate::Error::io(path, e)
}

impl BwfWriter {
    /// Creates `path` for exactly `frames_total` frames.
    pub fn create(path: &Path, spec: BwfSpec, frames_total: u64) -> crate::Result<Self> {
        if spec.bits != 16 && spec.bits != 24 {
            return Err(crate::Error::Input {
                path: path.to_path_buf(),
                message: format!("cannot write {}-bit samples (16 or 24)", spec.bits),
            });
        }
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let header = header_bytes(&spec, frames_total);
        out.write_all(&header).map_err(|e| io_err(path, e))?;
        Ok(BwfWriter {
            path: path.to_path_buf(),
            out,
            spec,
            frames_total,
            frames_written: 0,
            bytes: Vec::new(),
        })
    }

    /// Writes interleaved frames in [-1, 1] (clipped), rounding to the file's integer format.
    pub fn write(&mut self, interleaved: &[f32]) -> crate::Result<()> {
        let ch = self.spec.channels as usize;
        let frames = (interleaved.len() / ch) as u64;
        if self.frames_written + frames > self.frames_total {
            return Err(crate::Error::Other(format!(
                "{}: more frames written than announced in the header",
                self.path.display()
            )));
        }
        self.bytes.clear();
        match self.spec.bits {
            16 => {
                for &x in interleaved {
                    let v = (x.clamp(-1.0, 1.0) * 32767.0).round() as i16;
                    self.bytes.extend_from_slice(&v.to_le_bytes());
                }
            }
            _ => {
                for &x in interleaved {
                    let v = (x.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32;
                    self.bytes.extend_from_slice(&v.to_le_bytes()[..3]);
                }
            }
        }
        self.frames_written += frames;
        self.out
            .write_all(&self.bytes)
            .map_err(|e| io_err(&self.path, e))
    }

    /// Flushes the file; an error if fewer frames were written than announced.
    pub fn finish(mut self) -> crate::Result<PathBuf> {
        if self.frames_written != self.frames_total {
            return Err(crate::Error::Other(format!(
                "{}: {} frames written, {} announced",
                self.path.display(),
                self.frames_written,
                self.frames_total
            )));
        }
        let data_bytes =
            self.frames_total * self.spec.channels as u64 * (self.spec.bits / 8) as u64;
        if data_bytes % 2 == 1 {
            self.out
                .write_all(&[0])
                .map_err(|e| io_err(&self.path, e))?;
        }
        self.out.flush().map_err(|e| io_err(&self.path, e))?;
        Ok(self.path)
    }
}

fn fixed(text: &str, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = text.bytes().take(len).collect();
    v.resize(len, 0);
    v
}

fn header_bytes(spec: &BwfSpec, frames: u64) -> Vec<u8> {
    let block_align = spec.channels as u32 * (spec.bits / 8) as u32;
    let data_bytes = frames * block_align as u64;
    let mut fmt = Vec::with_capacity(40);
    let tag: u16 = if spec.channel_mask.is_some() {
        0xFFFE
    } else {
        1
    };
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&spec.channels.to_le_bytes());
    fmt.extend_from_slice(&spec.sample_rate.to_le_bytes());
    fmt.extend_from_slice(&(spec.sample_rate * block_align).to_le_bytes());
    fmt.extend_from_slice(&(block_align as u16).to_le_bytes());
    fmt.extend_from_slice(&spec.bits.to_le_bytes());
    if let Some(mask) = spec.channel_mask {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&spec.bits.to_le_bytes());
        fmt.extend_from_slice(&mask.to_le_bytes());
        fmt.extend_from_slice(&KSDATAFORMAT_SUBTYPE_PCM);
    }

    let mut bext = Vec::with_capacity(BEXT_LEN);
    bext.extend(fixed(&spec.description, 256));
    bext.extend(fixed("stemscope synth", 32)); // Originator
    bext.extend(fixed("", 32)); // OriginatorReference
    bext.extend(fixed("2026-01-01", 10)); // fixed, so that output is byte-identical
    bext.extend(fixed("00:00:00", 8));
    bext.extend_from_slice(&(spec.time_reference as u32).to_le_bytes());
    bext.extend_from_slice(&((spec.time_reference >> 32) as u32).to_le_bytes());
    bext.extend_from_slice(&1u16.to_le_bytes()); // version 1
    bext.resize(BEXT_LEN, 0); // UMID, loudness fields, reserved

    let padded_data = data_bytes + data_bytes % 2;
    let body = 4 + (8 + fmt.len() as u64) + (8 + BEXT_LEN as u64) + 8 + padded_data;
    let rf64 = body + 8 + 36 > u32::MAX as u64;
    let mut h = Vec::with_capacity(128 + BEXT_LEN);
    if rf64 {
        let riff_size = body + 36; // ds64 chunk included
        h.extend_from_slice(b"RF64");
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        h.extend_from_slice(b"ds64");
        h.extend_from_slice(&28u32.to_le_bytes());
        h.extend_from_slice(&riff_size.to_le_bytes());
        h.extend_from_slice(&data_bytes.to_le_bytes());
        h.extend_from_slice(&frames.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
    } else {
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(body as u32).to_le_bytes());
        h.extend_from_slice(b"WAVE");
    }
    h.extend_from_slice(b"fmt ");
    h.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    h.extend(fmt);
    h.extend_from_slice(b"bext");
    h.extend_from_slice(&(BEXT_LEN as u32).to_le_bytes());
    h.extend(bext);
    h.extend_from_slice(b"data");
    let data_field = if rf64 { u32::MAX } else { data_bytes as u32 };
    h.extend_from_slice(&data_field.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(channels: u16, bits: u16, mask: Option<u32>) -> BwfSpec {
        BwfSpec {
            sample_rate: 48_000,
            channels,
            bits,
            channel_mask: mask,
            time_reference: 172_800_000,
            description: "test".into(),
        }
    }

    /// Finds a chunk's body by walking the RIFF chunks.
    fn chunk<'a>(bytes: &'a [u8], id: &[u8; 4]) -> Option<&'a [u8]> {
        let mut i = 12;
        while i + 8 <= bytes.len() {
            let size = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().ok()?) as usize;
            if &bytes[i..i + 4] == id {
                return bytes.get(i + 8..i + 8 + size);
            }
            i += 8 + size + size % 2;
        }
        None
    }

    #[test]
    fn five_one_24_bit_file_reads_back_with_hound_and_carries_the_time_reference() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        let mut w = BwfWriter::create(&path, spec(6, 24, Some(0x3F)), 100).unwrap();
        let frames: Vec<f32> = (0..600).map(|i| ((i % 6) as f32 - 2.5) / 4.0).collect();
        w.write(&frames).unwrap();
        w.finish().unwrap();

        let mut r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.spec().channels, 6);
        assert_eq!(r.spec().bits_per_sample, 24);
        assert_eq!(r.len(), 600);
        let s: Vec<i32> = r.samples::<i32>().map(|s| s.unwrap()).collect();
        assert_eq!(s[0], (-2.5f32 / 4.0 * 8_388_607.0).round() as i32);
        assert_eq!(s[5], (2.5f32 / 4.0 * 8_388_607.0).round() as i32);

        let bytes = std::fs::read(&path).unwrap();
        let fmt = chunk(&bytes, b"fmt ").unwrap();
        assert_eq!(u16::from_le_bytes([fmt[0], fmt[1]]), 0xFFFE);
        assert_eq!(u32::from_le_bytes(fmt[20..24].try_into().unwrap()), 0x3F);
        let bext = chunk(&bytes, b"bext").unwrap();
        assert_eq!(bext.len(), 602);
        let lo = u32::from_le_bytes(bext[338..342].try_into().unwrap()) as u64;
        let hi = u32::from_le_bytes(bext[342..346].try_into().unwrap()) as u64;
        assert_eq!(lo | (hi << 32), 172_800_000);
    }

    #[test]
    fn writing_fewer_frames_than_announced_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = BwfWriter::create(&dir.path().join("s.wav"), spec(2, 16, None), 10).unwrap();
        w.write(&[0.0; 8]).unwrap();
        assert!(w.finish().is_err());
    }

    #[test]
    fn huge_files_get_an_rf64_header() {
        let h = header_bytes(&spec(6, 24, Some(0x3F)), 300_000_000);
        assert_eq!(&h[0..4], b"RF64");
        assert_eq!(&h[12..16], b"ds64");
        let data = u64::from_le_bytes(h[28..36].try_into().unwrap());
        assert_eq!(data, 300_000_000 * 18);
        let small = header_bytes(&spec(2, 16, None), 1000);
        assert_eq!(&small[0..4], b"RIFF");
    }
}
