//! Development aid: analyses one reel folder and writes the music stem's vocal probabilities (after
//! the dialogue-bleed correction, one per texture window) with the window start times, for offline
//! study of the vocal segmentation with `tools/reference/vocal_eval.py --dump` (scratch use, not a
//! product). The stems' frame summaries are `cue_dump`'s job.
//!
//!     cargo run --release --example vocal_dump -- /tmp/dev-reels/DEV1 /tmp/out/DEV1

use std::io::Write;
use std::path::Path;

use stemscope::discover::{DiscoverOptions, StemKind, discover};
use stemscope::pipeline::{AnalyzeOptions, analyze_stems};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (dir, out) = match (args.next(), args.next()) {
        (Some(d), Some(o)) => (d, o),
        _ => anyhow::bail!("usage: vocal_dump REEL_DIR OUT_DIR"),
    };
    std::fs::create_dir_all(&out)?;
    let sets = discover(Path::new(&dir), &DiscoverOptions::default())?;
    let set = sets.first().ok_or_else(|| anyhow::anyhow!("no stems"))?;
    let title = analyze_stems(set, &AnalyzeOptions::default())?;
    let mx = title
        .get(StemKind::Music)
        .ok_or_else(|| anyhow::anyhow!("no music stem"))?;
    let dx = title.get(StemKind::Dialogue).map(|d| &d.features);
    let model = stemscope::model::VocalModel::embedded()?;
    let v = stemscope::detect::vocals::detect(&mx.features, dx, mx.front_image.as_ref(), model);
    let mut f = std::fs::File::create(Path::new(&out).join("vocal_p.tsv"))?;
    for (s, p) in v.window_start_s.iter().zip(&v.probability) {
        writeln!(f, "{s}\t{p}")?;
    }
    println!("{} windows", v.probability.len());
    Ok(())
}
