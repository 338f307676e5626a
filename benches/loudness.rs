//! Loudness meter throughput on a 48 kHz 5.1 stem: sample peak (default) and true peak
//! (`--true-peak`), and the `ebur128` crate read every 100 ms for comparison. Reports bytes as
//! samples: divide the samples/s figure by 288 000 (48 kHz x 6) for audio-seconds per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stemscope::decode::ChannelRole::*;
use stemscope::loudness::LoudnessMeter;

fn signal(seconds: usize) -> Vec<f32> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..48_000 * 6 * seconds)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            0.1 * (((x >> 33) as f32 / (1u64 << 31) as f32) - 1.0)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let roles = [Left, Right, Centre, Lfe, LeftSurround, RightSurround];
    let x = signal(10);
    let mut g = c.benchmark_group("loudness_5_1_48k_10s");
    g.sample_size(10);
    g.throughput(Throughput::Elements(x.len() as u64));
    for (name, tp) in [("sample_peak", false), ("true_peak", true)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut m = LoudnessMeter::new(&roles, 48_000, tp).unwrap();
                for block in x.chunks(24_000 * 6) {
                    m.push(block).unwrap();
                }
                m.finish()
            })
        });
    }
    g.bench_function("ebur128_crate_momentary_every_100ms", |b| {
        b.iter(|| {
            let mode = ebur128::Mode::M | ebur128::Mode::SAMPLE_PEAK;
            let mut e = ebur128::EbuR128::new(6, 48_000, mode).unwrap();
            let mut acc = 0.0;
            for step in x.chunks(4_800 * 6) {
                e.add_frames_f32(step).unwrap();
                acc += e.loudness_window(100).unwrap();
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
