//! Development aid: analyses reels (decode, condition, features, dialogue) and writes, per dialogue
//! and effects stem, its texture windows, their mean frame level and the dialogue detector's speech
//! spans as one JSON file, for `tools/reference/source_music_fit.py` (refits the source-music score
//! on windows of speech over music against speech over room tone without re-analysing the reels).
//!
//! `cargo run --release --example source_music_dump -- OUT_DIR REEL_DIR...`

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use stemscope::discover::{DiscoverOptions, StemKind, discover};
use stemscope::features::TEXTURE_FEATURES;
use stemscope::pipeline::{AnalyzeOptions, analyze_stems};

fn dump(dir: &Path, out: &Path) -> Result<()> {
    let sets = discover(dir, &DiscoverOptions::default())?;
    let Some(set) = sets.first() else {
        bail!("{}: no stems", dir.display());
    };
    let title = analyze_stems(set, &AnalyzeOptions::default())?;
    let speech = title
        .get(StemKind::Dialogue)
        .map(|a| stemscope::detect::dialogue::detect(&a.features))
        .unwrap_or_default();
    let reel = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for kind in [StemKind::Dialogue, StemKind::Effects] {
        let Some(a) = title.get(kind) else { continue };
        let t = &a.features;
        let levels: Vec<f32> = t.frames.iter().map(|f| f.rms_db).collect();
        let windows: Vec<serde_json::Value> = t
            .windows
            .iter()
            .map(|w| {
                let a = ((w.start_s / t.frame_hop_s).round() as usize).min(levels.len());
                let b = (((w.start_s + t.texture_len_s) / t.frame_hop_s).round() as usize)
                    .clamp(a, levels.len());
                let level = if b > a {
                    levels[a..b].iter().sum::<f32>() / (b - a) as f32
                } else {
                    -120.0
                };
                serde_json::json!([w.start_s, level, w.values])
            })
            .collect();
        let json = serde_json::json!({
            "reel": reel,
            "stem": kind.name(),
            "texture_len_s": t.texture_len_s,
            "features": TEXTURE_FEATURES,
            "frame_levels_db": levels,
            "speech": speech,
            "windows": windows,
        });
        let path = out.join(format!("{reel}_{}.json", kind.name()));
        std::fs::write(&path, serde_json::to_string(&json)?)
            .with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((out, reels)) = args.split_first() else {
        bail!("usage: source_music_dump OUT_DIR REEL_DIR...");
    };
    std::fs::create_dir_all(out)?;
    for dir in reels {
        dump(dir, out).with_context(|| format!("{}", dir.display()))?;
    }
    Ok(())
}
