//! Robustness: arbitrary bytes and mutated valid headers fed to the decoders must give an error or
//! audio, never a panic, and never unbounded work. `cargo test --release --test decode_fuzz --
//! --ignored` runs a longer mutation loop (FUZZ_ITERS, default 200000).

mod common;

use common::*;
use proptest::prelude::*;
use stemscope::decode;

/// Decodes everything the bytes yield (bounded), returning frames read or the error text.
fn exercise(bytes: Vec<u8>, ext: Option<&str>) -> Result<u64, String> {
    let mut src = decode::open_bytes(bytes, ext).map_err(|e| e.to_string())?;
    let ch = src.info().channel_count();
    assert!((1..=decode::limits::MAX_CHANNELS).contains(&ch));
    let mut buf = Vec::new();
    let mut frames = 0u64;
    for _ in 0..10_000 {
        let n = src.read(&mut buf, 1024).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        assert_eq!(buf.len(), n * ch);
        assert!(buf.iter().all(|s| s.is_finite()));
        frames += n as u64;
    }
    let _ = src.diagnostics();
    Ok(frames)
}

fn seeds() -> Vec<Vec<u8>> {
    let data = i24_bytes(&(0..60).map(|i| i * 1000).collect::<Vec<_>>());
    vec![
        riff(&[
            chunk(b"fmt ", &fmt_body(1, 2, 48_000, 24, None)),
            chunk(b"data", &data),
        ]),
        riff(&[
            chunk(b"bext", &bext_body(172_800_000)),
            chunk(b"fmt ", &fmt_body(1, 6, 48_000, 24, Some((0x3F, 1)))),
            chunk(b"data", &data),
        ]),
        rf64(&fmt_body(1, 2, 48_000, 24, None), &data, b"RF64"),
        rf64(
            &fmt_body(3, 1, 44_100, 32, None),
            &f32_bytes(&[0.5; 16]),
            b"BW64",
        ),
    ]
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(at, v) in edits {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = v;
        }
    }
    if let Some(c) = cut {
        let keep = c % (bytes.len() + 1);
        bytes.truncate(keep);
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048),
                                   ext in prop::sample::select(vec!["wav", "flac", "mp3", "ogg", "aiff"])) {
        let _ = exercise(bytes, Some(ext));
    }

    #[test]
    fn mutated_wav_and_rf64_headers_never_panic(seed in 0usize..4,
                                                edits in proptest::collection::vec((0usize..120, any::<u8>()), 1..6),
                                                cut in proptest::option::of(0usize..400)) {
        let bytes = mutate(seeds()[seed].clone(), &edits, cut);
        let _ = exercise(bytes, Some("wav"));
    }

    #[test]
    fn riff_magic_with_random_body_never_panics(body in proptest::collection::vec(any::<u8>(), 0..600),
                                                magic in prop::sample::select(vec![*b"RIFF", *b"RF64", *b"BW64"])) {
        let mut f = magic.to_vec();
        f.extend_from_slice(&u32::MAX.to_le_bytes());
        f.extend_from_slice(b"WAVE");
        f.extend_from_slice(&body);
        let _ = exercise(f, Some("wav"));
    }
}

/// Long mutation loop over the WAV seeds and the committed FLAC/MP3 fixtures (xorshift, seeded).
#[test]
#[ignore]
fn fuzz_loop_long() {
    let iters: u64 = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mut corpus: Vec<(Vec<u8>, &str)> = seeds().into_iter().map(|s| (s, "wav")).collect();
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (name, ext) in [("corrupt.flac", "flac"), ("corrupt.mp3", "mp3")] {
        let b = std::fs::read(fx.join(name)).unwrap();
        corpus.push((b[..b.len().min(8192)].to_vec(), ext));
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut ok, mut err) = (0u64, 0u64);
    for _ in 0..iters {
        let (seed, ext) = &corpus[(next() % corpus.len() as u64) as usize];
        let mut b = seed.clone();
        let n = 1 + next() % 8;
        for _ in 0..n {
            let i = (next() % b.len() as u64) as usize;
            // Header bytes more often than body bytes.
            let i = if next() % 2 == 0 {
                i % 128.min(b.len())
            } else {
                i
            };
            b[i] = next() as u8;
        }
        if next() % 4 == 0 {
            let keep = (next() % (b.len() as u64 + 1)) as usize;
            b.truncate(keep);
        }
        match exercise(b, Some(ext)) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    eprintln!(
        "fuzz_loop_long: {iters} inputs, {ok} decoded, {err} refused with an error, 0 panics"
    );
}
