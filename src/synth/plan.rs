//! The timeline of a synthetic reel, drawn from the seed before a sample is rendered: scenes (each with
//! its own dialogue noise floor and effects ambience), dialogue lines, music cues (score or song, with
//! the sung phrases of songs) and effects hits. The truth file is written from the plan, so it says
//! exactly what was rendered.

use serde::Serialize;

use super::dsp::Rng;

/// The kinds of ambience bed the effects stem cycles through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ambience {
    Rain,
    Wind,
    Traffic,
    Ocean,
    Room,
}

const AMBIENCES: [Ambience; 5] = [
    Ambience::Rain,
    Ambience::Wind,
    Ambience::Traffic,
    Ambience::Ocean,
    Ambience::Room,
];

#[derive(Debug, Clone, Serialize)]
pub struct ScenePlan {
    pub start_s: f64,
    pub end_s: f64,
    pub ambience: Ambience,
    /// Ambience bed level, dBFS RMS (nominal).
    pub ambience_db: f64,
    /// Dialogue noise floor, dBFS RMS (nominal).
    pub dx_noise_dbfs: f64,
    pub dx_hum_hz: Option<f64>,
    pub dx_hum_dbfs: Option<f64>,
    /// Index of the two speakers talking in this scene.
    #[serde(skip)]
    pub speakers: [usize; 2],
}

#[derive(Debug, Clone, Serialize)]
pub struct LinePlan {
    pub start_s: f64,
    pub end_s: f64,
    pub speaker: usize,
    /// Nominal level of the line, dBFS RMS while voiced.
    pub level_dbfs: f64,
    #[serde(skip)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CueKind {
    Song,
    Score,
}

#[derive(Debug, Clone, Serialize)]
pub struct CuePlan {
    pub start_s: f64,
    pub end_s: f64,
    pub kind: CueKind,
    pub source: String,
    pub license: String,
    pub fade_in_s: f64,
    pub fade_out_s: f64,
    /// Nominal gain of the cue before ducking, dB.
    pub gain_db: f64,
    pub stinger: bool,
    pub segue_in: bool,
    pub segue_out: bool,
    pub tempo_bpm: f64,
    /// MIDI note of the key's root.
    pub key_root: u8,
    pub minor: bool,
    /// Score cues: a bowed lead line over the chords (instrumental melody, no voice).
    pub lead: bool,
    /// Score cues: percussion.
    pub percussion: bool,
    /// Song cues: the sung phrases, in reel time.
    pub phrases: Vec<[f64; 2]>,
    /// Song cues: vocal level against the accompaniment, dB.
    pub vocal_to_accompaniment_db: Option<f64>,
    #[serde(skip)]
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HitPlan {
    pub start_s: f64,
    pub end_s: f64,
    pub peak_dbfs: f64,
    #[serde(skip)]
    pub seed: u64,
}

/// Everything that happens in the reel.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub duration_s: f64,
    pub scenes: Vec<ScenePlan>,
    pub lines: Vec<LinePlan>,
    pub cues: Vec<CuePlan>,
    pub hits: Vec<HitPlan>,
    /// Music is ducked by this much under dialogue.
    pub music_duck_db: f64,
}

fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Plan {
    /// Draws the plan of a reel of `duration_s` seconds. Lengths scale down for short reels (the demo)
    /// so that even 20 s hold two scenes, dialogue, a score cue and a song cue.
    pub fn draw(duration_s: f64, seed: u64) -> Plan {
        let d = duration_s.max(4.0);
        let mut rng = Rng::derive(seed, 1, 0);
        let scenes = draw_scenes(d, &mut rng);
        let mut lines = Vec::new();
        for (i, sc) in scenes.iter().enumerate() {
            draw_lines(sc, i, seed, &mut rng, &mut lines);
        }
        let cues = draw_cues(d, seed, &mut rng);
        let mut hits = Vec::new();
        for sc in &scenes {
            let n = 1 + rng.below(3);
            for _ in 0..n {
                let len = rng.range(0.4, 1.5).min(sc.end_s - sc.start_s);
                let start = ms(rng.range(sc.start_s, (sc.end_s - len).max(sc.start_s)));
                hits.push(HitPlan {
                    start_s: start,
                    end_s: ms(start + len),
                    peak_dbfs: ms(if rng.chance(0.3) {
                        rng.range(-4.0, -1.5)
                    } else {
                        rng.range(-18.0, -8.0)
                    }),
                    seed: rng.next_u64(),
                });
            }
        }
        hits.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        Plan {
            duration_s: d,
            scenes,
            lines,
            cues,
            hits,
            music_duck_db: ms(rng.range(6.0, 9.0)),
        }
    }

    /// Sung intervals in reel time (phrases of every song cue).
    pub fn vocals(&self) -> Vec<[f64; 2]> {
        let mut v: Vec<[f64; 2]> = self
            .cues
            .iter()
            .flat_map(|c| c.phrases.iter().copied())
            .collect();
        v.sort_by(|a, b| a[0].total_cmp(&b[0]));
        v
    }
}

fn draw_scenes(d: f64, rng: &mut Rng) -> Vec<ScenePlan> {
    let (lo, hi) = if d < 160.0 {
        (d / 2.0 * 0.8, d / 2.0 * 1.2)
    } else {
        (30.0, 80.0)
    };
    let mut bounds = vec![0.0];
    let mut t = 0.0;
    loop {
        let len = rng.range(lo, hi);
        if t + len + lo * 0.5 >= d {
            break;
        }
        t = ms(t + len);
        bounds.push(t);
    }
    bounds.push(d);
    let mut scenes = Vec::new();
    let mut last_amb = usize::MAX;
    for w in bounds.windows(2) {
        let mut a = rng.below(AMBIENCES.len());
        if a == last_amb {
            a = (a + 1) % AMBIENCES.len();
        }
        last_amb = a;
        let hum = rng.chance(0.5);
        let s0 = rng.below(2);
        let s1 = 2 + rng.below(2);
        scenes.push(ScenePlan {
            start_s: w[0],
            end_s: w[1],
            ambience: AMBIENCES[a],
            ambience_db: ms(rng.range(-44.0, -34.0)),
            dx_noise_dbfs: ms(rng.range(-54.0, -46.0)),
            dx_hum_hz: hum.then_some(if rng.chance(0.5) { 50.0 } else { 60.0 }),
            dx_hum_dbfs: hum.then(|| ms(rng.range(-60.0, -52.0))),
            speakers: if rng.chance(0.5) { [s0, s1] } else { [s1, s0] },
        });
    }
    scenes
}

fn draw_lines(
    sc: &ScenePlan,
    scene_index: usize,
    seed: u64,
    rng: &mut Rng,
    out: &mut Vec<LinePlan>,
) {
    let short = sc.end_s - sc.start_s < 40.0;
    let mut t = sc.start_s + rng.range(0.5, if short { 1.0 } else { 3.0 });
    let mut who = 0;
    let mut n = 0u64;
    loop {
        let len = rng.range(1.2, 4.5);
        if t + len > sc.end_s - 0.6 {
            break;
        }
        out.push(LinePlan {
            start_s: ms(t),
            end_s: ms(t + len),
            speaker: sc.speakers[who],
            level_dbfs: ms(rng.range(-30.0, -23.0)),
            seed: Rng::derive(seed, 2, (scene_index as u64) << 20 | n).next_u64(),
        });
        n += 1;
        // A long silence now and then (a beat of action), otherwise a turn-taking pause.
        t += len
            + if rng.chance(0.12) {
                rng.range(4.0, 10.0)
            } else {
                rng.range(0.7, 2.2)
            };
        if rng.chance(0.7) {
            who = 1 - who;
        }
    }
}

fn draw_cues(d: f64, seed: u64, rng: &mut Rng) -> Vec<CuePlan> {
    let short = d < 160.0;
    let (min_len, max_len) = if short {
        (d * 0.3, d * 0.45)
    } else {
        (20.0, 60.0)
    };
    let (gap_lo, gap_hi) = if short {
        (d * 0.05, d * 0.1)
    } else {
        (4.0, 25.0)
    };
    let mut cues: Vec<CuePlan> = Vec::new();
    let mut t = rng.range(0.5, if short { d * 0.05 } else { 8.0 });
    let mut segue_in = false;
    let mut fade_in: f64 = 0.05;
    let mut songs = 0;
    let mut i = 0u64;
    while t + min_len <= d - 0.5 {
        let len = rng.range(min_len, max_len).min(d - 0.5 - t);
        let song = if i == 1 && songs == 0 {
            true
        } else if i == 0 {
            false
        } else {
            rng.chance(0.4)
        };
        songs += song as usize;
        let segue_out = rng.chance(0.4);
        let fade_out = if segue_out {
            rng.range(1.0, 3.0)
        } else {
            rng.range(1.5, 5.0)
        }
        .min(len / 4.0);
        let start = ms(t);
        let end = ms(t + len);
        // A segue's fade-in is the previous cue's fade-out (the crossfade); others fit the cue.
        let this_fade_in = if segue_in {
            fade_in
        } else {
            fade_in.min(len / 4.0)
        };
        let mut cue_rng = Rng::derive(seed, 3, i);
        let minor = cue_rng.chance(0.5);
        let mut cue = CuePlan {
            start_s: start,
            end_s: end,
            kind: if song { CueKind::Song } else { CueKind::Score },
            source: format!("synth:{}", if song { "song" } else { "score" }),
            license: "generated (stemscope synth, no third-party material)".into(),
            fade_in_s: ms(this_fade_in),
            fade_out_s: ms(fade_out),
            gain_db: ms(if cue_rng.chance(0.3) {
                cue_rng.range(-16.0, -12.0)
            } else {
                cue_rng.range(-4.0, 0.0)
            }),
            stinger: false,
            segue_in,
            segue_out,
            tempo_bpm: ms(cue_rng.range(72.0, 128.0)),
            key_root: 45 + cue_rng.below(10) as u8,
            minor,
            lead: !song && cue_rng.chance(0.5),
            percussion: song || cue_rng.chance(0.5),
            phrases: Vec::new(),
            vocal_to_accompaniment_db: song.then(|| ms(cue_rng.range(-3.0, 3.0))),
            seed: cue_rng.next_u64(),
        };
        if song {
            let mut p = start + cue.fade_in_s + cue_rng.range(0.3, 1.5);
            let stop = end - cue.fade_out_s;
            while p + 1.5 < stop {
                let plen = cue_rng.range(2.0, 5.0).min(stop - p);
                cue.phrases.push([ms(p), ms(p + plen)]);
                p += plen + cue_rng.range(0.8, 2.0);
            }
        }
        cues.push(cue);
        i += 1;
        if segue_out {
            t = end - fade_out;
            fade_in = fade_out;
            segue_in = true;
        } else {
            t = end + rng.range(gap_lo, gap_hi);
            fade_in = if rng.chance(0.5) {
                0.05
            } else {
                rng.range(1.0, 3.0)
            };
            segue_in = false;
        }
    }
    if let Some(last) = cues.last_mut() {
        last.segue_out = false;
    }
    cues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twenty_second_demo_holds_two_scenes_dialogue_a_score_and_a_song() {
        for seed in 0..20 {
            let p = Plan::draw(20.0, seed);
            assert!(
                p.scenes.len() >= 2,
                "seed {seed}: {} scenes",
                p.scenes.len()
            );
            assert!(!p.lines.is_empty(), "seed {seed}");
            assert!(
                p.cues.iter().any(|c| c.kind == CueKind::Score),
                "seed {seed}"
            );
            assert!(
                p.cues
                    .iter()
                    .any(|c| c.kind == CueKind::Song && !c.phrases.is_empty()),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn plans_stay_inside_the_reel_and_in_order() {
        for (d, seed) in [(20.0, 1), (600.0, 2), (7200.0, 3)] {
            let p = Plan::draw(d, seed);
            assert_eq!(p.scenes.first().unwrap().start_s, 0.0);
            assert_eq!(p.scenes.last().unwrap().end_s, d);
            for w in p.lines.windows(2) {
                assert!(
                    w[0].end_s + 0.5 < w[1].start_s,
                    "lines overlap or touch: {w:?}"
                );
            }
            for c in &p.cues {
                assert!(c.start_s >= 0.0 && c.end_s <= d && c.end_s > c.start_s);
                for ph in &c.phrases {
                    assert!(ph[0] >= c.start_s && ph[1] <= c.end_s);
                }
            }
            for w in p.cues.windows(2) {
                assert_eq!(w[0].segue_out, w[1].segue_in);
                assert!(w[1].start_s >= w[0].end_s - 3.01);
            }
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_plan() {
        let a = serde_json::to_string(&Plan::draw(600.0, 9)).unwrap();
        let b = serde_json::to_string(&Plan::draw(600.0, 9)).unwrap();
        let c = serde_json::to_string(&Plan::draw(600.0, 10)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
