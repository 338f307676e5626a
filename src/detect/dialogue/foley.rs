//! Generated non-speech sounds that live on dialogue stems: clicks, footsteps, knocks, cloth rustle,
//! breaths and handling thumps, used as hard negatives when training the speech model.
//!
//! The corpus holds few production sounds, and none of the short transients (clicks, steps, knocks)
//! that a level-and-context detector mistakes for syllables: a train of them has a syllable-like
//! rhythm, and a footstep's heel thump is periodic at 50-160 Hz, inside the speaking pitch range.
//! Each sound here is a small physical caricature (damped modes, decaying noise bursts, random
//! rustle envelopes) drawn from wide parameter ranges, so a model learns the class, not one sample.
//! Everything is seeded; no audio is stored.

use super::corpus::band_noise;
use super::rng::Rng;
use crate::condition::ANALYSIS_RATE;

const SR: f64 = ANALYSIS_RATE as f64;

/// Kinds of generated production sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foley {
    /// A tick, lip-smack-free mouse click, mic or prop click: 5-30 ms.
    Click,
    /// 2-6 steps: a low heel thump (damped 50-160 Hz) and a scuff.
    Footsteps,
    /// 2-4 knocks on wood or a door: damped 150-1200 Hz modes.
    Knock,
    /// Clothing or paper rustle: band noise under a bumpy envelope, 0.3-2 s.
    Cloth,
    /// An in- or out-breath: band noise with a slow swell, 0.3-0.9 s.
    Breath,
    /// Mic handling or a bump: low-passed noise, 30-100 ms decay.
    Thump,
    /// Prop clatter: a burst of clicks and knocks within 0.3-1 s.
    Clatter,
}

impl Foley {
    /// Every kind, for drawing one at random.
    pub const ALL: [Foley; 7] = [
        Foley::Click,
        Foley::Footsteps,
        Foley::Knock,
        Foley::Cloth,
        Foley::Breath,
        Foley::Thump,
        Foley::Clatter,
    ];

    /// A random kind.
    pub fn random(rng: &mut Rng) -> Self {
        Self::ALL[rng.below(Self::ALL.len())]
    }

    /// One instance at the analysis rate, peak-normalised to 1.
    pub fn render(self, rng: &mut Rng) -> Vec<f32> {
        let mut out = match self {
            Foley::Click => click(rng),
            Foley::Footsteps => footsteps(rng),
            Foley::Knock => knocks(rng),
            Foley::Cloth => cloth(rng),
            Foley::Breath => breath(rng),
            Foley::Thump => thump(rng),
            Foley::Clatter => clatter(rng),
        };
        let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        if peak > 0.0 {
            out.iter_mut().for_each(|s| *s /= peak);
        }
        out
    }
}

fn samples(secs: f64) -> usize {
    (secs * SR).round().max(1.0) as usize
}

/// Adds `src * gain` into `dst` at sample `at`, cut at the end of `dst`.
fn mix(dst: &mut [f32], src: &[f32], at: usize, gain: f32) {
    if at >= dst.len() {
        return;
    }
    for (d, s) in dst[at..].iter_mut().zip(src) {
        *d += s * gain;
    }
}

/// Band noise under an exponential decay with time constant `tau_s`, 5 time constants long.
fn decaying_noise(lo: f64, hi: f64, tau_s: f64, rng: &mut Rng) -> Vec<f32> {
    let len = samples(5.0 * tau_s);
    let mut x = band_noise(len, lo, hi, rng);
    for (i, s) in x.iter_mut().enumerate() {
        *s *= (-(i as f64) / (tau_s * SR)).exp() as f32;
    }
    x
}

/// Sum of damped sinusoids (frequency Hz, time constant s, amplitude), 5 of the longest constants.
fn modes(parts: &[(f64, f64, f64)], rng: &mut Rng) -> Vec<f32> {
    let longest = parts.iter().map(|p| p.1).fold(0.0, f64::max);
    let len = samples(5.0 * longest);
    let phases: Vec<f64> = parts
        .iter()
        .map(|_| rng.range(0.0, std::f64::consts::TAU))
        .collect();
    (0..len)
        .map(|i| {
            let t = i as f64 / SR;
            parts
                .iter()
                .zip(&phases)
                .map(|(&(f, tau, a), ph)| {
                    a * (-t / tau).exp() * (std::f64::consts::TAU * f * t + ph).sin()
                })
                .sum::<f64>() as f32
        })
        .collect()
}

fn click(rng: &mut Rng) -> Vec<f32> {
    if rng.chance(0.3) {
        // A bare impulse (digital tick), maybe a couple of samples wide.
        let mut x = vec![0.0f32; samples(0.01)];
        for s in x.iter_mut().take(1 + rng.below(3)) {
            *s = if rng.chance(0.5) { 1.0 } else { -1.0 };
        }
        return x;
    }
    let lo = rng.range(200.0, 3000.0);
    decaying_noise(
        lo,
        rng.range(lo + 1500.0, 7800.0),
        rng.range(0.001, 0.006),
        rng,
    )
}

fn heel(rng: &mut Rng) -> Vec<f32> {
    let f = rng.range(50.0, 160.0);
    let mut x = modes(
        &[
            (f, rng.range(0.01, 0.04), 1.0),
            (
                f * rng.range(1.8, 3.2),
                rng.range(0.005, 0.02),
                rng.range(0.1, 0.5),
            ),
        ],
        rng,
    );
    let burst = decaying_noise(
        150.0,
        rng.range(1500.0, 4000.0),
        rng.range(0.004, 0.02),
        rng,
    );
    mix(&mut x, &burst, 0, db(rng.range(-14.0, 0.0)));
    x
}

fn footsteps(rng: &mut Rng) -> Vec<f32> {
    let steps = 2 + rng.below(5);
    let interval = rng.range(0.35, 0.7);
    let mut out = vec![0.0f32; samples(interval * steps as f64 + 0.4)];
    for k in 0..steps {
        let at = samples((k as f64 * interval + rng.range(-0.04, 0.04)).max(0.0));
        let g = db(rng.range(-6.0, 0.0));
        mix(&mut out, &heel(rng), at, g);
        if rng.chance(0.7) {
            let scuff = decaying_noise(
                rng.range(400.0, 1200.0),
                rng.range(3000.0, 7000.0),
                rng.range(0.02, 0.06),
                rng,
            );
            let later = at + samples(rng.range(0.04, 0.12));
            mix(&mut out, &scuff, later, g * db(rng.range(-15.0, -3.0)));
        }
    }
    out
}

fn knock(rng: &mut Rng) -> Vec<f32> {
    let n = 2 + rng.below(2);
    let parts: Vec<(f64, f64, f64)> = (0..n)
        .map(|_| {
            (
                rng.range(150.0, 1200.0),
                rng.range(0.008, 0.04),
                rng.range(0.3, 1.0),
            )
        })
        .collect();
    let mut x = modes(&parts, rng);
    let tick = decaying_noise(1000.0, 7000.0, 0.002, rng);
    mix(&mut x, &tick, 0, db(rng.range(-12.0, -3.0)));
    x
}

fn knocks(rng: &mut Rng) -> Vec<f32> {
    let n = 2 + rng.below(3);
    let interval = rng.range(0.12, 0.3);
    let one = knock(rng);
    let mut out = vec![0.0f32; samples(interval * n as f64 + 0.3)];
    for k in 0..n {
        let at = samples(k as f64 * interval * rng.range(0.9, 1.1));
        mix(&mut out, &one, at, db(rng.range(-4.0, 0.0)));
    }
    out
}

/// Raised-cosine bump of `len` samples.
fn bump(len: usize) -> impl Iterator<Item = f32> {
    (0..len).map(move |i| {
        let x = i as f64 / len.max(1) as f64;
        (0.5 - 0.5 * (std::f64::consts::TAU * x).cos()) as f32
    })
}

fn cloth(rng: &mut Rng) -> Vec<f32> {
    let len = samples(rng.range(0.3, 2.0));
    let lo = rng.range(500.0, 1500.0);
    let mut x = band_noise(len, lo, rng.range(4000.0, 7800.0), rng);
    let mut env = vec![0.02f32; len];
    for _ in 0..3 + rng.below(10) {
        let b = samples(rng.range(0.03, 0.25)).min(len);
        let at = rng.below(len - b + 1);
        let a = rng.range(0.2, 1.0) as f32;
        for (e, v) in env[at..at + b].iter_mut().zip(bump(b)) {
            *e += a * v;
        }
    }
    x.iter_mut().zip(&env).for_each(|(s, e)| *s *= e);
    x
}

fn breath(rng: &mut Rng) -> Vec<f32> {
    let len = samples(rng.range(0.3, 0.9));
    let lo = rng.range(300.0, 800.0);
    let mut x = band_noise(len, lo, rng.range(2000.0, 5000.0), rng);
    // Swell: rise over a random share of the breath, fall over the rest.
    let peak_at = rng.range(0.3, 0.7);
    for (i, s) in x.iter_mut().enumerate() {
        let u = i as f64 / len as f64;
        let e = if u < peak_at {
            u / peak_at
        } else {
            (1.0 - u) / (1.0 - peak_at)
        };
        *s *= (e * e) as f32;
    }
    x
}

fn thump(rng: &mut Rng) -> Vec<f32> {
    decaying_noise(20.0, rng.range(150.0, 400.0), rng.range(0.03, 0.1), rng)
}

fn clatter(rng: &mut Rng) -> Vec<f32> {
    let span = rng.range(0.3, 1.0);
    let mut out = vec![0.0f32; samples(span + 0.3)];
    for _ in 0..3 + rng.below(6) {
        let at = samples(rng.range(0.0, span));
        let piece = if rng.chance(0.5) {
            click(rng)
        } else {
            knock(rng)
        };
        mix(&mut out, &piece, at, db(rng.range(-10.0, 0.0)));
    }
    out
}

fn db(x: f64) -> f32 {
    10f64.powf(x / 20.0) as f32
}

/// A train of random production sounds with 0.05-1.2 s between onsets' ends and the next sound,
/// about `secs` long, each sound at 0 to -15 dB re the loudest, peak-normalised to 1.
pub fn foley_train(secs: f64, rng: &mut Rng) -> Vec<f32> {
    let len = samples(secs);
    let mut out = vec![0.0f32; len];
    // Some trains repeat one kind (walking, knocking), others mix kinds.
    let single = rng.chance(0.5).then(|| Foley::random(rng));
    let mut at = samples(rng.range(0.1, 0.6));
    while at < len {
        let kind = single.unwrap_or_else(|| Foley::random(rng));
        let sound = kind.render(rng);
        mix(&mut out, &sound, at, db(rng.range(-15.0, 0.0)));
        at += sound.len() + samples(rng.range(0.05, 1.2));
    }
    let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if peak > 0.0 {
        out.iter_mut().for_each(|s| *s /= peak);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_renders_a_short_peak_normalised_sound() {
        let mut rng = Rng::new(4);
        for kind in Foley::ALL {
            for _ in 0..5 {
                let x = kind.render(&mut rng);
                let peak = x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                assert!((peak - 1.0).abs() < 1e-6, "{kind:?} peak {peak}");
                assert!(x.len() < samples(4.5), "{kind:?} {} samples", x.len());
                assert!(x.iter().all(|s| s.is_finite()));
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sound() {
        let a = Foley::Footsteps.render(&mut Rng::new(8));
        let b = Foley::Footsteps.render(&mut Rng::new(8));
        assert_eq!(a, b);
    }

    #[test]
    fn a_train_has_the_requested_length_and_pauses() {
        let mut rng = Rng::new(6);
        let x = foley_train(6.0, &mut rng);
        assert_eq!(x.len(), samples(6.0));
        // Mostly near-silent between sounds: the median 10 ms frame is far below the peak.
        let mut db: Vec<f32> = super::super::corpus::frame_db(&x);
        db.sort_by(f32::total_cmp);
        assert!(
            db[db.len() / 2] < -30.0,
            "median frame {} dB",
            db[db.len() / 2]
        );
    }
}
