//! The shipped vocal model on real recordings of the corpus (skipped when the corpus is absent).
//! These files were seen in training (the honest, held-out figures are the grouped cross-validation
//! ones in models/README.md): these tests guard level independence and the classic false alarms.

use std::path::{Path, PathBuf};

use stemscope::detect::vocals::{classify_cue, detect};
use stemscope::features::{FeatureConfig, FeatureTrack, TEXTURE_FEATURES};
use stemscope::model::VocalModel;
use stemscope::model::dataset::{decode_analysis, extract_windows, set_level};
use stemscope::timeline::{CueKind, Span};

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STEMSCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if !dir.join("MANIFEST.tsv").exists() {
        eprintln!(
            "skipped: no corpus at {} (set STEMSCOPE_CORPUS)",
            dir.display()
        );
        return None;
    }
    Some(dir)
}

fn corpus() -> Option<PathBuf> {
    let dir = corpus_dir()?;
    if TEXTURE_FEATURES.is_empty() {
        eprintln!("skipped: this build's feature engine computes no texture features");
        return None;
    }
    if let Err(e) = VocalModel::embedded() {
        // The shipped file is an explicit untrained placeholder until `stemscope train` is run on
        // the feature engine's features; any other load error is a real failure.
        assert!(
            e.to_string().contains("feature list is empty"),
            "embedded model: {e}"
        );
        eprintln!("skipped: the shipped vocal model is an untrained placeholder ({e})");
        return None;
    }
    Some(dir)
}

/// Song/score and vocal seconds of a whole clip treated as one cue, at `level_db` dBFS RMS.
fn judge(path: &Path, level_db: f64, seconds: f64) -> (CueKind, f64) {
    let model = VocalModel::embedded().unwrap_or_else(|e| panic!("embedded model: {e}"));
    let mut signal = decode_analysis(path, 0.0, seconds).unwrap_or_else(|e| panic!("{e}"));
    set_level(&mut signal, level_db);
    let config = FeatureConfig::default();
    let track = FeatureTrack {
        frame_hop_s: config.frame_hop_s(),
        texture_len_s: config.texture_len_s,
        texture_hop_s: config.texture_hop_s,
        frames: Vec::new(),
        windows: extract_windows(&signal, &config),
    };
    let activity = detect(&track, None, None, model);
    let c = classify_cue(&Span::new(0.0, signal.len() as f64 / 16_000.0), &activity);
    (c.kind, c.vocal_s)
}

#[test]
fn a_song_at_minus_38_is_as_much_a_song_as_at_minus_20() {
    let Some(dir) = corpus() else { return };
    let song = dir.join("song/everythingisfree_lithium_mix.ogg");
    let (loud, loud_s) = judge(&song, -20.0, 40.0);
    let (quiet, quiet_s) = judge(&song, -38.0, 40.0);
    assert_eq!((loud, quiet), (CueKind::Song, CueKind::Song));
    assert!(
        (loud_s - quiet_s).abs() <= 0.15 * loud_s.max(1.0),
        "vocal seconds depend on level: {loud_s:.1} s at -20, {quiet_s:.1} s at -38"
    );
}

#[test]
fn instruments_that_imitate_voices_are_score() {
    let Some(dir) = corpus() else { return };
    for clip in [
        "score/smstools_sax-phrase.flac",
        "score/smstools_cello-phrase.flac",
        "score/librosa_sorohanro_-_solo-trumpet-06.ogg",
    ] {
        for level in [-20.0, -38.0] {
            let (kind, s) = judge(&dir.join(clip), level, 30.0);
            assert_eq!(
                kind,
                CueKind::Score,
                "{clip} at {level} dBFS: {s:.1} s of voice"
            );
        }
    }
}

#[test]
fn training_audio_is_read_through_the_analysis_path_as_an_excerpt() {
    let Some(dir) = corpus_dir() else { return };
    // A 60 s 44.1 kHz stereo Vorbis file: 40 s from 15 s in, mono at 16 kHz.
    let x = decode_analysis(&dir.join("score/wesnoth_knolls_60s.ogg"), 15.0, 40.0)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        (x.len() as f64 / 16_000.0 - 40.0).abs() < 0.05,
        "{} samples",
        x.len()
    );
    assert!(x.iter().any(|v| v.abs() > 0.01), "audible");
    // A 2 s file is kept whole.
    let y = decode_analysis(&dir.join("song/ikala_10161_chorus_mix.flac"), 15.0, 40.0)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        (y.len() as f64 / 16_000.0 - 2.0).abs() < 0.05,
        "{} samples",
        y.len()
    );
    // Every corpus file decodes.
    let items = stemscope::model::dataset::read_folder(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(items.len() >= 70);
}
