//! Voices: a glottal pulse train through moving formant filters. [`Speaker`] renders dialogue lines
//! (syllables at about 4 Hz with a falling, wandering intonation, fricative onsets, pauses between
//! words); [`Singer`] renders sung phrases (sustained notes, vibrato, portamento, vowel formants and
//! a singer's formant).

use super::dsp::{Biquad, FilterKind, OnePole, Phase, Rng};

/// F1-F3 of a few vowels for an adult male voice, Hz.
pub const VOWELS: [[f32; 3]; 6] = [
    [730.0, 1090.0, 2440.0], // a
    [530.0, 1840.0, 2480.0], // e
    [270.0, 2290.0, 3010.0], // i
    [570.0, 840.0, 2410.0],  // o
    [300.0, 870.0, 2240.0],  // u
    [500.0, 1500.0, 2500.0], // schwa
];

/// The vocal tract: band-pass filters at the formants, summed with falling gains.
#[derive(Debug, Clone)]
pub struct FormantBank {
    filters: [Biquad; 4],
    gains: [f32; 4],
}

impl FormantBank {
    pub fn new(sr: f32) -> Self {
        FormantBank {
            filters: [Biquad::new(FilterKind::BandPass, 500.0, 5.0, sr); 4],
            gains: [1.0, 0.7, 0.35, 0.0],
        }
    }

    /// Moves the formants (`f4` is the singer's formant, 0 to leave it out).
    pub fn set(&mut self, f: [f32; 3], f4: f32, sr: f32) {
        const BW: [f32; 4] = [120.0, 150.0, 200.0, 250.0];
        for (i, fi) in f.iter().enumerate() {
            self.filters[i].set(FilterKind::BandPass, *fi, fi / BW[i], sr);
        }
        if f4 > 0.0 {
            self.filters[3].set(FilterKind::BandPass, f4, f4 / BW[3], sr);
            self.gains[3] = 0.5;
        } else {
            self.gains[3] = 0.0;
        }
    }

    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let mut y = 0.0;
        for (f, g) in self.filters.iter_mut().zip(self.gains) {
            y += g * f.process(x);
        }
        y
    }
}

/// Glottal source: an impulse per period through a low-pass (the glottal pulse's spectral tilt).
#[derive(Debug, Clone)]
pub struct Glottal {
    phase: Phase,
    tilt: OnePole,
}

impl Glottal {
    pub fn new(sr: f32) -> Self {
        Glottal {
            phase: Phase(0.0),
            tilt: OnePole::new(900.0, sr),
        }
    }
    /// The next sample; pulses are scaled by `1/sqrt(f0)` so that the power does not depend on the
    /// pitch.
    #[inline]
    pub fn next(&mut self, f0: f32, sr: f32) -> f32 {
        let x = if self.phase.step(f0 / sr) {
            (200.0 / f0.max(20.0)).sqrt()
        } else {
            0.0
        };
        self.tilt.process(x)
    }
}

fn smoothstep(x: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// Speaker voice parameters.
#[derive(Debug, Clone, Copy)]
pub struct VoiceKind {
    pub f0: f32,
    pub formant_scale: f32,
}

pub const SPEAKERS: [VoiceKind; 4] = [
    VoiceKind {
        f0: 98.0,
        formant_scale: 1.0,
    },
    VoiceKind {
        f0: 125.0,
        formant_scale: 0.96,
    },
    VoiceKind {
        f0: 185.0,
        formant_scale: 1.15,
    },
    VoiceKind {
        f0: 212.0,
        formant_scale: 1.2,
    },
];

#[derive(Debug, Clone, Copy)]
struct Syllable {
    start: f64,
    end: f64,
    locus: usize,
    vowel: usize,
    fricative_s: f64,
    stress: f32,
    pitch: f32,
}

/// Renders the dialogue lines of a plan, one sample at a time.
#[derive(Clone)]
pub struct Speaker {
    sr: f32,
    syllables: Vec<Syllable>,
    next: usize,
    line: (f64, f64),
    voice: VoiceKind,
    pub(crate) gain: f32,
    intonation_phase: f32,
    glottal: Glottal,
    formants: FormantBank,
    fricative: Biquad,
    rng: Rng,
    control: usize,
    cur: Option<Syllable>,
}

impl Speaker {
    pub fn new(sr: f32, seed: u64) -> Self {
        Speaker {
            sr,
            syllables: Vec::with_capacity(64),
            next: 0,
            line: (0.0, 0.0),
            voice: SPEAKERS[0],
            gain: 0.0,
            intonation_phase: 0.0,
            glottal: Glottal::new(sr),
            formants: FormantBank::new(sr),
            fricative: Biquad::new(FilterKind::HighPass, 4000.0, 0.7, sr),
            rng: Rng::derive(seed, 10, 0),
            control: 0,
            cur: None,
        }
    }

    /// Starts a line: draws its words and syllables (about 4 per second) to fill `[start, end]` exactly.
    pub fn start_line(&mut self, start: f64, end: f64, speaker: usize, level_dbfs: f64, seed: u64) {
        let mut rng = Rng::new(seed);
        self.syllables.clear();
        self.next = 0;
        self.line = (start, end);
        self.voice = SPEAKERS[speaker % SPEAKERS.len()];
        self.gain = 1.0;
        self.intonation_phase = rng.range(0.0, std::f64::consts::TAU) as f32;
        let mut t = start;
        'words: loop {
            let n = 1 + rng.below(3);
            for _ in 0..n {
                let d = rng.range(0.16, 0.3);
                let s = Syllable {
                    start: t,
                    end: (t + d).min(end),
                    locus: rng.below(VOWELS.len()),
                    vowel: rng.below(5),
                    fricative_s: if rng.chance(0.3) {
                        rng.range(0.03, 0.07)
                    } else {
                        0.0
                    },
                    stress: rng.range(0.55, 1.0) as f32,
                    pitch: rng.range(0.94, 1.1) as f32,
                };
                t += d;
                if end - t < 0.1 {
                    // Stretch the last syllable to the end of the line.
                    self.syllables.push(Syllable { end, ..s });
                    break 'words;
                }
                self.syllables.push(s);
            }
            t += rng.range(0.04, 0.16);
            if end - t < 0.12 {
                if let Some(last) = self.syllables.last_mut() {
                    last.end = end;
                }
                break;
            }
        }
        self.cur = None;
        // Render the line once on a copy (same state, same noise) to set its level exactly.
        let mut cal = self.clone();
        let n = (((end - start) * self.sr as f64) as usize).max(1);
        let e: f64 = (0..n)
            .map(|i| (cal.next(start + i as f64 / self.sr as f64) as f64).powi(2))
            .sum::<f64>()
            / n as f64;
        self.gain = super::dsp::db_to_gain(level_dbfs) / (e.sqrt() as f32).max(1e-9);
    }

    /// The next sample at time `t` (0 outside syllables).
    #[inline]
    pub fn next(&mut self, t: f64) -> f32 {
        if self.next < self.syllables.len() && t >= self.syllables[self.next].start {
            self.cur = Some(self.syllables[self.next]);
            self.next += 1;
        }
        let Some(s) = self.cur else { return 0.0 };
        if t >= s.end {
            self.cur = None;
            return 0.0;
        }
        let (ls, le) = self.line;
        let x = ((t - s.start) / (s.end - s.start)) as f32;
        let lx = ((t - ls) / (le - ls).max(0.1)) as f32;
        if self.control == 0 {
            let k = smoothstep(x * 3.0);
            let sc = self.voice.formant_scale;
            let a = VOWELS[s.locus];
            let b = VOWELS[s.vowel];
            let f = [0, 1, 2].map(|i| sc * (a[i] + (b[i] - a[i]) * k));
            self.formants.set(f, 0.0, self.sr);
        }
        self.control = (self.control + 1) % 32;
        let f0 = self.voice.f0
            * s.pitch
            * (1.0
                + 0.08
                    * (std::f32::consts::TAU * 0.6 * (t - ls) as f32 + self.intonation_phase)
                        .sin())
            * (1.06 - 0.14 * lx);
        let since = (t - s.start) as f32;
        let until = (s.end - t) as f32;
        let env = (since / 0.02).min(1.0) * (until / 0.035).min(1.0) * s.stress;
        let src = if (since as f64) < s.fricative_s {
            0.25 * self.fricative.process(self.rng.noise())
        } else {
            // The formants, plus the low harmonics directly (the voice bar), which keeps the level of
            // a syllable from depending too much on where its formants fall between harmonics.
            let g = self.glottal.next(f0, self.sr) + 0.02 * self.rng.noise();
            self.formants.process(g) + 0.3 * g
        };
        src * env * self.gain
    }
}

/// Renders the sung phrases of song cues.
pub struct Singer {
    sr: f32,
    glottal: Glottal,
    formants: FormantBank,
    vib_phase: f32,
    f0: f32,
    target: f32,
    note_start: f64,
    vowel: usize,
    prev_vowel: usize,
    vowel_start: f64,
    vib_rate: f32,
    vib_depth: f32,
    female: bool,
    rng: Rng,
    control: usize,
}

/// Raw sung output RMS while voiced (calibration test below).
pub const SINGING_RMS: f32 = 0.0045;

impl Singer {
    pub fn new(sr: f32, seed: u64) -> Self {
        Singer {
            sr,
            glottal: Glottal::new(sr),
            formants: FormantBank::new(sr),
            vib_phase: 0.0,
            f0: 220.0,
            target: 220.0,
            note_start: 0.0,
            vowel: 0,
            prev_vowel: 0,
            vowel_start: 0.0,
            vib_rate: 5.5,
            vib_depth: 0.004,
            female: false,
            rng: Rng::derive(seed, 11, 0),
            control: 0,
        }
    }

    /// A new voice for a song cue.
    pub fn reset(&mut self, rng: &mut Rng) {
        self.female = rng.chance(0.5);
        self.vib_rate = rng.range(5.0, 6.0) as f32;
        // 40-70 cents of vibrato.
        self.vib_depth = (2f32.powf(rng.range(40.0, 70.0) as f32 / 1200.0)) - 1.0;
    }

    pub fn is_female(&self) -> bool {
        self.female
    }

    /// A new note (Hz) on a new vowel, starting at `t`.
    pub fn note(&mut self, hz: f32, t: f64, rng: &mut Rng) {
        self.target = hz;
        self.note_start = t;
        self.prev_vowel = self.vowel;
        self.vowel = rng.below(5);
        self.vowel_start = t;
        if self.f0 <= 0.0 {
            self.f0 = hz;
        }
    }

    /// The next voiced sample at `t` (unscaled; multiply by the phrase envelope).
    #[inline]
    pub fn next(&mut self, t: f64) -> f32 {
        let sr = self.sr;
        // Portamento: about 50 ms to the target.
        self.f0 += (self.target - self.f0) * (1.0 - (-1.0 / (0.05 * sr)).exp()) * 3.0;
        self.vib_phase += self.vib_rate / sr;
        if self.vib_phase >= 1.0 {
            self.vib_phase -= 1.0;
        }
        let onset = ((t - self.note_start) as f32 / 0.2).clamp(0.0, 1.0);
        let vib = 1.0 + self.vib_depth * onset * (std::f32::consts::TAU * self.vib_phase).sin();
        if self.control == 0 {
            let k = smoothstep(((t - self.vowel_start) / 0.08) as f32);
            let sc = if self.female { 1.17 } else { 1.0 };
            let a = VOWELS[self.prev_vowel];
            let b = VOWELS[self.vowel];
            let f = [0, 1, 2].map(|i| sc * (a[i] + (b[i] - a[i]) * k));
            self.formants
                .set(f, if self.female { 3200.0 } else { 2900.0 }, sr);
        }
        self.control = (self.control + 1) % 32;
        let g = self.glottal.next(self.f0 * vib, sr) + 0.015 * self.rng.noise();
        self.formants.process(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn a_line_is_voiced_at_its_level_from_start_to_end_and_silent_around_it() {
        let sr = 48_000.0;
        let mut sp = Speaker::new(sr, 3);
        sp.start_line(1.0, 4.0, 2, -26.0, 77);
        let out: Vec<f32> = (0..(5 * 48_000))
            .map(|i| sp.next(i as f64 / 48_000.0))
            .collect();
        assert!(out[..48_000].iter().all(|&v| v == 0.0));
        assert!(out[4 * 48_000 + 10..].iter().all(|&v| v == 0.0));
        let line = &out[48_000..4 * 48_000];
        let db = 20.0 * rms(line).log10();
        // Level within a few dB of the plan (pauses between words lower it a little).
        assert!((db - -26.0).abs() < 0.2, "line at {db} dBFS");
        // Energy near both ends of the line: the truth interval is where the voice is.
        assert!(rms(&out[48_000..48_000 + 4800]) > 1e-3);
        assert!(rms(&out[4 * 48_000 - 4800..4 * 48_000]) > 1e-3);
    }

    #[test]
    fn sung_notes_calibrate_to_their_nominal_level() {
        let sr = 48_000.0;
        let mut s = Singer::new(sr, 1);
        let mut rng = Rng::new(5);
        s.reset(&mut rng);
        s.note(330.0, 0.0, &mut rng);
        let out: Vec<f32> = (0..96_000).map(|i| s.next(i as f64 / 48_000.0)).collect();
        let db = 20.0 * (rms(&out[24_000..]) / SINGING_RMS).log10();
        assert!(db.abs() < 3.0, "sung level off by {db} dB");
    }
}
