//! Synthetic reports: film-like timelines made up from a seed, for tests and for previewing the
//! views (cue sheet, HTML) of long films without audio. Nothing here is measured.

use std::collections::BTreeMap;

use super::{AnalysisInfo, LoudnessCurve, Report, SCHEMA_VERSION, SceneOrigin, StartTimecode};
use crate::loudness::LoudnessStats;
use crate::timeline::scene_analysis::{Traces, analyze_scene};
use crate::timeline::timecode::{Clock, FrameRate};
use crate::timeline::{CueKind, EffectsEvent, MusicCue, SourceMusic, Span};

/// A deterministic xorshift generator in [0, 1).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

/// A report with nothing in it.
pub fn empty_report(duration_s: f64) -> Report {
    Report {
        schema_version: SCHEMA_VERSION.into(),
        title: "Synthetic".into(),
        reel: None,
        duration_s,
        start_timecode: None,
        stems: BTreeMap::new(),
        mix: None,
        cues: Vec::new(),
        segues: Vec::new(),
        vocals: Vec::new(),
        dialogue: Vec::new(),
        effects_activity: Vec::new(),
        effects_events: Vec::new(),
        effects_bed: None,
        source_music: Vec::new(),
        scenes: Vec::new(),
        loudness_curves: BTreeMap::new(),
        leader: BTreeMap::new(),
        warnings: Vec::new(),
        analysis: AnalysisInfo {
            stemscope_version: env!("CARGO_PKG_VERSION").into(),
            analysis_rate_hz: crate::condition::ANALYSIS_RATE,
            vocal_model: None,
            elapsed_s: 0.0,
        },
    }
}

/// A music cue with placeholder figures.
pub fn cue(number: usize, start_s: f64, end_s: f64, kind: CueKind) -> MusicCue {
    MusicCue {
        number,
        start_s,
        end_s,
        duration_s: end_s - start_s,
        kind,
        vocal_s: 0.0,
        vocal_ratio: 0.0,
        confidence: 0.8,
        segue_in: false,
        segue_out: false,
        loudness: LoudnessStats::default(),
    }
}

/// A source-music candidate on the effects stem.
pub fn source(start_s: f64, end_s: f64) -> SourceMusic {
    SourceMusic {
        start_s,
        end_s,
        stem: "effects".into(),
        confidence: 0.7,
    }
}

/// Three cues (score, song, song) in a 3-minute reel.
pub fn report_with_cues() -> Report {
    let mut r = empty_report(180.0);
    r.cues = vec![
        cue(1, 5.5, 44.77, CueKind::Score),
        cue(2, 60.0, 100.0, CueKind::Song),
        cue(3, 120.0, 150.0, CueKind::Song),
    ];
    r
}

const PLACES: &[&str] = &[
    "INT. KITCHEN - NIGHT",
    "EXT. BEACH - DAY",
    "INT. CAR - DAY",
    "EXT. HARBOUR - DUSK",
    "INT. OFFICE - DAY",
    "EXT. FOREST - NIGHT",
    "INT. BAR & GRILL - NIGHT",
];

/// A film-like report: `scenes` scenes, `cues` cues (about a third songs with vocals), dialogue in
/// every scene, effects, loud hits, two source-music candidates, loudness curves, the scenes analysed,
/// start timecode 01:00:00:00 at 24 fps.
pub fn synthetic_report(duration_s: f64, scenes: usize, cues: usize, seed: u64) -> Report {
    let mut rng = Rng::new(seed);
    let mut r = empty_report(duration_s);
    r.title = format!("Synthetic film {seed}");
    r.reel = Some("R1".into());
    r.start_timecode = Some(StartTimecode {
        samples_since_midnight: 172_800_000,
        sample_rate: 48_000,
        seconds: 3600.0,
        timecode: "01:00:00:00".into(),
        fps: "24".into(),
    });
    // Scene edges: equal shares with jitter.
    let scenes = scenes.max(1);
    let share = duration_s / scenes as f64;
    let mut edges: Vec<f64> = (0..=scenes)
        .map(|i| {
            if i == 0 || i == scenes {
                i as f64 * share
            } else {
                i as f64 * share + rng.range(-0.3, 0.3) * share
            }
        })
        .collect();
    edges[scenes] = duration_s;
    // Cues: one slot each, a random part of the slot.
    let slot = duration_s / cues.max(1) as f64;
    for i in 0..cues {
        let a = i as f64 * slot + rng.range(0.0, 0.3) * slot;
        let b = (a + rng.range(0.35, 0.65) * slot).min(duration_s);
        let kind = if rng.next() < 0.35 {
            CueKind::Song
        } else {
            CueKind::Score
        };
        let mut c = cue(i + 1, a, b, kind);
        c.confidence = (rng.range(0.55, 0.99) * 100.0).round() / 100.0;
        if kind == CueKind::Song {
            let mut t = a + rng.range(1.0, 4.0);
            while t < b - 3.0 {
                let e = (t + rng.range(3.0, 9.0)).min(b);
                r.vocals.push(Span::new(t, e));
                c.vocal_s += e - t;
                t = e + rng.range(1.0, 5.0);
            }
            c.vocal_ratio = c.vocal_s / c.duration_s;
        }
        r.cues.push(c);
    }
    // Dialogue: lines in each scene; effects bed activity and hits.
    for w in edges.windows(2) {
        let mut t = w[0] + rng.range(1.0, 6.0);
        while t < w[1] - 2.0 {
            let e = (t + rng.range(1.0, 5.0)).min(w[1] - 0.5);
            r.dialogue.push(Span::new(t, e));
            t = e + rng.range(0.5, 8.0);
        }
        r.effects_activity.push(Span::new(w[0], w[1]));
        for _ in 0..(rng.range(0.0, 4.0) as usize) {
            let t = rng.range(w[0], w[1] - 1.0);
            r.effects_events.push(EffectsEvent {
                start_s: t,
                end_s: t + rng.range(0.3, 2.0),
                peak_lufs: rng.range(-20.0, -8.0),
                above_bed_lu: rng.range(6.0, 20.0),
            });
        }
    }
    r.effects_events
        .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    if let Some(c) = r.cues.get(cues / 3) {
        r.source_music.push(source(c.start_s, c.end_s));
    }
    let t = duration_s * 0.8;
    r.source_music.push(SourceMusic {
        stem: "dialogue".into(),
        ..source(t, t + 20.0)
    });
    // Loudness curves: random walks around plausible stem levels.
    for (stem, level) in [("dialogue", -27.0), ("music", -24.0), ("effects", -34.0)] {
        let mut v = level;
        let values = (0..duration_s as usize)
            .map(|i| {
                v = (v + rng.range(-1.0, 1.0)).clamp(level - 12.0, level + 10.0);
                let t = (i + 1) as f64;
                let silent =
                    stem == "music" && !r.cues.iter().any(|c| c.start_s <= t && t < c.end_s);
                (!silent).then_some(((v * 10.0).round() / 10.0) as f32)
            })
            .collect();
        r.loudness_curves.insert(
            stem.into(),
            LoudnessCurve {
                step_s: 1.0,
                short_term_lufs: values,
            },
        );
    }
    let clock = Clock::new(3600.0, FrameRate::Fps24);
    let traces = Traces::default();
    r.scenes = edges
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let mut s = analyze_scene(&r, &traces, Span::new(w[0], w[1]), &clock);
            s.number = i + 1;
            s.name = Some(format!("{} {}", PLACES[i % PLACES.len()], i + 1));
            s.origin = SceneOrigin::Given;
            s
        })
        .collect();
    r
}
