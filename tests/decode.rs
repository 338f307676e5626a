//! Decoding: every PCM format to the right values, RF64/ds64, BWF time reference, channel roles,
//! truncation, per-channel stems, joined reels, block alignment and the corpus' compressed files.

mod common;

use std::io::Cursor;

use common::*;
use stemscope::decode::riff::{self, WavSource};
use stemscope::decode::{self, AudioSource, BlockReader, ChannelRole, DecodeError};
use stemscope::discover::{StemFiles, StemKind};

fn wav_source(bytes: Vec<u8>) -> WavSource<Cursor<Vec<u8>>> {
    let len = bytes.len() as u64;
    WavSource::new(Cursor::new(bytes), len).unwrap()
}

fn decode_bytes(bytes: Vec<u8>) -> (stemscope::decode::StreamInfo, Vec<f32>) {
    let mut s = wav_source(bytes);
    let info = s.info().clone();
    (info, read_all(&mut s))
}

#[test]
fn pcm_16_bit_decodes_to_exact_fractions_of_full_scale() {
    let data = i16_bytes(&[0, 16384, -32768, 32767, -16384, 1]);
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 2, 48_000, 16, None)),
        chunk(b"data", &data),
    ]);
    let (info, s) = decode_bytes(f);
    assert_eq!(info.format, "WAV PCM 16-bit");
    assert_eq!(info.frames, Some(3));
    assert_eq!(info.channels, vec![ChannelRole::Left, ChannelRole::Right]);
    assert_eq!(
        s,
        vec![0.0, 0.5, -1.0, 32767.0 / 32768.0, -0.5, 1.0 / 32768.0]
    );
}

#[test]
fn pcm_24_bit_decodes_with_sign_extension() {
    let vals = [0, 4_194_304, -8_388_608, 8_388_607, -1, 1];
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 1, 48_000, 24, None)),
        chunk(b"data", &i24_bytes(&vals)),
    ]);
    let (info, s) = decode_bytes(f);
    assert_eq!(info.format, "WAV PCM 24-bit");
    assert_eq!(info.channels, vec![ChannelRole::Mono]);
    let want: Vec<f32> = vals.iter().map(|&v| v as f32 / 8_388_608.0).collect();
    assert_eq!(s, want);
}

#[test]
fn pcm_32_bit_integer_decodes() {
    let vals = [0, 1 << 30, i32::MIN, -(1 << 29)];
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 1, 44_100, 32, None)),
        chunk(b"data", &i32_bytes(&vals)),
    ]);
    let (info, s) = decode_bytes(f);
    assert_eq!(info.format, "WAV PCM 32-bit");
    assert_eq!(info.sample_rate, 44_100);
    assert_eq!(s, vec![0.0, 0.5, -1.0, -0.25]);
}

#[test]
fn float_32_and_64_bit_decode_and_non_finite_values_are_tamed() {
    let vals = [0.0f32, 0.25, -0.75, 1.5];
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(3, 1, 48_000, 32, None)),
        chunk(b"data", &f32_bytes(&vals)),
    ]);
    let (info, s) = decode_bytes(f);
    assert_eq!(info.format, "WAV float 32-bit");
    assert_eq!(s, vals);

    let vals64 = [0.125f64, -0.5, f64::NAN, f64::INFINITY];
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(3, 2, 48_000, 64, None)),
        chunk(b"data", &f64_bytes(&vals64)),
    ]);
    let (info, s) = decode_bytes(f);
    assert_eq!(info.format, "WAV float 64-bit");
    assert_eq!(&s[..2], &[0.125, -0.5]);
    assert_eq!(s[2], 0.0, "NaN becomes silence");
    assert!(s[3].is_finite());
}

#[test]
fn pcm_8_bit_is_unsigned() {
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 1, 8_000, 8, None)),
        chunk(b"data", &[128, 0, 255, 192]),
    ]);
    let (_, s) = decode_bytes(f);
    assert_eq!(s, vec![0.0, -1.0, 127.0 / 128.0, 0.5]);
}

#[test]
fn extensible_5_1_mask_gives_film_roles() {
    let data = i24_bytes(&[1, 2, 3, 4, 5, 6]);
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 6, 48_000, 24, Some((0x3F, 1)))),
        chunk(b"data", &data),
    ]);
    let (info, s) = decode_bytes(f);
    use ChannelRole::*;
    assert_eq!(
        info.channels,
        vec![Left, Right, Centre, Lfe, LeftSurround, RightSurround]
    );
    assert_eq!(s.len(), 6);
    assert_eq!(info.format, "WAV PCM 24-bit");
}

#[test]
fn extensible_7_1_mask_puts_side_pair_as_surrounds_and_back_pair_as_rears() {
    use ChannelRole::*;
    assert_eq!(
        riff::roles_from_mask(0x63F),
        vec![
            Left,
            Right,
            Centre,
            Lfe,
            LeftRearSurround,
            RightRearSurround,
            LeftSurround,
            RightSurround
        ]
    );
    assert_eq!(
        riff::roles_from_mask(0x60F),
        vec![Left, Right, Centre, Lfe, LeftSurround, RightSurround]
    );
}

#[test]
fn six_and_eight_channels_without_mask_use_smpte_order() {
    use ChannelRole::*;
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 6, 48_000, 16, None)),
        chunk(b"data", &i16_bytes(&[0; 12])),
    ]);
    let (info, _) = decode_bytes(f);
    assert_eq!(
        info.channels,
        vec![Left, Right, Centre, Lfe, LeftSurround, RightSurround]
    );
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 8, 48_000, 16, None)),
        chunk(b"data", &i16_bytes(&[0; 16])),
    ]);
    let (info, _) = decode_bytes(f);
    assert_eq!(
        info.channels,
        vec![
            Left,
            Right,
            Centre,
            Lfe,
            LeftSurround,
            RightSurround,
            LeftRearSurround,
            RightRearSurround
        ]
    );
}

#[test]
fn extensible_float_sub_format_decodes_as_float() {
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 2, 48_000, 32, Some((0x3, 3)))),
        chunk(b"data", &f32_bytes(&[0.5, -0.5])),
    ]);
    let (info, s) = decode_bytes(f);
    assert_eq!(info.format, "WAV float 32-bit");
    assert_eq!(s, vec![0.5, -0.5]);
}

#[test]
fn rf64_sizes_come_from_ds64() {
    let vals: Vec<i32> = (0..20).map(|i| (i - 10) * 100_000).collect();
    let fmt = fmt_body(1, 2, 48_000, 24, None);
    for magic in [b"RF64", b"BW64"] {
        let f = rf64(&fmt, &i24_bytes(&vals), magic);
        let h = riff::read_header(&mut Cursor::new(&f), f.len() as u64).unwrap();
        assert_eq!(h.data_len, 60);
        let (info, s) = decode_bytes(f);
        assert_eq!(info.frames, Some(10));
        assert_eq!(
            info.format,
            format!("{} PCM 24-bit", String::from_utf8_lossy(magic))
        );
        let want: Vec<f32> = vals.iter().map(|&v| v as f32 / 8_388_608.0).collect();
        assert_eq!(s, want);
    }
}

#[test]
fn rf64_without_ds64_is_refused_as_malformed() {
    let mut f = rf64(&fmt_body(1, 2, 48_000, 24, None), &[0; 12], b"RF64");
    // Rename the ds64 chunk so that it is skipped as unknown.
    f[12..16].copy_from_slice(b"JUNK");
    let r = WavSource::new(Cursor::new(f.clone()), f.len() as u64);
    assert!(
        matches!(r, Err(DecodeError::Malformed { .. })),
        "{:?}",
        r.err()
    );
}

#[test]
fn bwf_bext_time_reference_is_read_before_or_after_the_data() {
    let data = chunk(b"data", &i24_bytes(&[7, 8]));
    let fmt = chunk(b"fmt ", &fmt_body(1, 2, 48_000, 24, None));
    let bext = chunk(b"bext", &bext_body(172_800_000));
    for chunks in [
        vec![bext.clone(), fmt.clone(), data.clone()],
        vec![fmt.clone(), data.clone(), bext.clone()],
    ] {
        let (info, s) = decode_bytes(riff(&chunks));
        assert_eq!(info.time_reference, Some(172_800_000));
        assert_eq!(info.format, "BWF PCM 24-bit");
        assert_eq!(s.len(), 2);
    }
    let (info, _) = decode_bytes(riff(&[fmt, chunk(b"LIST", b"INFOxxxx"), data]));
    assert_eq!(info.time_reference, None);
    assert_eq!(info.format, "WAV PCM 24-bit");
}

#[test]
fn odd_sized_chunks_are_padded() {
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 1, 48_000, 16, None)),
        chunk(b"iXML", b"<odd/>x"),
        chunk(b"data", &i16_bytes(&[16384])),
    ]);
    let (_, s) = decode_bytes(f);
    assert_eq!(s, vec![0.5]);
}

#[test]
fn truncated_wav_decodes_what_is_there_and_says_so() {
    let vals: Vec<i16> = (0..2000).map(|i| i as i16).collect();
    let mut f = riff(&[
        chunk(b"fmt ", &fmt_body(1, 2, 48_000, 16, None)),
        chunk(b"data", &i16_bytes(&vals)),
    ]);
    // Cut the file: 600 whole frames and half a frame remain.
    let keep = f.len() - (1000 - 600) * 4 + 2;
    f.truncate(keep);
    let mut s = wav_source(f);
    let all = read_all(&mut s);
    assert_eq!(all.len(), 600 * 2);
    assert_eq!(all[1199], 1199.0 / 32768.0);
    assert_eq!(s.diagnostics().truncated, Some((1000, 600)));
}

#[test]
fn unsupported_wav_codec_is_named() {
    let f = riff(&[
        chunk(b"fmt ", &fmt_body(0x55, 2, 48_000, 16, None)),
        chunk(b"data", &[0; 8]),
    ]);
    let e = WavSource::new(Cursor::new(f.clone()), f.len() as u64)
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(matches!(e, DecodeError::Unsupported(_)));
    assert!(msg.contains("MP3") && msg.contains("0x0055"), "{msg}");
}

/// A source that hands out frames in awkward packet sizes.
struct Jagged {
    info: stemscope::decode::StreamInfo,
    next: u32,
    total: u32,
    sizes: Vec<usize>,
    i: usize,
}

impl AudioSource for Jagged {
    fn info(&self) -> &stemscope::decode::StreamInfo {
        &self.info
    }
    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, DecodeError> {
        out.clear();
        let n = self.sizes[self.i % self.sizes.len()]
            .min(max_frames)
            .min((self.total - self.next) as usize);
        self.i += 1;
        for _ in 0..n {
            out.push(self.next as f32);
            out.push(-(self.next as f32));
            self.next += 1;
        }
        Ok(n)
    }
    fn diagnostics(&self) -> stemscope::decode::DecodeDiagnostics {
        Default::default()
    }
}

#[test]
fn block_reader_gives_exact_blocks_whatever_the_packet_sizes() {
    let src = Jagged {
        info: stemscope::decode::StreamInfo {
            sample_rate: 48_000,
            channels: vec![ChannelRole::Left, ChannelRole::Right],
            frames: None,
            format: "test".into(),
            time_reference: None,
        },
        next: 0,
        total: 10_007,
        sizes: vec![1, 4096, 333, 1152, 7],
        i: 0,
    };
    let mut r = BlockReader::new(Box::new(src));
    let mut block = Vec::new();
    let mut expect = 0u32;
    let mut blocks = 0;
    loop {
        let n = r.read_block(&mut block, 1000).unwrap();
        if n == 0 {
            break;
        }
        blocks += 1;
        assert_eq!(block.len(), n * 2);
        if expect + 1000 <= 10_007 {
            assert_eq!(n, 1000, "a full block unless at the end");
        }
        for f in block.chunks_exact(2) {
            assert_eq!(f, [expect as f32, -(expect as f32)]);
            expect += 1;
        }
    }
    assert_eq!(expect, 10_007);
    assert_eq!(blocks, 11);
}

#[test]
fn per_channel_mono_files_make_one_interleaved_stem() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["Film_DX_L.wav", "Film_DX_R.wav", "Film_DX_C.wav"];
    let paths: Vec<_> = names.iter().map(|n| dir.path().join(n)).collect();
    for (c, p) in paths.iter().enumerate() {
        let frames: Vec<Vec<f32>> = (0..500)
            .map(|i| vec![(c as f32 + 1.0) * 0.1 + i as f32 * 1e-4])
            .collect();
        write_wav24(p, 1, 48_000, &frames);
    }
    let mut src = decode::open_stem(&paths).unwrap();
    assert_eq!(
        src.info().channels,
        vec![ChannelRole::Left, ChannelRole::Right, ChannelRole::Centre]
    );
    assert_eq!(src.info().frames, Some(500));
    assert_eq!(src.info().sample_rate, 48_000);
    let all = read_all(src.as_mut());
    assert_eq!(all.len(), 1500);
    for (i, f) in all.chunks_exact(3).enumerate() {
        for (c, &s) in f.iter().enumerate() {
            let want = (c as f32 + 1.0) * 0.1 + i as f32 * 1e-4;
            assert!(
                (s - want).abs() < 1e-6,
                "frame {i} channel {c}: {s} vs {want}"
            );
        }
    }
}

#[test]
fn per_channel_files_with_different_rates_or_lengths_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("X_MX_L.wav");
    let b = dir.path().join("X_MX_R.wav");
    write_sine16(&a, 48_000, 1000, 440.0, 0.5);
    write_sine16(&b, 44_100, 1000, 440.0, 0.5);
    let e = decode::open_stem(&[a.clone(), b.clone()])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("X_MX_R.wav") && e.contains("44100"), "{e}");
    write_sine16(&b, 48_000, 999, 440.0, 0.5);
    let e = decode::open_stem(&[a, b]).err().unwrap().to_string();
    assert!(e.contains("999") && e.contains("1000"), "{e}");
}

#[test]
fn joined_reels_play_one_after_another_and_a_missing_stem_is_silence() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    write_wav24(&p("T_MX_R1.wav"), 1, 48_000, &vec![vec![0.25]; 300]);
    write_wav24(&p("T_DX_R1.wav"), 1, 48_000, &vec![vec![0.5]; 300]);
    write_wav24(&p("T_DX_R2.wav"), 1, 48_000, &vec![vec![-0.5]; 200]);
    let reels = vec![
        vec![
            StemFiles {
                kind: StemKind::Dialogue,
                paths: vec![p("T_DX_R1.wav")],
            },
            StemFiles {
                kind: StemKind::Music,
                paths: vec![p("T_MX_R1.wav")],
            },
        ],
        vec![StemFiles {
            kind: StemKind::Dialogue,
            paths: vec![p("T_DX_R2.wav")],
        }],
    ];
    let set = stemscope::discover::StemSet {
        title: "T".into(),
        reel: None,
        stems: vec![],
        joined_reels: reels,
    };
    let mut dx = decode::open_set_stem(&set, StemKind::Dialogue).unwrap();
    assert_eq!(dx.info().frames, Some(500));
    let all = read_all(dx.as_mut());
    assert_eq!(all.len(), 500);
    assert!(all[..300].iter().all(|&s| (s - 0.5).abs() < 1e-6));
    assert!(all[300..].iter().all(|&s| (s + 0.5).abs() < 1e-6));
    let mut mx = decode::open_set_stem(&set, StemKind::Music).unwrap();
    let all = read_all(mx.as_mut());
    assert_eq!(all.len(), 500);
    assert!(all[..300].iter().all(|&s| (s - 0.25).abs() < 1e-6));
    assert!(
        all[300..].iter().all(|&s| s == 0.0),
        "reel 2 has no music: silence"
    );
}

fn manifest_rows(corpus: &std::path::Path) -> Vec<(String, f64, u32, usize)> {
    std::fs::read_to_string(corpus.join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some((
                f[0].to_string(),
                f[2].parse().ok()?,
                f[3].parse().ok()?,
                f[4].parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn corpus_flac_and_ogg_decode_to_their_manifest_length() {
    let Some(corpus) = corpus() else { return };
    let rows = manifest_rows(&corpus);
    for ext in ["flac", "ogg"] {
        // The two shortest files of each format keep the test fast.
        let mut of: Vec<_> = rows.iter().filter(|r| r.0.ends_with(ext)).collect();
        of.sort_by(|a, b| a.1.total_cmp(&b.1));
        assert!(!of.is_empty(), "no {ext} in the corpus");
        for (path, dur, rate, ch) in of.into_iter().take(2) {
            let mut src = decode::open(&corpus.join(path)).unwrap();
            let info = src.info().clone();
            assert_eq!(info.sample_rate, *rate, "{path}");
            assert_eq!(info.channel_count(), *ch, "{path}");
            if ext == "flac" {
                assert!(info.format.starts_with("FLAC"), "{}", info.format);
            } else {
                assert_eq!(info.format, "Ogg Vorbis");
            }
            let all = read_all(src.as_mut());
            let secs = all.len() as f64 / (*ch as f64 * *rate as f64);
            assert!(
                (secs - dur).abs() < 0.05,
                "{path}: {secs} s vs manifest {dur} s"
            );
            assert!(all.iter().all(|s| s.is_finite() && s.abs() <= 1.5));
            assert!(
                all.iter().any(|&s| s.abs() > 0.01),
                "{path} decodes to silence"
            );
            assert_eq!(src.diagnostics().skipped_packets, 0);
        }
    }
}
