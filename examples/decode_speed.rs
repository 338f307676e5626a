//! Decodes (and conditions) stem files single-threaded and prints audio seconds per wall second.
//! `cargo run --release --example decode_speed -- FILE... [--no-condition]`
use std::time::Instant;

use stemscope::condition::Conditioner;
use stemscope::decode::{self, BlockReader};
use stemscope::discover::StemKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let condition = !args.iter().any(|a| a == "--no-condition");
    for path in args.iter().filter(|a| !a.starts_with("--")) {
        let t = Instant::now();
        let src = decode::open(path.as_ref())?;
        let info = src.info().clone();
        let mut reader = BlockReader::new(src);
        let mut cond = Conditioner::new(StemKind::Dialogue, &info.channels, info.sample_rate)?;
        let (mut block, mut out) = (Vec::new(), Vec::new());
        let mut frames = 0u64;
        loop {
            let n = reader.read_block(&mut block, info.sample_rate as usize / 2)?;
            if n == 0 {
                break;
            }
            frames += n as u64;
            if condition {
                out.clear();
                cond.push(&block, &mut out)?;
            }
        }
        cond.finish(&mut out)?;
        let secs = frames as f64 / f64::from(info.sample_rate);
        let wall = t.elapsed().as_secs_f64();
        println!(
            "{path}: {} {} ch, {secs:.1} s of audio in {wall:.3} s = {:.0}x real time{}",
            info.format,
            info.channel_count(),
            secs / wall,
            if condition {
                " (decode + condition)"
            } else {
                " (decode only)"
            }
        );
    }
    Ok(())
}
