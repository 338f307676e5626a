//! The music stem: score cues (pad chords, plucked arpeggios, sometimes a bowed lead line and
//! percussion) and song cues (drums, bass, strummed chords and a sung melody), faded in and out,
//! crossfaded on segues and ducked under dialogue.

use super::dsp::{Biquad, FilterKind, OnePole, Phase, Pluck, Rng, Wavetable, db_to_gain, midi_hz};
use super::plan::{CueKind, CuePlan, Plan};
use super::voice::{SINGING_RMS, Singer};

const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];
const PROGRESSIONS: [[i32; 4]; 4] = [[0, 4, 5, 3], [5, 3, 0, 4], [0, 5, 3, 4], [3, 0, 4, 5]];
/// Accompaniment scale: a full arrangement peaks near 0.5.
const MUSIC_NORM: f32 = 0.35;

fn scale_note(root: u8, minor: bool, degree: i32) -> f32 {
    let s = if minor { &MINOR } else { &MAJOR };
    root as f32 + 12.0 * degree.div_euclid(7) as f32 + s[degree.rem_euclid(7) as usize] as f32
}

/// A decaying percussion voice: noise through a filter and/or a sine with a falling pitch.
#[derive(Debug, Clone)]
struct Drum {
    env: f32,
    decay: f32,
    tone: Phase,
    tone_hz: f32,
    sweep: f32,
    noise_amt: f32,
    filter: Biquad,
}

impl Drum {
    fn new(kind: FilterKind, freq: f32, sr: f32) -> Self {
        Drum {
            env: 0.0,
            decay: 0.0,
            tone: Phase(0.0),
            tone_hz: 0.0,
            sweep: 1.0,
            noise_amt: 0.0,
            filter: Biquad::new(kind, freq, 0.8, sr),
        }
    }
    fn hit(&mut self, amp: f32, decay_s: f32, tone_hz: f32, noise_amt: f32, sr: f32) {
        self.env = amp;
        self.decay = (-1.0 / (decay_s * sr)).exp();
        self.tone_hz = tone_hz;
        self.sweep = 3.0;
        self.noise_amt = noise_amt;
        self.tone.0 = 0.0;
    }
    #[inline]
    fn next(&mut self, rng: &mut Rng, sr: f32) -> f32 {
        if self.env < 1e-5 {
            return 0.0;
        }
        self.env *= self.decay;
        self.sweep = 1.0 + (self.sweep - 1.0) * 0.9990;
        let mut y = 0.0;
        if self.tone_hz > 0.0 {
            self.tone.step(self.tone_hz * self.sweep / sr);
            y += (std::f32::consts::TAU * self.tone.0).sin();
        }
        if self.noise_amt > 0.0 {
            y += self.noise_amt * self.filter.process(rng.noise());
        }
        y * self.env
    }
}

/// One cue being played. Two slots exist so that segued cues can overlap.
struct CueVoice {
    cue: Option<usize>,
    rng: Rng,
    progression: [i32; 4],
    step_len: f64,
    next_step: f64,
    step: u64,
    pad: [Phase; 6],
    pad_hz: [f32; 6],
    pad_lp: [Biquad; 2],
    plucks: [Pluck; 4],
    pluck_next: usize,
    bass: Pluck,
    kick: Drum,
    snare: Drum,
    hat: Drum,
    lead: Phase,
    lead_hz: f32,
    lead_target: f32,
    lead_env: f32,
    lead_lp: Biquad,
    singer: Singer,
    /// Index of the next phrase boundary to pass, and whether a phrase is on.
    phrase: usize,
    singing: bool,
    phrase_env: OnePole,
    vocal_gain: f32,
    gain: f32,
    chord_deg: i32,
}

impl CueVoice {
    fn new(sr: f32, seed: u64) -> Self {
        CueVoice {
            cue: None,
            rng: Rng::new(seed),
            progression: PROGRESSIONS[0],
            step_len: 0.25,
            next_step: 0.0,
            step: 0,
            pad: [Phase(0.0); 6],
            pad_hz: [0.0; 6],
            pad_lp: [Biquad::new(FilterKind::LowPass, 1800.0, 0.7, sr); 2],
            plucks: std::array::from_fn(|_| Pluck::new(60.0, sr)),
            pluck_next: 0,
            bass: Pluck::new(30.0, sr),
            kick: Drum::new(FilterKind::LowPass, 200.0, sr),
            snare: Drum::new(FilterKind::BandPass, 1800.0, sr),
            hat: Drum::new(FilterKind::HighPass, 7000.0, sr),
            lead: Phase(0.0),
            lead_hz: 0.0,
            lead_target: 0.0,
            lead_env: 0.0,
            lead_lp: Biquad::new(FilterKind::LowPass, 3000.0, 0.7, sr),
            singer: Singer::new(sr, seed),
            phrase: 0,
            singing: false,
            phrase_env: OnePole::new(6.0, sr),
            vocal_gain: 0.0,
            gain: 0.0,
            chord_deg: 0,
        }
    }

    fn start(&mut self, index: usize, cue: &CuePlan) {
        self.cue = Some(index);
        self.rng = Rng::new(cue.seed);
        self.progression = PROGRESSIONS[self.rng.below(PROGRESSIONS.len())];
        self.step_len = 30.0 / cue.tempo_bpm;
        self.next_step = cue.start_s;
        self.step = 0;
        self.phrase = 0;
        self.singing = false;
        self.lead_env = 0.0;
        self.lead_target = 0.0;
        self.lead_hz = 0.0;
        self.pad_hz = [0.0; 6];
        self.gain = db_to_gain(cue.gain_db) * MUSIC_NORM;
        self.singer.reset(&mut self.rng);
        self.vocal_gain = cue
            .vocal_to_accompaniment_db
            .map(|db| db_to_gain(db) * 0.18 / SINGING_RMS)
            .unwrap_or(0.0);
    }

    /// Events on the eighth-note grid: chord changes, plucks, drums, lead and sung notes.
    fn on_step(&mut self, cue: &CuePlan, t: f64, sr: f32) {
        let song = cue.kind == CueKind::Song;
        let in_bar = self.step % 8;
        let bars_per_chord = if song { 1 } else { 2 };
        let chord_deg = self.progression[((self.step / (8 * bars_per_chord)) % 4) as usize];
        let chord = [0, 2, 4].map(|k| scale_note(cue.key_root, cue.minor, chord_deg + k));
        if in_bar == 0 {
            for (i, hz) in self.pad_hz.iter_mut().enumerate() {
                let detune = if i % 2 == 0 { 0.998 } else { 1.002 };
                *hz = midi_hz(chord[i / 2] + 12.0) * detune;
            }
        }
        let rng = &mut self.rng;
        if rng.chance(if song { 0.45 } else { 0.6 }) {
            let note = chord[rng.below(3)] + if rng.chance(0.5) { 12.0 } else { 24.0 };
            let p = &mut self.plucks[self.pluck_next];
            p.strike(midi_hz(note), 0.5, 0.996, sr, rng);
            self.pluck_next = (self.pluck_next + 1) % 4;
        }
        if song {
            if in_bar == 0 || in_bar == 4 || (in_bar == 7 && rng.chance(0.3)) {
                self.bass
                    .strike(midi_hz(chord[0] - 12.0), 0.8, 0.998, sr, rng);
            }
            if in_bar == 0 || in_bar == 4 || (in_bar == 3 && rng.chance(0.3)) {
                self.kick.hit(0.9, 0.2, 55.0, 0.0, sr);
            }
            if in_bar == 2 || in_bar == 6 {
                self.snare.hit(0.5, 0.12, 190.0, 2.0, sr);
            }
            self.hat.hit(0.18, 0.035, 0.0, 1.5, sr);
        } else if cue.percussion {
            if in_bar == 0 || (in_bar == 5 && rng.chance(0.5)) {
                self.kick.hit(0.8, 0.45, 42.0, 0.0, sr);
            }
            if in_bar % 2 == 1 && rng.chance(0.5) {
                self.hat.hit(0.07, 0.05, 0.0, 1.5, sr);
            }
        }
        if cue.lead && self.step.is_multiple_of(2) && (self.lead_target == 0.0 || rng.chance(0.35))
        {
            let deg = chord_deg + [0, 2, 4, 1, 5][rng.below(5)];
            self.lead_target = midi_hz(scale_note(cue.key_root, cue.minor, deg) + 12.0);
            if self.lead_hz == 0.0 {
                self.lead_hz = self.lead_target;
            }
        }
        // Sung notes: a new note every one to three eighths while a phrase is on.
        if self.singing && rng.chance(0.55) {
            self.sing_note(cue, chord_deg, t);
        }
        self.chord_deg = chord_deg;
    }

    fn sing_note(&mut self, cue: &CuePlan, chord_deg: i32, t: f64) {
        let rng = &mut self.rng;
        let base = if self.singer.is_female() { 12.0 } else { 0.0 };
        let deg = chord_deg + [0, 2, 4, 1, 3, 5][rng.below(6)];
        let hz = midi_hz(scale_note(cue.key_root, cue.minor, deg) + base);
        self.singer.note(hz, t, rng);
    }

    /// One stereo frame of this cue, before its fade and gain.
    #[inline]
    fn next(&mut self, cue: &CuePlan, t: f64, saw: &Wavetable, sr: f32) -> (f32, f32) {
        while t >= self.next_step {
            self.on_step(cue, t, sr);
            self.step += 1;
            self.next_step = cue.start_s + self.step as f64 * self.step_len;
        }
        let song = cue.kind == CueKind::Song;
        let (mut l, mut r) = (0.0, 0.0);
        for i in 0..6 {
            if self.pad_hz[i] > 0.0 {
                self.pad[i].step(self.pad_hz[i] / sr);
                let v = saw.at(self.pad[i].0);
                if i % 2 == 0 { l += v } else { r += v }
            }
        }
        let pad_amt = if song { 0.05 } else { 0.09 };
        l = self.pad_lp[0].process(l) * pad_amt;
        r = self.pad_lp[1].process(r) * pad_amt;
        for (i, p) in self.plucks.iter_mut().enumerate() {
            let v = p.process() * 0.5;
            if i % 2 == 0 {
                l += v * 0.7;
                r += v * 0.3
            } else {
                l += v * 0.3;
                r += v * 0.7
            }
        }
        let rng = &mut self.rng;
        let bass = self.bass.process() * 0.5;
        let drums = self.kick.next(rng, sr) * 0.6 + self.snare.next(rng, sr) * 0.35;
        let hat = self.hat.next(rng, sr) * 0.3;
        l += bass + drums + hat * 0.8;
        r += bass + drums + hat * 1.2;
        if cue.lead && self.lead_target > 0.0 {
            self.lead_hz += (self.lead_target - self.lead_hz) * 0.002;
            self.lead_env += (1.0 - self.lead_env) * 0.0002;
            let vib = 1.0 + 0.009 * (std::f32::consts::TAU * 5.0 * t as f32).sin();
            self.lead.step(self.lead_hz * vib / sr);
            let v = self.lead_lp.process(saw.at(self.lead.0)) * 0.09 * self.lead_env;
            l += v;
            r += v;
        }
        if song {
            // Phrase boundaries are followed to the sample: they are the vocal truth.
            if let Some(p) = cue.phrases.get(self.phrase) {
                let on = t >= p[0] && t < p[1];
                if on && !self.singing {
                    self.singing = true;
                    self.sing_note(cue, self.chord_deg, t);
                } else if !on && self.singing {
                    self.singing = false;
                    self.phrase += 1;
                }
            }
            let env = self.phrase_env.process(self.singing as u8 as f32);
            if env > 1e-4 {
                let v = self.singer.next(t) * env * self.vocal_gain;
                l += v;
                r += v;
            }
        }
        (l, r)
    }
}

/// Fade gain at `t` for a cue (equal-power ramps).
fn fade(cue: &CuePlan, t: f64) -> f32 {
    let fi = if cue.fade_in_s > 0.0 {
        ((t - cue.start_s) / cue.fade_in_s).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let fo = if cue.fade_out_s > 0.0 {
        ((cue.end_s - t) / cue.fade_out_s).clamp(0.0, 1.0)
    } else {
        1.0
    };
    ((fi * std::f64::consts::FRAC_PI_2).sin() * (fo * std::f64::consts::FRAC_PI_2).sin()) as f32
}

/// Renders the music stem of a plan.
pub struct MusicEngine<'a> {
    plan: &'a Plan,
    sr: f32,
    saw: Wavetable,
    slots: [CueVoice; 2],
    next_cue: usize,
    next_line: usize,
    duck: OnePole,
    duck_gain: f32,
}

impl<'a> MusicEngine<'a> {
    pub fn new(plan: &'a Plan, sr: f32, seed: u64) -> Self {
        MusicEngine {
            plan,
            sr,
            saw: Wavetable::harmonics(20, 1.0),
            slots: [CueVoice::new(sr, seed ^ 1), CueVoice::new(sr, seed ^ 2)],
            next_cue: 0,
            next_line: 0,
            duck: OnePole::new(2.0, sr),
            duck_gain: db_to_gain(-plan.music_duck_db),
        }
    }

    /// One stereo frame at `t`.
    #[inline]
    pub fn next(&mut self, t: f64) -> (f32, f32) {
        let plan = self.plan;
        while self.next_cue < plan.cues.len() && t >= plan.cues[self.next_cue].start_s {
            let slot = self.slots.iter().position(|s| s.cue.is_none()).unwrap_or(0);
            self.slots[slot].start(self.next_cue, &plan.cues[self.next_cue]);
            self.next_cue += 1;
        }
        // Duck under dialogue: 0.2 s before a line until 0.4 s after it.
        while self.next_line < plan.lines.len() && t > plan.lines[self.next_line].end_s + 0.4 {
            self.next_line += 1;
        }
        let ducked = plan
            .lines
            .get(self.next_line)
            .is_some_and(|l| t >= l.start_s - 0.2);
        let duck = self.duck.process(if ducked { self.duck_gain } else { 1.0 });
        let (mut l, mut r) = (0.0, 0.0);
        for slot in &mut self.slots {
            let Some(i) = slot.cue else { continue };
            let cue = &plan.cues[i];
            if t >= cue.end_s {
                slot.cue = None;
                continue;
            }
            let g = fade(cue, t) * slot.gain * duck;
            let (a, b) = slot.next(cue, t, &self.saw, self.sr);
            l += a * g;
            r += b * g;
        }
        (l, r)
    }
}
