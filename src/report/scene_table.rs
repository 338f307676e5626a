//! Scene table: `scenes.csv`, one flat row per scene for spreadsheets (the nested details, cue by
//! cue and clash by clash, stay in report.json `scenes`).

use std::path::Path;

use serde::Serialize;

use super::{Report, SceneOrigin, SceneReport};

/// One row of `scenes.csv`. Empty cells where a figure is undefined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneRow {
    pub scene: usize,
    pub name: String,
    pub origin: &'static str,
    pub start_tc: String,
    pub end_tc: String,
    pub start_s: String,
    pub end_s: String,
    pub duration_s: String,
    pub dialogue_coverage: String,
    pub music_coverage: String,
    /// Cue numbers sounding in the scene, `;`-separated.
    pub cues: String,
    pub effects_density: String,
    pub loud_fx_events: usize,
    pub dialogue_lufs: String,
    pub music_lufs: String,
    pub effects_lufs: String,
    pub dialogue_to_music_lu: String,
    pub vocal_clash_s: String,
    pub ducking_db: String,
    pub source_music: usize,
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}")).unwrap_or_default()
}

/// The row of one scene.
pub fn row(s: &SceneReport) -> SceneRow {
    let lufs = |k: &str| num(s.loudness.get(k).and_then(|l| l.integrated_lufs), 1);
    SceneRow {
        scene: s.number,
        name: s.name.clone().unwrap_or_default(),
        origin: match s.origin {
            SceneOrigin::Detected => "detected",
            SceneOrigin::Given => "given",
        },
        start_tc: s.start_tc.clone(),
        end_tc: s.end_tc.clone(),
        start_s: format!("{:.3}", s.start_s),
        end_s: format!("{:.3}", s.end_s),
        duration_s: format!("{:.3}", s.duration_s),
        dialogue_coverage: format!("{:.3}", s.dialogue_coverage),
        music_coverage: format!("{:.3}", s.music_coverage),
        cues: s
            .cues
            .iter()
            .map(|c| c.number.to_string())
            .collect::<Vec<_>>()
            .join(";"),
        effects_density: format!("{:.3}", s.effects_density),
        loud_fx_events: s.effects_events.len(),
        dialogue_lufs: lufs("dialogue"),
        music_lufs: lufs("music"),
        effects_lufs: lufs("effects"),
        dialogue_to_music_lu: num(s.dialogue_to_music_lu, 1),
        vocal_clash_s: format!("{:.2}", s.vocal_clash_s),
        ducking_db: num(s.ducking_db, 1),
        source_music: s.source_music.len(),
    }
}

/// Writes `scenes.csv` to `path`.
pub fn write(report: &Report, path: &Path) -> crate::Result<()> {
    let csv_error = |e: csv::Error| crate::Error::Other(format!("{}: {e}", path.display()));
    let mut w = csv::Writer::from_path(path).map_err(csv_error)?;
    for s in &report.scenes {
        w.serialize(row(s)).map_err(csv_error)?;
    }
    w.flush().map_err(|e| crate::Error::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::synthetic::synthetic_report;

    #[test]
    fn one_row_per_scene_with_its_cues() {
        let r = synthetic_report(600.0, 6, 8, 4);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenes.csv");
        write(&r, &path).unwrap();
        let mut rd = csv::Reader::from_path(&path).unwrap();
        let recs: Vec<_> = rd.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 6);
        for (rec, s) in recs.iter().zip(&r.scenes) {
            let cues: Vec<String> = s.cues.iter().map(|c| c.number.to_string()).collect();
            assert_eq!(&rec[10], cues.join(";"));
            assert_eq!(&rec[3], s.start_tc);
        }
    }
}
