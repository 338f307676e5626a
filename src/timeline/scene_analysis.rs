//! Per-scene analysis: finds the scenes of a reel (given or segmented), then says for each what the
//! music does in it against the dialogue and the effects. Also fills the report's start timecode and
//! the loudness curves the HTML timeline draws. [`fill_report`] is the one call `build_report` makes.

use std::collections::BTreeMap;

use super::Span;
use super::scenes::{self, Boundary, SceneOptions, StemInput};
use super::spans::{clip, dilate, intersect, subtract, total};
use super::timecode::Clock;
use crate::discover::StemKind;
use crate::loudness::gating::energy_to_lufs;
use crate::loudness::{LoudnessStats, LoudnessTrace};
use crate::pipeline::TitleAnalysis;
use crate::report::{
    CueDucking, LoudnessCurve, Report, SceneCue, SceneOrigin, SceneReport, StartTimecode,
};

/// Below this a value is silence (BS.1770 absolute gate), LUFS.
const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Dialogue-to-music ratio and ducking need at least this much material on each side, s.
const MIN_MEASURE_S: f64 = 1.0;
/// Music this close to a line counts as "under dialogue" (ducking ramps, pauses between lines), s.
const DUCK_GUARD_S: f64 = 1.0;
/// Music without dialogue is compared only within this distance of the dialogue it is compared to.
const DUCK_NEIGHBOURHOOD_S: f64 = 15.0;

/// BS.1770 gated (integrated) loudness over the union of `spans`, LUFS.
pub fn spans_lufs(trace: &LoudnessTrace, spans: &[Span]) -> Option<f64> {
    trace.spans(spans).integrated_lufs
}

/// The short-term loudness of `trace` every second, for the HTML timeline.
pub fn loudness_curve(trace: &LoudnessTrace) -> LoudnessCurve {
    let step = if trace.step_s > 0.0 {
        trace.step_s
    } else {
        0.1
    };
    let every = ((1.0 / step).round() as usize).max(1);
    let short_term_lufs = trace
        .short_term
        .iter()
        .skip(every - 1)
        .step_by(every)
        .map(|&e| {
            energy_to_lufs(f64::from(e))
                .filter(|&l| l > ABSOLUTE_GATE_LUFS)
                .map(|l| ((l * 10.0).round() / 10.0) as f32)
        })
        .collect();
    LoudnessCurve {
        step_s: step * every as f64,
        short_term_lufs,
    }
}

/// The reel's start timecode from the first stem with a BWF time reference.
pub fn start_timecode(title: &TitleAnalysis, opts: &SceneOptions) -> Option<StartTimecode> {
    let stem = StemKind::ALL
        .iter()
        .filter_map(|k| title.get(*k))
        .find(|a| a.info.time_reference.is_some() && a.info.sample_rate > 0)?;
    let samples = stem.info.time_reference?;
    let seconds = samples as f64 / f64::from(stem.info.sample_rate);
    Some(StartTimecode {
        samples_since_midnight: samples,
        sample_rate: stem.info.sample_rate,
        seconds,
        timecode: opts.fps.timecode_at(seconds).to_string(),
        fps: opts.fps.label().to_string(),
    })
}

/// What of a title is programme, as its leader says (`detect::leader`): the span its scenes
/// are cut from, and per stem what the scenes' loudness figures leave out (its leader marks).
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    pub span: Span,
    pub leave_out: BTreeMap<StemKind, Vec<Span>>,
}

/// The loudness traces of a title by stem, and what their figures leave out.
#[derive(Debug, Clone)]
pub struct Traces<'a> {
    pub by_stem: [(StemKind, Option<&'a LoudnessTrace>); 4],
    pub leave_out: BTreeMap<StemKind, Vec<Span>>,
}

impl Default for Traces<'_> {
    fn default() -> Self {
        Traces {
            by_stem: StemKind::ALL.map(|k| (k, None)),
            leave_out: BTreeMap::new(),
        }
    }
}

impl<'a> Traces<'a> {
    pub fn from_title(
        title: &'a TitleAnalysis,
        leave_out: BTreeMap<StemKind, Vec<Span>>,
    ) -> Traces<'a> {
        Traces {
            by_stem: StemKind::ALL.map(|k| (k, title.get(k).map(|a| &a.loudness))),
            leave_out,
        }
    }

    /// Loudness figures of `trace` (stem `kind`) over `span`, without what it leaves out.
    fn segment(&self, kind: StemKind, trace: &LoudnessTrace, span: Span) -> LoudnessStats {
        match self.leave_out.get(&kind).filter(|out| !out.is_empty()) {
            Some(out) => trace.spans(&subtract(&[span], out)),
            None => trace.segment(span.start_s, span.end_s),
        }
    }
    fn get(&self, kind: StemKind) -> Option<&'a LoudnessTrace> {
        self.by_stem
            .iter()
            .find(|(k, _)| *k == kind)
            .and_then(|(_, t)| *t)
    }
}

/// Fills the report's start timecode, scenes (given, or segmented inside `programme`; each
/// analysed without the leader) and loudness curves. Problems with a given scene file become
/// report warnings.
pub fn fill_report(
    report: &mut Report,
    title: &TitleAnalysis,
    opts: &SceneOptions,
    programme: Programme,
) {
    report.start_timecode = start_timecode(title, opts);
    let clock = Clock::new(
        report.start_timecode.as_ref().map_or(0.0, |t| t.seconds),
        opts.fps,
    );
    let input = |k: StemKind| {
        title.get(k).map(|a| StemInput {
            features: &a.features,
            loudness: &a.loudness,
        })
    };
    let bounds: Vec<(Span, Option<String>, Option<f64>, SceneOrigin)> = match &opts.file {
        Some(file) => {
            let mut warnings = Vec::new();
            let given = file.resolve(&clock, report.duration_s, &mut warnings);
            report.warnings.extend(warnings);
            given
                .into_iter()
                .map(|g| {
                    (
                        Span::new(g.start_s, g.end_s),
                        g.name,
                        None,
                        SceneOrigin::Given,
                    )
                })
                .collect()
        }
        None => {
            let found: Vec<Boundary> = scenes::segment(
                input(StemKind::Effects),
                input(StemKind::Dialogue),
                &report.dialogue,
                programme.span,
                &opts.segment,
            );
            scenes::scenes_from_boundaries(&found, programme.span)
                .into_iter()
                .enumerate()
                .map(|(i, span)| {
                    let score = i.checked_sub(1).map(|b| found[b].score);
                    (span, None, score, SceneOrigin::Detected)
                })
                .collect()
        }
    };
    let traces = Traces::from_title(title, programme.leave_out);
    report.scenes = bounds
        .into_iter()
        .enumerate()
        .map(|(i, (span, name, score, origin))| {
            let mut scene = analyze_scene(report, &traces, span, &clock);
            scene.number = i + 1;
            scene.name = name;
            scene.boundary_score = score.map(|s| (s * 100.0).round() / 100.0);
            scene.origin = origin;
            scene
        })
        .collect();
    report.loudness_curves = StemKind::ALL
        .iter()
        .filter_map(|&k| {
            traces
                .get(k)
                .map(|t| (k.name().to_string(), loudness_curve(t)))
        })
        .filter(|(_, c)| !c.short_term_lufs.is_empty())
        .collect();
}

/// What happens in one scene, from the report's timeline and the stems' loudness traces.
pub fn analyze_scene(report: &Report, traces: &Traces, scene: Span, clock: &Clock) -> SceneReport {
    let dur = scene.duration_s();
    let frac = |s: f64| if dur > 0.0 { s / dur } else { 0.0 };
    let dialogue = clip(&report.dialogue, scene);
    let cue_spans: Vec<Span> = report.cues.iter().map(|c| c.span()).collect();
    let music = clip(&cue_spans, scene);
    let effects = clip(&report.effects_activity, scene);
    let overlap = intersect(&dialogue, &music);
    let clashes = intersect(&clip(&report.vocals, scene), &dialogue);

    let dx = traces.get(StemKind::Dialogue);
    let mx = traces.get(StemKind::Music);
    let dialogue_to_music_lu = match (dx, mx) {
        (Some(dx), Some(mx)) if total(&overlap) >= MIN_MEASURE_S => {
            match (spans_lufs(dx, &overlap), spans_lufs(mx, &overlap)) {
                (Some(d), Some(m)) => Some(round2(d - m)),
                _ => None,
            }
        }
        _ => None,
    };

    let mut cues = Vec::new();
    let mut ducking = Vec::new();
    let (mut all_under, mut all_clear) = (Vec::new(), Vec::new());
    for cue in &report.cues {
        let inside = clip(&[cue.span()], scene);
        let in_scene_s = total(&inside);
        if in_scene_s <= 0.0 {
            continue;
        }
        cues.push(SceneCue {
            number: cue.number,
            kind: cue.kind,
            start_s: cue.start_s,
            end_s: cue.end_s,
            in_scene_s: round2(in_scene_s),
        });
        let (under, clear) = duck_regions(&inside, &dialogue);
        if under.is_empty() {
            continue;
        }
        let d = measure_ducking(cue.number, mx, &under, &clear);
        all_under.extend(under);
        all_clear.extend(clear);
        ducking.push(d);
    }
    let ducking_db = measure_ducking(0, mx, &all_under, &all_clear).duck_db;

    let effects_events: Vec<_> = report
        .effects_events
        .iter()
        .filter(|e| e.start_s >= scene.start_s && e.start_s < scene.end_s)
        .cloned()
        .collect();
    let source_music = report
        .source_music
        .iter()
        .filter_map(|m| {
            let c = clip(&[Span::new(m.start_s, m.end_s)], scene);
            c.first().map(|s| crate::timeline::SourceMusic {
                start_s: s.start_s,
                end_s: s.end_s,
                ..m.clone()
            })
        })
        .collect();
    let loudness = traces
        .by_stem
        .iter()
        .filter_map(|(k, t)| t.map(|t| (k.name().to_string(), traces.segment(*k, t, scene))))
        .collect::<BTreeMap<_, _>>();

    SceneReport {
        number: 0,
        start_s: scene.start_s,
        end_s: scene.end_s,
        name: None,
        duration_s: dur,
        start_tc: clock.label(scene.start_s),
        end_tc: clock.label(scene.end_s),
        origin: SceneOrigin::Detected,
        boundary_score: None,
        dialogue_s: round2(total(&dialogue)),
        dialogue_coverage: round3(frac(total(&dialogue))),
        music_s: round2(total(&music)),
        music_coverage: round3(frac(total(&music))),
        cues,
        effects_s: round2(total(&effects)),
        effects_density: round3(frac(total(&effects))),
        effects_events_per_min: if dur > 0.0 {
            round2(effects_events.len() as f64 * 60.0 / dur)
        } else {
            0.0
        },
        effects_events,
        loudness,
        dialogue_music_overlap_s: round2(total(&overlap)),
        dialogue_to_music_lu,
        vocal_clash_s: round2(total(&clashes)),
        vocal_clashes: clashes,
        ducking_db,
        ducking,
        source_music,
    }
}

/// Music under dialogue (the lines, shrunk a little off their edges where ducks ramp), and music
/// clear of dialogue (away from lines by a guard, but near them) inside `cue`.
fn duck_regions(cue: &[Span], dialogue: &[Span]) -> (Vec<Span>, Vec<Span>) {
    let lines = intersect(cue, dialogue);
    let under = dilate(&lines, -0.2);
    let near = intersect(cue, &dilate(&lines, DUCK_NEIGHBOURHOOD_S));
    let clear = subtract(&near, &dilate(dialogue, DUCK_GUARD_S));
    (under, clear)
}

fn measure_ducking(
    cue: usize,
    mx: Option<&LoudnessTrace>,
    under: &[Span],
    clear: &[Span],
) -> CueDucking {
    let (under_s, clear_s) = (total(under), total(clear));
    let enough = under_s >= MIN_MEASURE_S && clear_s >= MIN_MEASURE_S;
    let u = mx.filter(|_| enough).and_then(|t| spans_lufs(t, under));
    let c = mx.filter(|_| enough).and_then(|t| spans_lufs(t, clear));
    CueDucking {
        cue,
        under_dialogue_s: round2(under_s),
        clear_s: round2(clear_s),
        music_under_dialogue_lufs: u.map(round2),
        music_clear_lufs: c.map(round2),
        duck_db: u.zip(c).map(|(u, c)| round2(c - u)),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::synthetic::{cue, empty_report};
    use crate::timeline::CueKind;
    use crate::timeline::timecode::FrameRate;

    /// A trace whose momentary energy gives `level(t)` LUFS.
    fn trace(duration_s: f64, level: impl Fn(f64) -> f64) -> LoudnessTrace {
        let n = (duration_s / 0.1) as usize;
        let momentary: Vec<f32> = (0..n)
            .map(|i| {
                let centre = (i + 1) as f64 * 0.1 - 0.2;
                10f64.powf((level(centre) + 0.691) / 10.0) as f32
            })
            .collect();
        LoudnessTrace {
            step_s: 0.1,
            short_term: momentary.clone(),
            momentary,
            sample_peak: Vec::new(),
            true_peak: None,
        }
    }

    fn dialogue_lines() -> Vec<Span> {
        vec![Span::new(10.0, 14.0), Span::new(30.0, 36.0)]
    }

    #[test]
    fn gated_loudness_of_a_steady_level_is_that_level() {
        let t = trace(20.0, |_| -23.0);
        let l = spans_lufs(&t, &[Span::new(2.0, 8.0)]).unwrap();
        assert!((l + 23.0).abs() < 0.01, "{l}");
        assert_eq!(
            spans_lufs(&trace(5.0, |_| -90.0), &[Span::new(0.0, 5.0)]),
            None
        );
    }

    #[test]
    fn ducked_music_reports_the_drop_under_dialogue() {
        let mut r = empty_report(60.0);
        r.cues = vec![cue(1, 0.0, 50.0, CueKind::Score)];
        r.dialogue = dialogue_lines();
        let on_line = |t: f64| {
            r.dialogue
                .iter()
                .any(|s| s.start_s - 0.3 <= t && t <= s.end_s + 0.3)
        };
        // Music at -20 LUFS, 8 dB down under lines; dialogue at -27 LUFS.
        let mx = trace(60.0, |t| {
            if t > 50.0 {
                -99.0
            } else if on_line(t) {
                -28.0
            } else {
                -20.0
            }
        });
        let dx = trace(60.0, |t| if on_line(t) { -27.0 } else { -80.0 });
        let traces = Traces {
            by_stem: [
                (StemKind::Dialogue, Some(&dx)),
                (StemKind::Music, Some(&mx)),
                (StemKind::Effects, None),
                (StemKind::Printmaster, None),
            ],
            ..Default::default()
        };
        let s = analyze_scene(
            &r,
            &traces,
            Span::new(0.0, 60.0),
            &Clock::new(0.0, FrameRate::Fps24),
        );
        let duck = s.ducking_db.unwrap();
        assert!((duck - 8.0).abs() < 0.5, "{duck}");
        assert_eq!(s.ducking.len(), 1);
        let dm = s.dialogue_to_music_lu.unwrap();
        assert!((dm - 1.0).abs() < 0.5, "{dm}");
        assert!((s.dialogue_s - 10.0).abs() < 1e-9);
        assert!((s.music_coverage - 50.0 / 60.0).abs() < 1e-3);
    }

    #[test]
    fn unducked_music_reports_no_drop() {
        let mut r = empty_report(60.0);
        r.cues = vec![cue(1, 0.0, 60.0, CueKind::Score)];
        r.dialogue = dialogue_lines();
        let mx = trace(60.0, |_| -21.0);
        let traces = Traces {
            by_stem: [
                (StemKind::Dialogue, None),
                (StemKind::Music, Some(&mx)),
                (StemKind::Effects, None),
                (StemKind::Printmaster, None),
            ],
            ..Default::default()
        };
        let s = analyze_scene(
            &r,
            &traces,
            Span::new(0.0, 60.0),
            &Clock::new(0.0, FrameRate::Fps24),
        );
        assert!(s.ducking_db.unwrap().abs() < 0.3, "{:?}", s.ducking_db);
        assert_eq!(s.dialogue_to_music_lu, None);
    }

    #[test]
    fn a_scenes_loudness_leaves_the_leader_marks_out() {
        // Line-up tone at -20 LUFS from 1 to 5 s, programme at -30 LUFS from 12 s.
        let fx = trace(60.0, |t| {
            if (1.0..5.0).contains(&t) {
                -20.0
            } else if t >= 12.0 {
                -30.0
            } else {
                -99.0
            }
        });
        let mut traces = Traces {
            by_stem: [
                (StemKind::Dialogue, None),
                (StemKind::Music, None),
                (StemKind::Effects, Some(&fx)),
                (StemKind::Printmaster, None),
            ],
            ..Default::default()
        };
        let r = empty_report(60.0);
        let clock = Clock::new(0.0, FrameRate::Fps24);
        let lufs = |t: &Traces| {
            analyze_scene(&r, t, Span::new(0.0, 60.0), &clock).loudness["effects"]
                .integrated_lufs
                .unwrap()
        };
        assert!(lufs(&traces) > -29.0, "the tone lifts the whole scene");
        traces.leave_out = BTreeMap::from([(StemKind::Effects, vec![Span::new(0.6, 5.4)])]);
        assert!((lufs(&traces) + 30.0).abs() < 0.05, "{}", lufs(&traces));
    }

    #[test]
    fn vocal_clashes_are_sung_seconds_under_dialogue_in_the_scene() {
        let mut r = empty_report(100.0);
        r.cues = vec![
            cue(1, 0.0, 40.0, CueKind::Song),
            cue(2, 45.0, 90.0, CueKind::Score),
        ];
        r.dialogue = dialogue_lines();
        r.vocals = vec![Span::new(12.0, 20.0), Span::new(28.0, 40.0)];
        let traces = Traces::default();
        let clock = Clock::new(3600.0, FrameRate::Fps24);
        let s = analyze_scene(&r, &traces, Span::new(0.0, 32.0), &clock);
        assert_eq!(
            s.vocal_clashes,
            vec![Span::new(12.0, 14.0), Span::new(30.0, 32.0)]
        );
        assert!((s.vocal_clash_s - 4.0).abs() < 1e-9);
        assert_eq!(s.cues.len(), 1);
        assert_eq!(s.start_tc, "01:00:00:00");
        assert_eq!(s.end_tc, "01:00:32:00");
        let s2 = analyze_scene(&r, &traces, Span::new(32.0, 100.0), &clock);
        assert_eq!(
            s2.cues.iter().map(|c| c.number).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!((s2.cues[0].in_scene_s - 8.0).abs() < 1e-9);
    }
}
