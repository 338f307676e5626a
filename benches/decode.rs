//! Decode and decode + condition throughput on a generated 10-minute 48 kHz 24-bit 5.1 WAV (the
//! film-stem fast path). The file is written to a temporary folder outside the repository.
//!
//! `cargo bench --bench decode`; criterion reports time per pass over the 600 s file, so audio
//! seconds per wall second = 600 / time. Set STEMSCOPE_BENCH_MINUTES to change the length.

use std::io::Write;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stemscope::condition::Conditioner;
use stemscope::decode::{self, BlockReader};
use stemscope::discover::StemKind;

const RATE: u32 = 48_000;

/// Writes `minutes` of 5.1 24-bit noise-ish content (an LCG, cheap to generate) with hound's header.
fn write_51(path: &Path, minutes: f64) {
    let spec = hound::WavSpec {
        channels: 6,
        sample_rate: RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let frames = (minutes * 60.0 * f64::from(RATE)) as usize;
    // Header through hound (0 frames), then raw sample bytes, then fix the sizes.
    let w = hound::WavWriter::create(path, spec).unwrap();
    w.finalize().unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    let mut x: u32 = 12345;
    let mut buf = Vec::with_capacity(48_000 * 18);
    let mut left = frames;
    while left > 0 {
        let n = left.min(48_000);
        buf.clear();
        for _ in 0..n * 6 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let s = ((x >> 8) as i32 - (1 << 23)) >> 2;
            buf.extend_from_slice(&s.to_le_bytes()[..3]);
        }
        f.write_all(&buf).unwrap();
        left -= n;
    }
    drop(f);
    let data_len = (frames * 18) as u32;
    let mut bytes = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    use std::io::{Seek, SeekFrom};
    bytes.seek(SeekFrom::Start(4)).unwrap();
    bytes.write_all(&(36 + data_len).to_le_bytes()).unwrap();
    bytes.seek(SeekFrom::Start(40)).unwrap();
    bytes.write_all(&data_len.to_le_bytes()).unwrap();
}

fn pass(path: &Path, condition: bool) -> u64 {
    let src = decode::open(path).unwrap();
    let info = src.info().clone();
    let mut reader = BlockReader::new(src);
    let mut cond = Conditioner::new(StemKind::Dialogue, &info.channels, info.sample_rate).unwrap();
    let mut block = Vec::new();
    let mut out = Vec::new();
    let mut frames = 0u64;
    loop {
        let n = reader.read_block(&mut block, 24_000).unwrap();
        if n == 0 {
            break;
        }
        frames += n as u64;
        if condition {
            out.clear();
            cond.push(&block, &mut out).unwrap();
        }
    }
    if condition {
        cond.finish(&mut out).unwrap();
    }
    frames
}

fn bench(c: &mut Criterion) {
    let minutes: f64 = std::env::var("STEMSCOPE_BENCH_MINUTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let dir = tempfile::Builder::new()
        .prefix("stemscope-bench")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    let path = dir.path().join("Bench_DX.wav");
    write_51(&path, minutes);
    let frames = pass(&path, false);
    let mut g = c.benchmark_group("wav_51_24bit");
    g.sample_size(10);
    g.throughput(Throughput::Elements(frames));
    g.bench_function("decode", |b| b.iter(|| pass(&path, false)));
    g.bench_function("decode_condition", |b| b.iter(|| pass(&path, true)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
