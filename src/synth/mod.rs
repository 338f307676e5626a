//! Synth: film-like DX/MX/FX stems generated from a seed, with a `truth.json` that says what is in
//! them, for the demo title, tests and benchmarks.
//!
//! The reel's timeline is drawn first ([`plan::Plan`]); each stem is then rendered sample by sample
//! and written block by block ([`wav::BwfWriter`]), so a 2-hour 5.1 set is made in constant memory.
//! - DX: speech-like lines (glottal pulses through moving formants, about four syllables a second,
//!   words and pauses) over a per-scene noise floor with mains hum in some scenes.
//! - MX: score cues (chords, pads, plucked strings, sometimes a bowed lead and percussion) and song
//!   cues (a sung melody with vibrato and vowel formants over drums, bass and chords), faded,
//!   crossfaded on segues and ducked under dialogue.
//! - FX: ambience beds of filtered noise that change at every scene cut, and hits.
//!
//! Files are 48 kHz (by default) 16- or 24-bit BWF with a `bext` time reference of 01:00:00:00, in
//! mono, stereo (DX dual-mono) or 5.1 (L R C LFE Ls Rs, WAVE_FORMAT_EXTENSIBLE mask 0x3F, DX on C).
//! The same configuration gives byte-identical files.

pub mod dsp;
pub mod effects;
pub mod music;
pub mod plan;
pub mod voice;
pub mod wav;

use std::path::{Path, PathBuf};

use serde::Serialize;

use dsp::{Biquad, FilterKind, Phase, Rng, db_to_gain};
use plan::Plan;
use wav::{BwfSpec, BwfWriter};

/// Channel layout of the generated stems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Mono,
    Stereo,
    /// L R C LFE Ls Rs.
    FivePointOne,
}

impl Layout {
    pub fn channels(self) -> u16 {
        match self {
            Layout::Mono => 1,
            Layout::Stereo => 2,
            Layout::FivePointOne => 6,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Layout::Mono => "mono",
            Layout::Stereo => "stereo",
            Layout::FivePointOne => "5.1",
        }
    }
    fn channel_mask(self) -> Option<u32> {
        match self {
            Layout::FivePointOne => Some(0x3F),
            _ => None,
        }
    }
}

impl std::str::FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "mono" => Ok(Layout::Mono),
            "stereo" => Ok(Layout::Stereo),
            "5.1" | "51" | "5_1" => Ok(Layout::FivePointOne),
            other => Err(format!("unknown layout '{other}' (mono, stereo or 5.1)")),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub seconds: f64,
    pub layout: Layout,
    /// 16 or 24.
    pub bits: u16,
    pub sample_rate: u32,
    pub seed: u64,
    /// File name prefix: `TITLE_DX.wav`, ...
    pub title: String,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seconds: 60.0,
            layout: Layout::Stereo,
            bits: 24,
            sample_rate: 48_000,
            seed: 1,
            title: "SYNTH".into(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct SynthOutput {
    /// DX, MX, FX.
    pub stems: [PathBuf; 3],
    pub truth: PathBuf,
    pub frames: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stem {
    Dx,
    Mx,
    Fx,
}

/// The dialogue stem: lines over the scene's noise floor and hum.
struct DialogueEngine<'a> {
    plan: &'a Plan,
    speaker: voice::Speaker,
    next_line: usize,
    scene: usize,
    rng: Rng,
    hp: Biquad,
    lp: Biquad,
    noise_gain: f32,
    hum: Phase,
    hum_hz: f32,
    hum_gain: f32,
    sr: f32,
}

impl<'a> DialogueEngine<'a> {
    fn new(plan: &'a Plan, sr: f32, seed: u64) -> Self {
        let mut e = DialogueEngine {
            plan,
            speaker: voice::Speaker::new(sr, seed),
            next_line: 0,
            scene: 0,
            rng: Rng::derive(seed, 30, 0),
            hp: Biquad::new(FilterKind::HighPass, 80.0, 0.7, sr),
            lp: Biquad::new(FilterKind::LowPass, 6000.0, 0.7, sr),
            noise_gain: 0.0,
            hum: Phase(0.0),
            hum_hz: 0.0,
            hum_gain: 0.0,
            sr,
        };
        e.enter(0);
        e
    }

    fn enter(&mut self, i: usize) {
        let Some(sc) = self.plan.scenes.get(i) else {
            return;
        };
        self.scene = i;
        // Uniform noise band-limited to 80 Hz - 6 kHz keeps about (5920 / (sr / 2)) of its power.
        let band_rms = 0.577 * (5920.0 / (self.sr / 2.0)).sqrt();
        self.noise_gain = db_to_gain(sc.dx_noise_dbfs) / band_rms;
        self.hum_hz = sc.dx_hum_hz.unwrap_or(0.0) as f32;
        // Fundamental plus harmonics 2-4 at 1, 0.5, 0.3, 0.2: RMS 0.83.
        self.hum_gain = sc.dx_hum_dbfs.map(|d| db_to_gain(d) / 0.83).unwrap_or(0.0);
    }

    #[inline]
    fn next(&mut self, t: f64) -> f32 {
        let plan = self.plan;
        if t >= plan.scenes[self.scene].end_s && self.scene + 1 < plan.scenes.len() {
            self.enter(self.scene + 1);
        }
        if let Some(l) = plan.lines.get(self.next_line)
            && t >= l.start_s
        {
            self.speaker
                .start_line(l.start_s, l.end_s, l.speaker, l.level_dbfs, l.seed);
            self.next_line += 1;
        }
        let floor = self.lp.process(self.hp.process(self.rng.noise())) * self.noise_gain;
        let mut hum = 0.0;
        if self.hum_hz > 0.0 {
            self.hum.step(self.hum_hz / self.sr);
            let p = std::f32::consts::TAU * self.hum.0;
            hum = (p.sin() + 0.5 * (2.0 * p).sin() + 0.3 * (3.0 * p).sin() + 0.2 * (4.0 * p).sin())
                * self.hum_gain;
        }
        self.speaker.next(t) + floor + hum
    }
}

/// Renders one stem into `path`.
fn render(
    stem: Stem,
    plan: &Plan,
    cfg: &SynthConfig,
    frames: u64,
    path: &Path,
) -> crate::Result<u64> {
    let sr = cfg.sample_rate as f32;
    let ch = cfg.layout.channels() as usize;
    let spec = BwfSpec {
        sample_rate: cfg.sample_rate,
        channels: ch as u16,
        bits: cfg.bits,
        channel_mask: cfg.layout.channel_mask(),
        time_reference: 3600 * cfg.sample_rate as u64,
        description: format!(
            "stemscope synthetic {} stem, {} s, seed {}",
            match stem {
                Stem::Dx => "dialogue",
                Stem::Mx => "music",
                Stem::Fx => "effects",
            },
            cfg.seconds,
            cfg.seed
        ),
    };
    let mut w = BwfWriter::create(path, spec, frames)?;
    let mut dx = DialogueEngine::new(plan, sr, cfg.seed);
    let mut mx = music::MusicEngine::new(plan, sr, cfg.seed);
    let mut fx = effects::EffectsEngine::new(plan, sr, cfg.seed);
    const BLOCK: u64 = 4800;
    let mut buf: Vec<f32> = Vec::with_capacity(BLOCK as usize * ch);
    let mut f6 = [0.0f32; 6];
    let mut start = 0;
    while start < frames {
        let n = BLOCK.min(frames - start);
        buf.clear();
        for i in start..start + n {
            let t = i as f64 / cfg.sample_rate as f64;
            match (stem, cfg.layout) {
                (Stem::Dx, Layout::Mono) => buf.push(dx.next(t)),
                (Stem::Dx, Layout::Stereo) => {
                    let d = dx.next(t) * std::f32::consts::FRAC_1_SQRT_2;
                    buf.extend_from_slice(&[d, d]);
                }
                (Stem::Dx, Layout::FivePointOne) => {
                    let d = dx.next(t);
                    buf.extend_from_slice(&[0.0, 0.0, d, 0.0, 0.0, 0.0]);
                }
                (Stem::Mx, layout) => {
                    let (l, r) = mx.next(t);
                    match layout {
                        Layout::Mono => buf.push(0.5 * (l + r)),
                        Layout::Stereo => buf.extend_from_slice(&[l, r]),
                        Layout::FivePointOne => {
                            buf.extend_from_slice(&[l, r, 0.0, 0.0, 0.3 * l, 0.3 * r])
                        }
                    }
                }
                (Stem::Fx, layout) => {
                    fx.next(t, &mut f6);
                    use effects::{C, L, LFE, LS, R, RS};
                    match layout {
                        Layout::Mono => buf.push(
                            0.5 * (f6[L] + f6[R])
                                + 0.7 * f6[C]
                                + 0.25 * (f6[LS] + f6[RS])
                                + 0.5 * f6[LFE],
                        ),
                        Layout::Stereo => buf.extend_from_slice(&[
                            f6[L] + 0.7 * f6[C] + 0.5 * f6[LS] + 0.5 * f6[LFE],
                            f6[R] + 0.7 * f6[C] + 0.5 * f6[RS] + 0.5 * f6[LFE],
                        ]),
                        Layout::FivePointOne => buf.extend_from_slice(&f6),
                    }
                }
            }
        }
        w.write(&buf)?;
        start += n;
    }
    w.finish()?;
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| crate::Error::io(path, e))
}

#[derive(Serialize)]
struct TruthFiles<'a> {
    #[serde(rename = "DX")]
    dx: &'a str,
    #[serde(rename = "MX")]
    mx: &'a str,
    #[serde(rename = "FX")]
    fx: &'a str,
}

#[derive(Serialize)]
struct Truth<'a> {
    reel: &'a str,
    duration_s: f64,
    format: String,
    sample_rate: u32,
    layout: &'static str,
    files: TruthFiles<'a>,
    time_origin: &'static str,
    bwf_time_reference_samples: u64,
    start_timecode: &'static str,
    cues: &'a [plan::CuePlan],
    vocals: Vec<[f64; 2]>,
    dialogue: Vec<[f64; 2]>,
    dialogue_lines: &'a [plan::LinePlan],
    dx_nonspeech: Vec<[f64; 2]>,
    scenes: &'a [plan::ScenePlan],
    fx_hits: &'a [plan::HitPlan],
    music_duck_db: f64,
    generator: String,
}

/// Generates the DX, MX and FX stems and `truth.json` into `out_dir` (created if needed).
pub fn generate(out_dir: &Path, cfg: &SynthConfig) -> crate::Result<SynthOutput> {
    if !(cfg.seconds.is_finite() && cfg.seconds >= 4.0) {
        return Err(crate::Error::Other(format!(
            "a synthetic reel must last at least 4 s (asked for {} s)",
            cfg.seconds
        )));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| crate::Error::io(out_dir, e))?;
    let plan = Plan::draw(cfg.seconds, cfg.seed);
    let frames = (plan.duration_s * cfg.sample_rate as f64).round() as u64;
    let names = ["DX", "MX", "FX"].map(|k| format!("{}_{k}.wav", cfg.title));
    let paths = names.clone().map(|n| out_dir.join(n));
    let stems = [Stem::Dx, Stem::Mx, Stem::Fx];
    // The three stems are independent: one thread each.
    let results: Vec<crate::Result<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = stems
            .iter()
            .zip(&paths)
            .map(|(&stem, path)| {
                let plan = &plan;
                s.spawn(move || render(stem, plan, cfg, frames, path))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(crate::Error::Other("a synthesis thread panicked".into()))
                })
            })
            .collect()
    });
    let mut bytes = 0;
    for r in results {
        bytes += r?;
    }

    let truth = Truth {
        reel: &cfg.title,
        duration_s: plan.duration_s,
        format: format!(
            "{}_{}k_{}bit_bwf",
            cfg.layout.name(),
            cfg.sample_rate / 1000,
            cfg.bits
        ),
        sample_rate: cfg.sample_rate,
        layout: cfg.layout.name(),
        files: TruthFiles {
            dx: &names[0],
            mx: &names[1],
            fx: &names[2],
        },
        time_origin: "seconds from the first sample of each stem file",
        bwf_time_reference_samples: 3600 * cfg.sample_rate as u64,
        start_timecode: "01:00:00:00",
        cues: &plan.cues,
        vocals: plan.vocals(),
        dialogue: plan.lines.iter().map(|l| [l.start_s, l.end_s]).collect(),
        dialogue_lines: &plan.lines,
        dx_nonspeech: Vec::new(),
        scenes: &plan.scenes,
        fx_hits: &plan.hits,
        music_duck_db: plan.music_duck_db,
        generator: format!(
            "stemscope {} synth, seed {}",
            env!("CARGO_PKG_VERSION"),
            cfg.seed
        ),
    };
    let truth_path = out_dir.join("truth.json");
    let text = serde_json::to_string_pretty(&truth)
        .map_err(|e| crate::Error::Other(format!("cannot serialise truth.json: {e}")))?;
    std::fs::write(&truth_path, text + "\n").map_err(|e| crate::Error::io(&truth_path, e))?;
    Ok(SynthOutput {
        stems: paths,
        truth: truth_path,
        frames,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seconds: f64, layout: Layout, seed: u64) -> SynthConfig {
        SynthConfig {
            seconds,
            layout,
            bits: 16,
            seed,
            title: "T".into(),
            ..SynthConfig::default()
        }
    }

    fn rms_window(s: &[i16], ch: usize, c: usize, from: f64, to: f64) -> f64 {
        let (a, b) = ((from * 48_000.0) as usize, (to * 48_000.0) as usize);
        let v: Vec<f64> = (a..b).map(|i| s[i * ch + c] as f64 / 32768.0).collect();
        (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt()
    }

    #[test]
    fn the_same_seed_gives_byte_identical_stems_and_another_seed_does_not() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let c = tempfile::tempdir().unwrap();
        let oa = generate(a.path(), &cfg(6.0, Layout::Stereo, 4)).unwrap();
        let ob = generate(b.path(), &cfg(6.0, Layout::Stereo, 4)).unwrap();
        let oc = generate(c.path(), &cfg(6.0, Layout::Stereo, 5)).unwrap();
        for i in 0..3 {
            assert_eq!(
                std::fs::read(&oa.stems[i]).unwrap(),
                std::fs::read(&ob.stems[i]).unwrap()
            );
            assert_ne!(
                std::fs::read(&oa.stems[i]).unwrap(),
                std::fs::read(&oc.stems[i]).unwrap()
            );
        }
        assert_eq!(
            std::fs::read(&oa.truth).unwrap(),
            std::fs::read(&ob.truth).unwrap()
        );
    }

    #[test]
    fn dialogue_is_loud_inside_its_truth_lines_and_at_the_noise_floor_between_them() {
        let dir = tempfile::tempdir().unwrap();
        let out = generate(dir.path(), &cfg(20.0, Layout::Mono, 2)).unwrap();
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out.truth).unwrap()).unwrap();
        let s: Vec<i16> = hound::WavReader::open(&out.stems[0])
            .unwrap()
            .samples::<i16>()
            .map(|x| x.unwrap())
            .collect();
        let lines = truth["dialogue"].as_array().unwrap();
        assert!(!lines.is_empty());
        let mut prev_end = 0.0;
        for l in lines {
            let (a, b) = (l[0].as_f64().unwrap(), l[1].as_f64().unwrap());
            let inside = rms_window(&s, 1, 0, a, b);
            assert!(
                inside > 10f64.powf(-36.0 / 20.0),
                "line {a}-{b} too quiet: {inside}"
            );
            if a - prev_end > 0.6 {
                let gap = rms_window(&s, 1, 0, prev_end + 0.1, a - 0.1);
                assert!(
                    gap < inside / 4.0,
                    "gap {prev_end}-{a}: {gap} vs line {inside}"
                );
            }
            prev_end = b;
        }
    }

    #[test]
    fn five_one_puts_dialogue_on_the_centre_only_and_music_between_cues_is_silent() {
        let dir = tempfile::tempdir().unwrap();
        let out = generate(dir.path(), &cfg(20.0, Layout::FivePointOne, 3)).unwrap();
        let dx = hound::WavReader::open(&out.stems[0]).unwrap();
        assert_eq!(dx.spec().channels, 6);
        let s: Vec<i16> = dx.into_samples::<i16>().map(|x| x.unwrap()).collect();
        for c in [0, 1, 3, 4, 5] {
            assert!(
                s.chunks_exact(6).all(|f| f[c] == 0),
                "channel {c} not silent"
            );
        }
        assert!(s.chunks_exact(6).any(|f| f[2] != 0));

        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out.truth).unwrap()).unwrap();
        let mx: Vec<i16> = hound::WavReader::open(&out.stems[1])
            .unwrap()
            .into_samples::<i16>()
            .map(|x| x.unwrap())
            .collect();
        let cues = truth["cues"].as_array().unwrap();
        let first = cues[0]["start_s"].as_f64().unwrap();
        assert!(first > 0.1);
        assert_eq!(
            rms_window(&mx, 6, 0, 0.0, first - 0.01),
            0.0,
            "music before the first cue"
        );
        for c in cues {
            let (a, b) = (c["start_s"].as_f64().unwrap(), c["end_s"].as_f64().unwrap());
            let mid = rms_window(&mx, 6, 0, a + (b - a) * 0.3, a + (b - a) * 0.7);
            assert!(mid > 1e-3, "cue {a}-{b} silent");
        }
    }

    #[test]
    fn too_short_a_reel_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(generate(dir.path(), &cfg(1.0, Layout::Mono, 1)).is_err());
    }
}
