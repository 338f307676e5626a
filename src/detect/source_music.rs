//! Source-music candidates: music-like content on the dialogue or effects stem (a radio, a band in the
//! scene), found with the same texture features the music detectors read.
//!
//! Each texture window gets a music likelihood from a logistic score over seven texture features
//! (spectral contrast in the 0.8-1.6 and 1.6-3.2 kHz octaves, the spread of the top mel band group,
//! the voiced fraction, harmonic peakiness, flatness and pitch spread): music sustains tones and keeps
//! deep spectral valleys between harmonics; speech is voiced only in syllables, ambiences and rain
//! are flat.
//! The weights ([`MusicScore::FITTED`]) were fitted on the dev reels' stems (music stem windows
//! against dialogue and effects stem windows; `tools/reference/source_music_fit.py`). Windows within
//! [`SourceMusicConfig::min_above_floor_db`] of the stem's floor are not scored. The likelihood is
//! smoothed over [`SourceMusicConfig::smooth_s`]; runs above [`SourceMusicConfig::min_likelihood`] are
//! bridged over short gaps and kept only when sustained for [`SourceMusicConfig::min_duration_s`]:
//! bird calls, dog howls, whale calls and hits are short. Nothing depends on absolute level.
//!
//! Limitation: the features describe the whole window, so music must dominate it. Music mixed a few
//! dB over an ambience is found; music under dialogue or under a louder ambience mostly is not (see
//! `tools/reference/source_music_fit.py` for how the score was fitted).

use crate::detect::music::activity::quantile;
use crate::discover::StemKind;
use crate::features::{FeatureTrack, TEXTURE_FEATURES};
use crate::timeline::SourceMusic;

/// A logistic music-vs-non-music score over named texture features:
/// `p = 1 / (1 + exp(-(bias + sum(weight * (value - mean) / spread))))`.
#[derive(Debug, Clone, PartialEq)]
pub struct MusicScore {
    /// `(texture feature name, mean, spread, weight)`.
    pub terms: &'static [(&'static str, f32, f32, f32)],
    pub bias: f32,
}

impl MusicScore {
    /// Fitted on /tmp/dev-reels (DEV1-4): 7029 audible texture windows, 41% from music stems.
    /// Leave-one-reel-out window AUC 0.945-0.992.
    pub const FITTED: MusicScore = MusicScore {
        terms: &[
            ("contrast_mean_3", 18.0664, 4.7589, 0.3834),
            ("melgrp_std_7", 3.7800, 4.0017, 1.4617),
            ("contrast_mean_4", 16.4845, 5.1065, 1.8684),
            ("voiced_fraction", 0.6242, 0.3356, 1.2620),
            ("peakiness_mean", 0.3644, 0.2689, 0.1985),
            ("flatness_mean", 0.0516, 0.0700, -1.6540),
            ("pitch_std_st", 7.3019, 5.6349, 1.0344),
        ],
        bias: -1.4254,
    };

    /// The terms resolved to column indices of the texture values; `None` when a feature is missing.
    fn columns(&self) -> Option<Vec<(usize, f32, f32, f32)>> {
        self.terms
            .iter()
            .map(|&(name, mean, spread, weight)| {
                let col = TEXTURE_FEATURES.iter().position(|&f| f == name)?;
                Some((col, mean, spread.max(1e-6), weight))
            })
            .collect()
    }
}

/// Settings of the source-music detector.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceMusicConfig {
    pub score: MusicScore,
    /// A scored window's mean frame level is at least this far above the stem's floor (its 10th
    /// percentile level), dB.
    pub min_above_floor_db: f32,
    /// The likelihood is averaged over this span, seconds.
    pub smooth_s: f64,
    /// Windows whose smoothed likelihood reaches this are music-like.
    pub min_likelihood: f64,
    /// Music-like windows closer than this are bridged, seconds.
    pub max_gap_s: f64,
    /// Shorter runs are not reported, seconds.
    pub min_duration_s: f64,
}

impl Default for SourceMusicConfig {
    fn default() -> Self {
        SourceMusicConfig {
            score: MusicScore::FITTED,
            min_above_floor_db: 6.0,
            smooth_s: 2.0,
            min_likelihood: 0.5,
            max_gap_s: 2.0,
            min_duration_s: 8.0,
        }
    }
}

/// Music likelihood of every texture window (0 where the window is too close to the floor or the
/// features are missing), in window order.
pub fn music_likelihood(track: &FeatureTrack, cfg: &SourceMusicConfig) -> Vec<f64> {
    let Some(cols) = cfg.score.columns() else {
        return vec![0.0; track.windows.len()];
    };
    let levels: Vec<f32> = track.frames.iter().map(|f| f.rms_db).collect();
    let floor = quantile(&levels, 0.1);
    let hop = track.frame_hop_s;
    track
        .windows
        .iter()
        .map(|w| {
            if let Some(floor) = floor
                && hop > 0.0
            {
                let a = ((w.start_s / hop).round().max(0.0) as usize).min(levels.len());
                let b = (((w.start_s + track.texture_len_s) / hop).round() as usize)
                    .clamp(a, levels.len());
                if b > a {
                    let mean = levels[a..b].iter().sum::<f32>() / (b - a) as f32;
                    if mean < floor + cfg.min_above_floor_db {
                        return 0.0;
                    }
                }
            }
            let mut z = cfg.score.bias as f64;
            for &(col, mean, spread, weight) in &cols {
                let v = w.values.get(col).copied().unwrap_or(mean);
                let v = if v.is_finite() { v } else { mean };
                z += (weight * (v - mean) / spread) as f64;
            }
            1.0 / (1.0 + (-z).exp())
        })
        .collect()
}

/// Source-music segments on a dialogue or effects stem (none for the music stem itself).
pub fn detect(track: &FeatureTrack, stem: StemKind) -> Vec<SourceMusic> {
    detect_with(track, stem, &SourceMusicConfig::default())
}

/// [`detect`] with explicit settings.
pub fn detect_with(
    track: &FeatureTrack,
    stem: StemKind,
    cfg: &SourceMusicConfig,
) -> Vec<SourceMusic> {
    if matches!(stem, StemKind::Music) || track.windows.is_empty() {
        return Vec::new();
    }
    let p = music_likelihood(track, cfg);
    let hop = if track.texture_hop_s > 0.0 {
        track.texture_hop_s
    } else {
        0.25
    };
    let half = (cfg.smooth_s / hop / 2.0).round().max(0.0) as usize;
    let mut prefix = vec![0f64; p.len() + 1];
    for (i, v) in p.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
    }
    // Runs of music-like windows: (start, end, sum of likelihood, window count).
    let mut runs: Vec<(f64, f64, f64, usize)> = Vec::new();
    for (i, w) in track.windows.iter().enumerate() {
        let (a, b) = (i.saturating_sub(half), (i + half + 1).min(p.len()));
        let smoothed = (prefix[b] - prefix[a]) / (b - a) as f64;
        if smoothed < cfg.min_likelihood {
            continue;
        }
        let end = w.start_s + track.texture_len_s;
        match runs.last_mut() {
            Some(r) if w.start_s - r.1 <= cfg.max_gap_s => {
                r.1 = end;
                r.2 += p[i];
                r.3 += 1;
            }
            _ => runs.push((w.start_s, end, p[i], 1)),
        }
    }
    runs.into_iter()
        .filter(|r| r.1 - r.0 >= cfg.min_duration_s)
        .map(|(s, e, sum, count)| SourceMusic {
            start_s: s,
            end_s: e,
            stem: stem.name().to_string(),
            confidence: (sum / count as f64).clamp(0.0, 1.0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureConfig;
    use crate::rng::Rng;
    use crate::synth::dsp::OnePole;
    use crate::synth::music::MusicEngine;
    use crate::synth::plan::{CueKind, CuePlan, Plan};
    use crate::synth::voice::Speaker;

    const SR: f64 = 16_000.0;

    /// A stem rendered at the analysis rate: a low-passed noise bed (an ambience, about -60 dBFS) plus
    /// whatever `extra` adds at each sample time; then the feature engine, block by block.
    fn stem(duration_s: f64, mut extra: impl FnMut(f64) -> f32) -> FeatureTrack {
        let mut rng = Rng::new(7);
        let mut lp = OnePole::new(1500.0, SR as f32);
        let signal: Vec<f32> = (0..(duration_s * SR) as usize)
            .map(|i| {
                let t = i as f64 / SR;
                0.003 * lp.process(rng.noise()) + extra(t)
            })
            .collect();
        FeatureTrack::of_signal(&signal, FeatureConfig::default())
    }

    /// A plan holding one score cue over `span` (a band in the scene, a radio).
    fn music_plan(span: (f64, f64), gain_db: f64) -> Plan {
        Plan {
            duration_s: span.1 + 1.0,
            scenes: Vec::new(),
            lines: Vec::new(),
            cues: vec![CuePlan {
                start_s: span.0,
                end_s: span.1,
                kind: CueKind::Score,
                source: "test".into(),
                license: "test".into(),
                fade_in_s: 0.5,
                fade_out_s: 0.5,
                gain_db,
                stinger: false,
                segue_in: false,
                segue_out: false,
                tempo_bpm: 100.0,
                key_root: 57,
                minor: false,
                lead: true,
                percussion: true,
                phrases: Vec::new(),
                vocal_to_accompaniment_db: None,
                seed: 3,
            }],
            hits: Vec::new(),
            music_duck_db: 0.0,
        }
    }

    fn with_music(duration_s: f64, span: (f64, f64)) -> FeatureTrack {
        let plan = music_plan(span, -18.0);
        let mut engine = MusicEngine::new(&plan, SR as f32, 1);
        stem(duration_s, |t| {
            let (l, r) = engine.next(t);
            0.5 * (l + r)
        })
    }

    #[test]
    fn a_piece_of_music_in_an_ambience_is_source_music() {
        let track = with_music(60.0, (20.0, 45.0));
        let found = detect(&track, StemKind::Effects);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            (found[0].start_s - 20.0).abs() < 1.5 && (found[0].end_s - 45.0).abs() < 1.5,
            "{found:?}"
        );
        assert_eq!(found[0].stem, "effects");
        assert!(found[0].confidence > 0.5, "{found:?}");
    }

    #[test]
    fn conversation_over_a_noise_floor_is_not_music() {
        let mut a = Speaker::new(SR as f32, 1);
        let mut b = Speaker::new(SR as f32, 2);
        a.start_line(5.0, 22.0, 0, -24.0, 11);
        b.start_line(23.0, 41.0, 1, -26.0, 12);
        let track = stem(45.0, |t| a.next(t) + b.next(t));
        assert!(detect(&track, StemKind::Dialogue).is_empty());
    }

    #[test]
    fn an_ambience_and_a_short_burst_of_music_are_not_source_music() {
        let track = with_music(40.0, (15.0, 18.0));
        assert!(detect(&track, StemKind::Effects).is_empty());
    }

    #[test]
    fn the_music_stem_itself_is_never_source_music() {
        let track = with_music(40.0, (5.0, 35.0));
        assert!(detect(&track, StemKind::Music).is_empty());
        assert!(detect(&FeatureTrack::default(), StemKind::Dialogue).is_empty());
    }

    #[test]
    fn every_fitted_feature_is_a_texture_feature() {
        assert!(MusicScore::FITTED.columns().is_some());
    }
}
