//! The effects stem: a filtered-noise ambience bed that changes at every scene cut (rain, wind,
//! traffic, ocean, room tone; four decorrelated channels for the surrounds), and hits (a noise burst
//! over a low thump that also feeds the LFE).

use super::dsp::{Biquad, FilterKind, OnePole, Phase, Rng, db_to_gain};
use super::plan::{Ambience, Plan, ScenePlan};

/// Effects output channels, in 5.1 order.
pub const L: usize = 0;
pub const R: usize = 1;
pub const C: usize = 2;
pub const LFE: usize = 3;
pub const LS: usize = 4;
pub const RS: usize = 5;

#[derive(Debug, Clone, Copy)]
struct BedShape {
    hp: f32,
    lp: f32,
    /// Slow swell rate (Hz) and depth (0..1).
    swell_hz: f32,
    swell_depth: f32,
    crackle: bool,
}

fn shape(a: Ambience) -> BedShape {
    match a {
        Ambience::Rain => BedShape {
            hp: 1200.0,
            lp: 9000.0,
            swell_hz: 0.05,
            swell_depth: 0.15,
            crackle: true,
        },
        Ambience::Wind => BedShape {
            hp: 150.0,
            lp: 700.0,
            swell_hz: 0.13,
            swell_depth: 0.6,
            crackle: false,
        },
        Ambience::Traffic => BedShape {
            hp: 40.0,
            lp: 350.0,
            swell_hz: 0.07,
            swell_depth: 0.4,
            crackle: false,
        },
        Ambience::Ocean => BedShape {
            hp: 200.0,
            lp: 2500.0,
            swell_hz: 0.1,
            swell_depth: 0.8,
            crackle: false,
        },
        Ambience::Room => BedShape {
            hp: 100.0,
            lp: 1500.0,
            swell_hz: 0.02,
            swell_depth: 0.05,
            crackle: false,
        },
    }
}

struct Hit {
    env: f32,
    decay: f32,
    thump: Phase,
    thump_hz: f32,
    lp: Biquad,
    gain: f32,
}

/// Renders the effects stem of a plan.
pub struct EffectsEngine<'a> {
    plan: &'a Plan,
    sr: f32,
    rng: Rng,
    scene: usize,
    hp: [Biquad; 4],
    lp: [Biquad; 4],
    shape: BedShape,
    bed_gain: f32,
    swell: Phase,
    crackle: Biquad,
    next_hit: usize,
    hits: [Hit; 2],
    hit_slot: usize,
    lfe_lp: OnePole,
}

impl<'a> EffectsEngine<'a> {
    pub fn new(plan: &'a Plan, sr: f32, seed: u64) -> Self {
        let lp = Biquad::new(FilterKind::LowPass, 4000.0, 0.7, sr);
        let mut e = EffectsEngine {
            plan,
            sr,
            rng: Rng::derive(seed, 20, 0),
            scene: 0,
            hp: [Biquad::default(); 4],
            lp: [Biquad::default(); 4],
            shape: shape(Ambience::Room),
            bed_gain: 0.0,
            swell: Phase(0.0),
            crackle: Biquad::new(FilterKind::BandPass, 3000.0, 2.0, sr),
            next_hit: 0,
            hits: std::array::from_fn(|_| Hit {
                env: 0.0,
                decay: 0.0,
                thump: Phase(0.0),
                thump_hz: 50.0,
                lp,
                gain: 0.0,
            }),
            hit_slot: 0,
            lfe_lp: OnePole::new(120.0, sr),
        };
        if let Some(sc) = plan.scenes.first() {
            e.enter(sc);
        }
        e
    }

    /// Switches the bed at a scene cut; the level is calibrated on noise run through the new filters.
    fn enter(&mut self, sc: &ScenePlan) {
        self.shape = shape(sc.ambience);
        for i in 0..4 {
            self.hp[i].set(FilterKind::HighPass, self.shape.hp, 0.7, self.sr);
            self.lp[i].set(FilterKind::LowPass, self.shape.lp, 0.7, self.sr);
        }
        let mut hp = Biquad::new(FilterKind::HighPass, self.shape.hp, 0.7, self.sr);
        let mut lp = Biquad::new(FilterKind::LowPass, self.shape.lp, 0.7, self.sr);
        let mut cal = Rng::new(0xCA1);
        let n = 9600;
        let e: f32 = (0..n)
            .map(|_| lp.process(hp.process(cal.noise())).powi(2))
            .skip(2400)
            .sum::<f32>()
            / (n - 2400) as f32;
        self.bed_gain = db_to_gain(sc.ambience_db) / e.sqrt().max(1e-6);
    }

    /// One frame of the six effects channels (L R C LFE Ls Rs) at `t`.
    #[inline]
    pub fn next(&mut self, t: f64, out: &mut [f32; 6]) {
        let plan = self.plan;
        if t >= plan.scenes[self.scene].end_s && self.scene + 1 < plan.scenes.len() {
            self.scene += 1;
            self.enter(&plan.scenes[self.scene]);
        }
        while self.next_hit < plan.hits.len() && t >= plan.hits[self.next_hit].start_s {
            let h = &plan.hits[self.next_hit];
            let mut rng = Rng::new(h.seed);
            let slot = &mut self.hits[self.hit_slot];
            slot.env = 1.0;
            slot.decay = (-1.0 / ((h.end_s - h.start_s) as f32 / 5.0 * self.sr)).exp();
            slot.thump_hz = rng.range(40.0, 65.0) as f32;
            slot.thump.0 = 0.0;
            slot.lp.set(
                FilterKind::LowPass,
                rng.range(1500.0, 6000.0) as f32,
                0.7,
                self.sr,
            );
            slot.gain = db_to_gain(h.peak_dbfs);
            self.hit_slot = (self.hit_slot + 1) % self.hits.len();
            self.next_hit += 1;
        }
        self.swell.step(self.shape.swell_hz / self.sr);
        let sw = 1.0
            - self.shape.swell_depth * 0.5 * (1.0 + (std::f32::consts::TAU * self.swell.0).sin());
        let g = self.bed_gain * sw;
        let crackle = if self.shape.crackle && self.rng.chance(0.002) {
            self.rng.noise() * 8.0
        } else {
            0.0
        };
        let crackle = self.crackle.process(crackle);
        for (i, ch) in [L, R, LS, RS].into_iter().enumerate() {
            let n = self.rng.noise();
            out[ch] = self.lp[i].process(self.hp[i].process(n)) * g + crackle * g;
        }
        out[C] = 0.0;
        out[LFE] = 0.0;
        let mut thump = 0.0;
        for h in &mut self.hits {
            if h.env < 1e-4 {
                continue;
            }
            h.env *= h.decay;
            h.thump.step(h.thump_hz / self.sr);
            let th = (std::f32::consts::TAU * h.thump.0).sin() * h.env * h.gain * 0.7;
            let burst = h.lp.process(self.rng.noise()) * h.env * h.gain * 1.6;
            thump += th;
            out[C] += burst + th * 0.5;
            out[L] += burst * 0.6;
            out[R] += burst * 0.6;
        }
        out[LFE] = self.lfe_lp.process(thump);
    }
}
