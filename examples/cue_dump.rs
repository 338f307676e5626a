//! Development aid: analyses one reel folder and writes each stem's feature track as raw
//! little-endian f32 files for offline study of the music detectors (scratch use, not a product).
//!
//!     cargo run --release --example cue_dump -- /tmp/dev-reels/DEV1 /tmp/out/DEV1

use std::io::Write;
use std::path::Path;

use stemscope::discover::{DiscoverOptions, discover};
use stemscope::pipeline::{AnalyzeOptions, analyze_stems};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (dir, out) = match (args.next(), args.next()) {
        (Some(d), Some(o)) => (d, o),
        _ => anyhow::bail!("usage: cue_dump REEL_DIR OUT_DIR"),
    };
    std::fs::create_dir_all(&out)?;
    let sets = discover(Path::new(&dir), &DiscoverOptions::default())?;
    let set = sets.first().ok_or_else(|| anyhow::anyhow!("no stems"))?;
    let title = analyze_stems(set, &AnalyzeOptions::default())?;
    for (kind, a) in &title.stems {
        let name = kind.name();
        let t = &a.features;
        let mut f = std::fs::File::create(Path::new(&out).join(format!("{name}_frames.f32")))?;
        for fr in &t.frames {
            for v in fr.to_array() {
                f.write_all(&v.to_le_bytes())?;
            }
        }
        let mut f = std::fs::File::create(Path::new(&out).join(format!("{name}_windows.f32")))?;
        for w in &t.windows {
            for v in &w.values {
                f.write_all(&v.to_le_bytes())?;
            }
        }
        let mut f = std::fs::File::create(Path::new(&out).join(format!("{name}_momentary.f32")))?;
        for v in &a.loudness.momentary {
            f.write_all(&v.to_le_bytes())?;
        }
        println!(
            "{name}: {} frames, {} windows (dims {}), loudness step {}",
            t.frames.len(),
            t.windows.len(),
            t.windows.first().map_or(0, |w| w.values.len()),
            a.loudness.step_s
        );
    }
    Ok(())
}
