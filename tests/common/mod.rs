//! Builders for hand-made RIFF/RF64/BWF files used by several test files.
#![allow(dead_code)]

use std::path::Path;

/// A `fmt ` chunk body: tag, channels, rate, bits (container), optional extensible mask+subtag.
pub fn fmt_body(tag: u16, channels: u16, rate: u32, bits: u16, ext: Option<(u32, u16)>) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut b = Vec::new();
    b.extend_from_slice(&(if ext.is_some() { 0xFFFEu16 } else { tag }).to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    b.extend_from_slice(&block.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    if let Some((mask, sub)) = ext {
        b.extend_from_slice(&22u16.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(&mask.to_le_bytes());
        b.extend_from_slice(&sub.to_le_bytes());
        b.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    b
}

pub fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(id);
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A `bext` body with the given TimeReference.
pub fn bext_body(time_reference: u64) -> Vec<u8> {
    let mut b = vec![0u8; 602];
    b[..8].copy_from_slice(b"test bwf");
    b[338..346].copy_from_slice(&time_reference.to_le_bytes());
    b
}

/// A plain RIFF WAVE file from chunks (already framed).
pub fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(&body);
    f
}

/// An RF64 file: 0xFFFFFFFF sizes with the real ones in `ds64`.
pub fn rf64(fmt: &[u8], data: &[u8], magic: &[u8; 4]) -> Vec<u8> {
    let fmt_c = chunk(b"fmt ", fmt);
    let riff_size = (4 + 36 + fmt_c.len() + 8 + data.len()) as u64;
    let mut ds64 = Vec::new();
    ds64.extend_from_slice(&riff_size.to_le_bytes());
    ds64.extend_from_slice(&(data.len() as u64).to_le_bytes());
    ds64.extend_from_slice(&((data.len() / 6) as u64).to_le_bytes());
    ds64.extend_from_slice(&0u32.to_le_bytes());
    let mut f = Vec::new();
    f.extend_from_slice(magic);
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(&chunk(b"ds64", &ds64));
    f.extend_from_slice(&fmt_c);
    f.extend_from_slice(b"data");
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(data);
    f
}

pub fn i16_bytes(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
pub fn i24_bytes(v: &[i32]) -> Vec<u8> {
    v.iter()
        .flat_map(|x| {
            let b = x.to_le_bytes();
            [b[0], b[1], b[2]]
        })
        .collect()
}
pub fn i32_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
pub fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes a mono or multichannel 24-bit WAV with hound.
pub fn write_wav24(path: &Path, channels: u16, rate: u32, frames: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for f in frames {
        for &s in f {
            w.write_sample((s * 8_388_607.0).round() as i32).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Writes a mono 16-bit WAV of `n` samples of a sine.
pub fn write_sine16(path: &Path, rate: u32, n: usize, freq: f32, amp: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..n {
        let s = amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin();
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Reads a whole source into memory (tests only; sources are small).
pub fn read_all(src: &mut dyn stemscope::decode::AudioSource) -> Vec<f32> {
    let mut all = Vec::new();
    let mut buf = Vec::new();
    loop {
        let n = src.read(&mut buf, 4096).unwrap();
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf);
    }
    all
}

/// The shared corpus, or None (with a message) when it is absent.
/// `STEMSCOPE_CORPUS` overrides the location (e.g. for a worktree that is not beside `shared`).
pub fn corpus() -> Option<std::path::PathBuf> {
    let p = std::env::var_os("STEMSCOPE_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if p.join("MANIFEST.tsv").exists() {
        Some(p)
    } else {
        eprintln!("skipping: corpus not found at {}", p.display());
        None
    }
}
