//! Development aid: the loudness meter's cost on 10 minutes of 48 kHz 5.1 (generated in 10 s
//! pieces, fed in 0.5 s blocks as the pipeline does), in audio-seconds per CPU-second of this
//! thread, for sample peak, true peak, and the `ebur128` crate read every 100 ms. The criterion
//! bench `benches/loudness.rs` measures the same on 10 s.
//!
//!     cargo run --release --example loudness_speed

use stemscope::decode::ChannelRole::*;
use stemscope::loudness::{LoudnessMeter, MixMeter};

/// CPU time of this thread, seconds (Linux), falling back to wall time elsewhere.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns / 1e9)
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        })
}

fn main() -> anyhow::Result<()> {
    let roles = [Left, Right, Centre, Lfe, LeftSurround, RightSurround];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let piece: Vec<f32> = (0..48_000 * 6 * 10)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            0.1 * (((x >> 33) as f32 / (1u64 << 31) as f32) - 1.0)
        })
        .collect();
    let audio_s = 600.0;
    for (name, tp) in [("sample peak", false), ("true peak", true)] {
        let t0 = cpu_s();
        let mut m = LoudnessMeter::new(&roles, 48_000, tp)?;
        for _ in 0..60 {
            for block in piece.chunks(24_000 * 6) {
                m.push(block)?;
            }
        }
        let s = m.finish().whole();
        let dt = cpu_s() - t0;
        println!(
            "{name}: {:.1} s CPU for 600 s of 5.1 48 kHz: {:.0}x real time (I {:.2} LUFS)",
            dt,
            audio_s / dt,
            s.integrated_lufs.unwrap_or(f64::NAN)
        );
    }
    // The mix of three 5.1 stems: summing plus one more meter.
    let t0 = cpu_s();
    let layout: &[_] = &roles;
    let mut mix = MixMeter::new(
        &[(layout, 48_000), (layout, 48_000), (layout, 48_000)],
        false,
    )?;
    for _ in 0..60 {
        for block in piece.chunks(24_000 * 6) {
            mix.push(&[block, block, block])?;
        }
    }
    let trace = mix.finish().trace;
    let dt = cpu_s() - t0;
    println!(
        "mix of 3 stems (sum + meter): {:.1} s CPU: {:.0}x real time ({} steps)",
        dt,
        audio_s / dt,
        trace.map_or(0, |t| t.len())
    );
    let t0 = cpu_s();
    let mode = ebur128::Mode::M | ebur128::Mode::SAMPLE_PEAK;
    let mut e = ebur128::EbuR128::new(6, 48_000, mode)?;
    let mut acc = 0.0;
    for _ in 0..60 {
        for step in piece.chunks(4_800 * 6) {
            e.add_frames_f32(step)?;
            acc += e.loudness_window(100)?;
        }
    }
    let dt = cpu_s() - t0;
    println!(
        "ebur128 crate, 100 ms windows read every 100 ms: {:.1} s CPU: {:.0}x real time ({acc:.0})",
        dt,
        audio_s / dt
    );
    Ok(())
}
