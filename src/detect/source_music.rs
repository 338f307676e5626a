//! Source-music candidates: music-like content on the dialogue or effects stem (a radio, a band in the
//! scene), found with a music-vs-non-music decision per analysis window from the frame features.
//!
//! A window reads as music when its content is harmonic nearly all the time (music sustains tones;
//! speech is voiced only in syllables and pauses between them, noise beds and rain are not harmonic),
//! its level does not swing at the syllable rate the way speech does, and it stands out of the stem's
//! floor. Runs of music-like windows are bridged over short gaps and kept only when sustained for
//! [`SourceMusicConfig::min_duration_s`]: bird calls, dog howls, whale calls and hits are short.
//! Everything is relative to the stem's own floor and to the frame features' scales, never to an
//! absolute level.

use crate::detect::music::activity::quantile;
use crate::discover::StemKind;
use crate::features::{FeatureTrack, FrameSummary};
use crate::timeline::SourceMusic;

/// Settings of the source-music detector.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceMusicConfig {
    /// Analysis window and hop, seconds.
    pub window_s: f64,
    pub hop_s: f64,
    /// A frame is harmonic when its peakiness reaches this.
    pub frame_peakiness: f32,
    /// A music window has at least this fraction of harmonic frames.
    pub min_harmonic_fraction: f64,
    /// A music window's level changes by at most this much per 100 ms on average, dB (speech swings
    /// more, at its ~4 Hz syllable rate).
    pub max_level_swing_db: f32,
    /// A music window is at least this far above the stem's floor (its 10th percentile level), dB.
    pub min_above_floor_db: f32,
    /// Music-like windows closer than this are bridged, seconds.
    pub max_gap_s: f64,
    /// Shorter runs are not reported, seconds.
    pub min_duration_s: f64,
}

impl Default for SourceMusicConfig {
    fn default() -> Self {
        SourceMusicConfig {
            window_s: 1.0,
            hop_s: 0.5,
            frame_peakiness: 0.5,
            min_harmonic_fraction: 0.75,
            max_level_swing_db: 3.0,
            min_above_floor_db: 6.0,
            max_gap_s: 2.0,
            min_duration_s: 8.0,
        }
    }
}

/// What one analysis window looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowEvidence {
    pub start_s: f64,
    /// Fraction of frames with harmonic peaks.
    pub harmonic_fraction: f64,
    /// Mean absolute level change over 100 ms, dB.
    pub level_swing_db: f32,
    /// Mean level, dB.
    pub level_db: f32,
}

impl WindowEvidence {
    fn of(frames: &[FrameSummary], start_s: f64, step: usize, cfg: &SourceMusicConfig) -> Self {
        let n = frames.len().max(1) as f64;
        let harmonic = frames
            .iter()
            .filter(|f| f.peakiness >= cfg.frame_peakiness)
            .count() as f64;
        let swings: Vec<f32> = frames
            .iter()
            .zip(frames.iter().skip(step))
            .map(|(a, b)| (a.rms_db - b.rms_db).abs())
            .collect();
        let swing = if swings.is_empty() {
            0.0
        } else {
            swings.iter().sum::<f32>() / swings.len() as f32
        };
        WindowEvidence {
            start_s,
            harmonic_fraction: harmonic / n,
            level_swing_db: swing,
            level_db: frames.iter().map(|f| f.rms_db).sum::<f32>() / n as f32,
        }
    }
}

/// Per-window evidence over a whole stem.
pub fn window_evidence(track: &FeatureTrack, cfg: &SourceMusicConfig) -> Vec<WindowEvidence> {
    let hop = track.frame_hop_s;
    if hop <= 0.0 || track.frames.is_empty() {
        return Vec::new();
    }
    let len = ((cfg.window_s / hop).round() as usize).max(1);
    let step = ((cfg.hop_s / hop).round() as usize).max(1);
    let lag = ((0.1 / hop).round() as usize).max(1);
    let mut out = Vec::new();
    let mut k = 0;
    while k + len <= track.frames.len() {
        out.push(WindowEvidence::of(
            &track.frames[k..k + len],
            k as f64 * hop,
            lag,
            cfg,
        ));
        k += step;
    }
    out
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
    if matches!(stem, StemKind::Music) {
        return Vec::new();
    }
    let ev = window_evidence(track, cfg);
    let levels: Vec<f32> = track.frames.iter().map(|f| f.rms_db).collect();
    let Some(floor) = quantile(&levels, 0.1) else {
        return Vec::new();
    };
    let is_music = |w: &WindowEvidence| {
        w.harmonic_fraction >= cfg.min_harmonic_fraction
            && w.level_swing_db <= cfg.max_level_swing_db
            && w.level_db >= floor + cfg.min_above_floor_db
    };
    // Runs of music-like windows: (start, end, sum of harmonic fraction, window count).
    let mut runs: Vec<(f64, f64, f64, usize)> = Vec::new();
    for w in ev.iter().filter(|w| is_music(w)) {
        let end = w.start_s + cfg.window_s;
        match runs.last_mut() {
            Some(r) if w.start_s - r.1 <= cfg.max_gap_s => {
                r.1 = end;
                r.2 += w.harmonic_fraction;
                r.3 += 1;
            }
            _ => runs.push((w.start_s, end, w.harmonic_fraction, 1)),
        }
    }
    runs.into_iter()
        .filter(|r| r.1 - r.0 >= cfg.min_duration_s)
        .map(|(s, e, sum, count)| {
            // Confidence: how harmonic the run is, times how much of it reads as music.
            let covered = (count as f64 * cfg.hop_s / (e - s)).min(1.0);
            SourceMusic {
                start_s: s,
                end_s: e,
                stem: stem.name().to_string(),
                confidence: (sum / count as f64 * covered).clamp(0.0, 1.0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Noise(u64);
    impl Noise {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % 10_000) as f32 / 10_000.0 - 0.5
        }
    }

    /// A track of `seconds` of frames made by `f(t, noise)`.
    fn track(seconds: f64, mut f: impl FnMut(f64, &mut Noise) -> FrameSummary) -> FeatureTrack {
        let hop = 0.01;
        let mut noise = Noise(0x2545_f491_4f6c_dd1d);
        FeatureTrack {
            frame_hop_s: hop,
            texture_len_s: 1.0,
            texture_hop_s: 0.25,
            frames: (0..(seconds / hop) as usize)
                .map(|i| f(i as f64 * hop, &mut noise))
                .collect(),
            windows: Vec::new(),
        }
    }

    fn noise_bed(n: &mut Noise) -> FrameSummary {
        FrameSummary {
            rms_db: -48.0 + 1.0 * n.next(),
            flatness: 0.5 + 0.1 * n.next(),
            peakiness: 0.15 + 0.1 * n.next(),
            centroid_hz: 2000.0,
            flux: 0.3,
            ..Default::default()
        }
    }

    /// Harmonic chords changing every 0.5 s, 12 dB above the bed.
    fn chords(t: f64, n: &mut Noise) -> FrameSummary {
        let onset = (t * 2.0).fract() < 0.03;
        FrameSummary {
            rms_db: -36.0 + 1.0 * n.next() + if onset { 1.5 } else { 0.0 },
            periodicity: 0.6,
            pitch_hz: 220.0,
            flatness: 0.05,
            peakiness: 0.75 + 0.1 * n.next(),
            centroid_hz: 900.0,
            flux: if onset { 5.0 } else { 0.5 },
            ..Default::default()
        }
    }

    /// Speech: 4 Hz syllables, voiced in their middle, short pauses between.
    fn speech(t: f64, n: &mut Noise) -> FrameSummary {
        let phase = (t * 4.0).fract();
        let voiced = (0.15..0.65).contains(&phase);
        let env = (std::f64::consts::PI * phase).sin() as f32;
        FrameSummary {
            rms_db: -48.0 + 24.0 * env + 1.0 * n.next(),
            periodicity: if voiced { 0.8 } else { 0.1 },
            pitch_hz: if voiced {
                120.0 + 40.0 * phase as f32
            } else {
                0.0
            },
            flatness: if voiced { 0.1 } else { 0.4 },
            peakiness: if voiced { 0.7 } else { 0.2 },
            centroid_hz: 1500.0,
            flux: 2.0 * env,
            ..Default::default()
        }
    }

    #[test]
    fn a_chord_sequence_under_an_ambience_is_source_music() {
        let t = track(60.0, |t, n| {
            if (20.0..45.0).contains(&t) {
                chords(t, n)
            } else {
                noise_bed(n)
            }
        });
        let found = detect(&t, StemKind::Effects);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].start_s - 20.0).abs() < 1.0 && (found[0].end_s - 45.0).abs() < 1.0);
        assert_eq!(found[0].stem, "effects");
        assert!(found[0].confidence > 0.5);
    }

    #[test]
    fn conversation_over_a_noise_floor_is_not_music() {
        let t = track(60.0, |t, n| {
            if (10.0..50.0).contains(&t) {
                speech(t, n)
            } else {
                noise_bed(n)
            }
        });
        assert!(detect(&t, StemKind::Dialogue).is_empty());
    }

    #[test]
    fn rain_like_noise_and_a_short_harmonic_call_are_not_music() {
        // A 3 s harmonic call (bird, whale) in a noise bed.
        let t = track(40.0, |t, n| {
            if (15.0..18.0).contains(&t) {
                chords(t, n)
            } else {
                noise_bed(n)
            }
        });
        assert!(detect(&t, StemKind::Effects).is_empty());
    }

    #[test]
    fn the_music_stem_itself_is_never_source_music() {
        let t = track(30.0, chords);
        assert!(detect(&t, StemKind::Music).is_empty());
        assert!(detect(&FeatureTrack::default(), StemKind::Dialogue).is_empty());
    }
}
