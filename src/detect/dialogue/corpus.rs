//! Training and evaluation material for the speech model, built from the real-audio corpus:
//! dialogue-like scenes (real speech cut into lines over a generated room tone, hum and rumble, with
//! production sounds between lines and optional room reverb) and non-speech material (effects, music,
//! singing, noise beds), with frame truth from the dry speech.
//!
//! Truth follows the dev reels' convention: a 10 ms frame of the dry line is speech when its energy is
//! above the line's 95th percentile minus 30 dB; pauses shorter than 0.3 s are bridged.

use std::path::{Path, PathBuf};

use realfft::RealFftPlanner;

use super::rng::Rng;
use crate::condition::{ANALYSIS_RATE, Conditioner};
use crate::discover::StemKind;
use crate::features::{FeatureConfig, FeatureTrack};

/// Samples per 10 ms truth frame at the analysis rate.
pub const FRAME: usize = (ANALYSIS_RATE / 100) as usize;
const SR: f64 = ANALYSIS_RATE as f64;

/// One row of the corpus manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusItem {
    /// Relative to the corpus folder.
    pub path: String,
    pub class: String,
    pub licence: String,
}

impl CorpusItem {
    /// Whether a model trained on this file may ship: no non-commercial, research-only or
    /// unstated licences.
    pub fn licence_allows_shipping(&self) -> bool {
        let l = self.licence.to_ascii_lowercase();
        !(l.contains("nc") || l.contains("research") || l.contains("not stated"))
    }
}

/// Reads `MANIFEST.tsv` of the corpus folder.
pub fn read_manifest(corpus: &Path) -> crate::Result<Vec<CorpusItem>> {
    let path = corpus.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&path).map_err(|e| crate::Error::io(&path, e))?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 7 {
            continue;
        }
        out.push(CorpusItem {
            path: cols[0].to_string(),
            class: cols[1].to_string(),
            licence: cols[6].to_string(),
        });
    }
    Ok(out)
}

/// Decodes a file into the mono analysis signal (the same downmix and resampling as a DX stem).
pub fn load_analysis_signal(path: &Path) -> crate::Result<Vec<f32>> {
    let mut source = crate::decode::open(path).map_err(|source| crate::Error::Decode {
        path: path.to_path_buf(),
        source,
    })?;
    let info = source.info().clone();
    let mut cond = Conditioner::new(StemKind::Dialogue, &info.channels, info.sample_rate)?;
    let (mut block, mut out) = (Vec::new(), Vec::new());
    loop {
        let n = source
            .read(&mut block, 8192)
            .map_err(|source| crate::Error::Decode {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        cond.push(&block, &mut out)?;
    }
    cond.finish(&mut out)?;
    Ok(out)
}

/// Runs the feature engine over an analysis-rate signal, block by block like the pipeline.
pub fn extract(signal: &[f32]) -> FeatureTrack {
    FeatureTrack::of_signal(signal, FeatureConfig::default())
}

/// Energy of each 10 ms frame, dB.
pub fn frame_db(signal: &[f32]) -> Vec<f32> {
    signal
        .chunks(FRAME)
        .map(|c| {
            let e = c.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / FRAME as f64;
            (10.0 * (e + 1e-12).log10()) as f32
        })
        .collect()
}

/// The dev-reel truth of a dry line: frames above the 95th percentile minus 30 dB.
pub fn dry_truth(signal: &[f32]) -> Vec<bool> {
    let db = frame_db(signal);
    let Some(p95) = crate::quantile::of(&db, 0.95) else {
        return Vec::new();
    };
    db.iter().map(|&d| d > p95 - 30.0).collect()
}

/// Bridges runs of `false` shorter than `max_gap` frames between two runs of `true`.
pub fn bridge_gaps(truth: &mut [bool], max_gap: usize) {
    let n = truth.len();
    let mut t = 0;
    while t < n {
        if truth[t] {
            t += 1;
            continue;
        }
        let start = t;
        while t < n && !truth[t] {
            t += 1;
        }
        if start > 0 && t < n && t - start < max_gap {
            truth[start..t].iter_mut().for_each(|v| *v = true);
        }
    }
}

fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// RBJ biquad, direct form I.
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    fn new(low_pass: bool, freq: f64) -> Self {
        let w = std::f64::consts::TAU * freq.min(SR * 0.45) / SR;
        let alpha = w.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let c = w.cos();
        let a0 = 1.0 + alpha;
        let b = if low_pass {
            [(1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0]
        } else {
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0]
        };
        Biquad {
            b: [b[0] / a0, b[1] / a0, b[2] / a0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }
    fn run(&mut self, s: f64) -> f64 {
        let y = self.b[0] * s + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [s, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// Gaussian noise through high- and low-pass filters (4th order each), unit RMS.
pub(super) fn band_noise(len: usize, lo: f64, hi: f64, rng: &mut Rng) -> Vec<f32> {
    let mut f = [
        Biquad::new(false, lo),
        Biquad::new(false, lo),
        Biquad::new(true, hi),
        Biquad::new(true, hi),
    ];
    let out: Vec<f32> = (0..len)
        .map(|_| f.iter_mut().fold(rng.gauss(), |s, b| b.run(s)) as f32)
        .collect();
    let r = rms(&out).max(1e-12);
    out.iter().map(|&s| (s as f64 / r) as f32).collect()
}

/// The noise floor of a scene: a band-limited bed, and maybe mains hum and low rumble.
#[derive(Debug, Clone)]
pub struct RoomTone {
    pub band_lo_hz: f64,
    pub band_hi_hz: f64,
    /// Mains frequency and hum level relative to the bed, dB.
    pub hum: Option<(f64, f64)>,
    /// Rumble level relative to the bed, dB.
    pub rumble_db: Option<f64>,
}

impl RoomTone {
    /// A random room: bed edges 60-200 Hz / 3-7.5 kHz, hum in half of the rooms, rumble in a third.
    pub fn random(rng: &mut Rng) -> Self {
        RoomTone {
            band_lo_hz: rng.range(60.0, 200.0),
            band_hi_hz: rng.range(3000.0, 7500.0),
            hum: rng.chance(0.5).then(|| {
                (
                    if rng.chance(0.5) { 50.0 } else { 60.0 },
                    rng.range(-12.0, 6.0),
                )
            }),
            rumble_db: rng.chance(0.35).then(|| rng.range(-6.0, 6.0)),
        }
    }

    /// `len` samples at total RMS `level` (linear).
    pub fn render(&self, len: usize, level: f64, rng: &mut Rng) -> Vec<f32> {
        let mut out = band_noise(len, self.band_lo_hz, self.band_hi_hz, rng);
        if let Some((f0, db)) = self.hum {
            let g = db_to_gain(db);
            let amps: Vec<f64> = (1..=4).map(|k| rng.range(0.2, 1.0) / k as f64).collect();
            let phases: Vec<f64> = (0..4)
                .map(|_| rng.range(0.0, std::f64::consts::TAU))
                .collect();
            let norm = (amps.iter().map(|a| a * a / 2.0).sum::<f64>()).sqrt();
            for (i, s) in out.iter_mut().enumerate() {
                let t = i as f64 / SR;
                let h: f64 = (0..4)
                    .map(|k| {
                        amps[k]
                            * (std::f64::consts::TAU * f0 * (k + 1) as f64 * t + phases[k]).sin()
                    })
                    .sum();
                *s += (g * h / norm) as f32;
            }
        }
        if let Some(db) = self.rumble_db {
            let r = band_noise(len, 20.0, 120.0, rng);
            let g = db_to_gain(db) as f32;
            out.iter_mut().zip(&r).for_each(|(s, r)| *s += g * r);
        }
        let r = rms(&out).max(1e-12);
        let g = level / r;
        out.iter().map(|&s| (s as f64 * g) as f32).collect()
    }
}

/// A synthetic room: exponentially decaying band-limited noise, RT60 and wet level re the dry.
#[derive(Debug, Clone, Copy)]
pub struct Room {
    pub rt60_s: f64,
    pub wet_db: f64,
}

impl Room {
    /// Convolves `dry` with the room's response; the output keeps the tail (longer than `dry`).
    pub fn apply(&self, dry: &[f32], rng: &mut Rng) -> Vec<f32> {
        let ir_len = (self.rt60_s * SR) as usize;
        let noise = band_noise(ir_len.max(1), 150.0, 6000.0, rng);
        let decay = 6.91 / (self.rt60_s * SR); // ln(1000): -60 dB at RT60
        let mut ir: Vec<f32> = noise
            .iter()
            .enumerate()
            .map(|(i, &s)| s * (-decay * i as f64).exp() as f32)
            .collect();
        let e = ir
            .iter()
            .map(|&s| (s as f64).powi(2))
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        let g = db_to_gain(self.wet_db) / e;
        ir.iter_mut().for_each(|s| *s = (*s as f64 * g) as f32);
        let wet = convolve(dry, &ir);
        let mut out = wet;
        out.iter_mut().zip(dry).for_each(|(o, d)| *o += d);
        out
    }
}

/// Linear convolution by FFT.
fn convolve(a: &[f32], b: &[f32]) -> Vec<f32> {
    let len = a.len() + b.len() - 1;
    let n = len.next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let spectrum = |x: &[f32]| {
        let mut buf = fwd.make_input_vec();
        buf[..x.len()].copy_from_slice(x);
        let mut spec = fwd.make_output_vec();
        // Lengths come from the plan itself; this cannot fail.
        let _ = fwd.process(&mut buf, &mut spec);
        spec
    };
    let (sa, sb) = (spectrum(a), spectrum(b));
    let mut prod: Vec<_> = sa.iter().zip(&sb).map(|(x, y)| x * y).collect();
    let mut out = inv.make_output_vec();
    let _ = inv.process(&mut prod, &mut out);
    out.truncate(len);
    out.iter_mut().for_each(|s| *s /= n as f32);
    out
}

/// A scene with its frame truth.
pub struct Scene {
    pub signal: Vec<f32>,
    /// Speech per 10 ms frame.
    pub truth: Vec<bool>,
}

/// How a dialogue scene is made.
#[derive(Debug, Clone)]
pub struct SceneSpec {
    /// Active speech level over the room tone's RMS, dB.
    pub snr_db: f64,
    pub room: Option<Room>,
    pub tone: RoomTone,
    /// Pauses shorter than this (frames) are bridged in the truth.
    pub truth_gap_frames: usize,
}

/// The loudest 0.2-1.5 s of a production sound, with 10 ms fades.
fn event_excerpt(clip: &[f32], rng: &mut Rng) -> Vec<f32> {
    let len = ((rng.range(0.2, 1.5) * SR) as usize).min(clip.len());
    let peak = clip
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map_or(0, |(i, _)| i);
    let start = peak
        .saturating_sub((rng.range(0.1, 0.6) * len as f64) as usize)
        .min(clip.len() - len);
    let mut out = clip[start..start + len].to_vec();
    let fade = (0.01 * SR) as usize;
    let n = out.len();
    for i in 0..fade.min(n / 2) {
        let g = i as f32 / fade as f32;
        out[i] *= g;
        out[n - 1 - i] *= g;
    }
    out
}

/// Splits a line at its longest pause near the middle when it runs over 8 s.
fn cut_lines(speech: &[f32], truth: &[bool]) -> Vec<(usize, usize)> {
    let frames = truth.len();
    if frames < 800 {
        return vec![(0, speech.len())];
    }
    // Longest run of silence in the middle half.
    let (mut best, mut best_len) = (None, 0);
    let mut t = frames / 4;
    while t < frames * 3 / 4 {
        if truth[t] {
            t += 1;
            continue;
        }
        let s = t;
        while t < frames && !truth[t] {
            t += 1;
        }
        if t - s > best_len {
            best_len = t - s;
            best = Some((s + t) / 2);
        }
    }
    match best {
        Some(mid) if best_len >= 15 => vec![(0, mid * FRAME), (mid * FRAME, speech.len())],
        _ => vec![(0, speech.len())],
    }
}

/// A dialogue scene: room tone throughout, the speech cut into lines with 1.5-3 s between them,
/// 1-2.5 s of room tone before and after, production sounds at least 0.3 s clear of speech.
pub fn build_scene(speech: &[f32], events: &[Vec<f32>], spec: &SceneSpec, rng: &mut Rng) -> Scene {
    let truth_line = dry_truth(speech);
    let active: Vec<f32> = speech
        .chunks(FRAME)
        .zip(&truth_line)
        .filter(|(_, t)| **t)
        .flat_map(|(c, _)| c.iter().copied())
        .collect();
    let speech_rms = rms(&active).max(1e-9);
    let target = db_to_gain(rng.range(-36.0, -18.0));
    let gain = (target / speech_rms) as f32;
    let peak = speech.iter().fold(0.0f32, |m, s| m.max(s.abs())) * gain;

    let frames = |s: f64| ((s * SR) as usize / FRAME) * FRAME;
    let lines = cut_lines(speech, &truth_line);
    let mut layout = Vec::new(); // (offset, line start, line end)
    let mut pos = frames(rng.range(1.0, 2.5));
    let mut gaps = vec![(0, pos)];
    for (i, &(a, b)) in lines.iter().enumerate() {
        layout.push((pos, a, b));
        pos += b - a;
        let g = if i + 1 < lines.len() {
            frames(rng.range(1.5, 3.0))
        } else {
            frames(rng.range(1.0, 2.5))
        };
        gaps.push((pos, pos + g));
        pos += g;
    }
    let total = pos;
    let mut dry = vec![0.0f32; total];
    let mut truth = vec![false; total / FRAME];
    for &(off, a, b) in &layout {
        for (d, s) in dry[off..off + b - a].iter_mut().zip(&speech[a..b]) {
            *d += s * gain;
        }
        for (k, &t) in truth_line[a / FRAME..b.div_ceil(FRAME).min(truth_line.len())]
            .iter()
            .enumerate()
        {
            if let Some(slot) = truth.get_mut(off / FRAME + k) {
                *slot |= t;
            }
        }
    }
    // Production sounds in the pauses, clear of the speech truth by 0.3 s.
    let clear = frames(0.3);
    if !events.is_empty() {
        for &(a, b) in &gaps {
            if !rng.chance(0.8) {
                continue;
            }
            let ev = event_excerpt(&events[rng.below(events.len())], rng);
            let ev_peak = ev.iter().fold(0.0f32, |m, s| m.max(s.abs())).max(1e-9);
            let lo = speech_bound(&truth, a, true) + clear;
            let hi = speech_bound(&truth, b, false).saturating_sub(clear);
            if hi <= lo + ev.len() {
                continue;
            }
            let start = lo + rng.below(hi - lo - ev.len());
            let g = peak / ev_peak * db_to_gain(rng.range(-8.0, 2.0)) as f32;
            for (d, s) in dry[start..start + ev.len()].iter_mut().zip(&ev) {
                *d += s * g;
            }
        }
    }
    let mut signal = match &spec.room {
        Some(room) => {
            let mut wet = room.apply(&dry, rng);
            wet.truncate(total);
            wet
        }
        None => dry,
    };
    let floor = target / db_to_gain(spec.snr_db);
    let tone = spec.tone.render(total, floor, rng);
    signal.iter_mut().zip(&tone).for_each(|(s, n)| *s += n);
    bridge_gaps(&mut truth, spec.truth_gap_frames);
    Scene { signal, truth }
}

/// The sample just after the last speech frame before `at` (`after` = true), or the first speech
/// sample at or after `at` (`after` = false); the gap's own end when there is none.
fn speech_bound(truth: &[bool], at: usize, after: bool) -> usize {
    let f = at / FRAME;
    if after {
        (0..f.min(truth.len()))
            .rev()
            .find(|&i| truth[i])
            .map_or(0, |i| (i + 1) * FRAME)
            .max(at.min(f * FRAME))
    } else {
        (f..truth.len())
            .find(|&i| truth[i])
            .map_or(truth.len() * FRAME, |i| i * FRAME)
            .min(at)
    }
}

/// Non-speech material as it would sit on a DX stem: the clip over a room tone `snr_db` below it.
pub fn nonspeech_scene(clip: &[f32], snr_db: f64, rng: &mut Rng) -> Scene {
    let level = rms(clip).max(1e-9);
    let gain = db_to_gain(rng.range(-36.0, -18.0)) / level;
    let tone = RoomTone::random(rng).render(clip.len(), level * gain / db_to_gain(snr_db), rng);
    let signal: Vec<f32> = clip
        .iter()
        .zip(&tone)
        .map(|(&s, &n)| (s as f64 * gain) as f32 + n)
        .collect();
    let truth = vec![false; signal.len() / FRAME];
    Scene { signal, truth }
}

/// Frame confusion counts (shared with the vocal model's evaluation).
pub use crate::model::eval::FrameCounts;

/// The corpus folder: `../shared/corpus` from the crate root, or `../../shared/corpus` from a
/// worktree one level deeper; the first that exists.
pub fn default_corpus_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let near = root.join("../shared/corpus");
    let far = root.join("../../shared/corpus");
    if !near.exists() && far.exists() {
        far
    } else {
        near
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, secs: f64, amp: f32) -> Vec<f32> {
        (0..(secs * SR) as usize)
            .map(|i| amp * (std::f64::consts::TAU * freq * i as f64 / SR).sin() as f32)
            .collect()
    }

    #[test]
    fn dry_truth_is_the_95th_percentile_minus_30_db() {
        let mut x = tone(200.0, 1.0, 0.5);
        x.extend(tone(200.0, 0.5, 0.5 * 10f32.powf(-25.0 / 20.0))); // -25 dB: speech
        x.extend(tone(200.0, 0.5, 0.5 * 10f32.powf(-35.0 / 20.0))); // -35 dB: not
        let t = dry_truth(&x);
        assert_eq!(t.len(), 200);
        assert!(t[..150].iter().all(|&v| v));
        assert!(t[150..].iter().all(|&v| !v));
    }

    #[test]
    fn gaps_shorter_than_the_limit_are_bridged_but_not_the_edges() {
        let mut t: Vec<bool> = (0..100)
            .map(|i| (10..30).contains(&i) || (50..60).contains(&i) || i >= 95)
            .collect();
        bridge_gaps(&mut t, 21);
        assert!(!t[5] && t[40] && !t[70] && t[97]);
    }

    #[test]
    fn room_tone_has_the_requested_level() {
        let mut rng = Rng::new(5);
        let tone = RoomTone::random(&mut rng);
        let x = tone.render(16000, 0.01, &mut rng);
        assert!((rms(&x) - 0.01).abs() < 1e-4);
    }

    #[test]
    fn reverb_adds_a_decaying_tail_past_the_dry_sound() {
        let mut rng = Rng::new(9);
        let dry: Vec<f32> = tone(300.0, 0.3, 0.5)
            .into_iter()
            .chain(vec![0.0; 16000])
            .collect();
        let wet = Room {
            rt60_s: 0.6,
            wet_db: -6.0,
        }
        .apply(&dry, &mut rng);
        let db = frame_db(&wet);
        // 0.1 s after the end, the tail is well above silence but below the line.
        assert!(db[40] > -60.0 && db[40] < db[20], "{} {}", db[20], db[40]);
        assert!(db[40] - db[90] > 20.0, "{} {}", db[40], db[90]);
    }

    #[test]
    fn scene_truth_covers_the_lines_and_not_the_lead_in() {
        let mut rng = Rng::new(2);
        let mut speech = tone(150.0, 1.0, 0.3);
        speech.extend(vec![0.0; 4000]);
        speech.extend(tone(180.0, 1.0, 0.3));
        let spec = SceneSpec {
            snr_db: 20.0,
            room: None,
            tone: RoomTone::random(&mut rng),
            truth_gap_frames: 30,
        };
        let scene = build_scene(&speech, &[tone(2000.0, 1.0, 0.1)], &spec, &mut rng);
        let speech_frames = scene.truth.iter().filter(|&&t| t).count();
        assert_eq!(speech_frames, 200 + 25); // the 0.25 s pause is bridged
        assert!(!scene.truth[..100].iter().any(|&t| t));
        assert_eq!(scene.truth.len(), scene.signal.len() / FRAME);
    }
}
