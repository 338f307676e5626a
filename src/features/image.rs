//! Front image: how much of a stem's speech band sits in the centre of its front pair, per quarter
//! second, read from the original L and R channels at their own rate (the analysis signal is mono).
//!
//! Why: a lead voice is mixed to the centre, while score (strings across the stage, synth pads,
//! reverb) spreads wide. The vocal detector reads the mid/side balance as evidence beside its model
//! ([`crate::detect::vocals`]); this module only measures it.
//!
//! How: STFT frames (the feature engine's [`super::stft::Stft`]: Hann, here about 21 ms rounded
//! up to a power of two, end to end) of the mid `(L + R) / sqrt 2` (plus the Centre channel of a
//! 5.1 or 7.1 stem: a voice mixed there is as centred as one panned between L and R) and the side
//! `(L - R) / sqrt 2`; each frame's speech-band mean square (300 Hz - 3.4 kHz,
//! [`SpectralShape::speech_band_ms`], as for [`super::FrameSummary::speech_band_db`]) is added to
//! the block of [`BLOCK_S`] (the texture hop) that holds the frame's centre. A stem without both a
//! Left and a Right channel has no front image.

use super::spectral::SpectralShape;
use super::stft::{Stft, StftScratch};
use crate::decode::ChannelRole;

/// Block length, seconds: the texture hop, so a texture window is a whole number of blocks.
pub const BLOCK_S: f64 = 0.25;
/// Frame length aimed for, seconds (rounded up to a power of two of samples: 1024 at 44.1 and
/// 48 kHz). Only band energies are read, so a short frame costs nothing in precision.
const FRAME_S: f64 = 0.021;

/// Mid and side speech-band energy of a stem's front pair, per [`BLOCK_S`] block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontImage {
    /// Mid energy per block (a scale shared with `side`, not calibrated).
    pub mid: Vec<f32>,
    /// Side energy per block.
    pub side: Vec<f32>,
}

impl FrontImage {
    /// Mid and side energy summed over the blocks of `[start_s, start_s + len_s)` (block edges
    /// rounded to the nearest); `None` when that span is not covered.
    pub fn energy(&self, start_s: f64, len_s: f64) -> Option<(f64, f64)> {
        let a = (start_s / BLOCK_S).round().max(0.0) as usize;
        let b = ((start_s + len_s) / BLOCK_S).round().max(0.0) as usize;
        if b <= a || b > self.mid.len().min(self.side.len()) {
            return None;
        }
        let sum = |v: &[f32]| v[a..b].iter().map(|&x| f64::from(x)).sum::<f64>();
        Some((sum(&self.mid), sum(&self.side)))
    }
}

/// Streaming meter of a [`FrontImage`] over interleaved blocks of the original channels.
pub struct FrontImageMeter {
    channels: usize,
    left: usize,
    right: usize,
    /// The Centre channel, when there is one: it adds to the mid.
    centre: Option<usize>,
    /// Frame length and step, samples: Hann frames end to end. A sample near a frame edge counts
    /// little, but a 0.25 s block averages a dozen frames, and half-overlapping them doubled the
    /// FFTs for the same figures.
    n: usize,
    /// Samples per block (fractional at rates that are not a multiple of 4 Hz).
    block_len: f64,
    /// The feature engine's window and power spectrum, and its speech band.
    stft: Stft,
    scratch: StftScratch,
    shape: SpectralShape,
    power: Vec<f32>,
    /// Mid and side samples not yet consumed by a frame; `pending_start` is the first one's index.
    mid: Vec<f32>,
    side: Vec<f32>,
    pending_start: u64,
    image: FrontImage,
}

impl FrontImageMeter {
    /// A meter for a stream with these channel roles at `rate` Hz; `None` without a front pair.
    pub fn new(channels: &[ChannelRole], rate: u32) -> Option<Self> {
        let left = channels.iter().position(|r| *r == ChannelRole::Left)?;
        let right = channels.iter().position(|r| *r == ChannelRole::Right)?;
        let centre = channels.iter().position(|r| *r == ChannelRole::Centre);
        if rate == 0 {
            return None;
        }
        let sr = f64::from(rate);
        let n = ((FRAME_S * sr).round() as usize)
            .next_power_of_two()
            .max(64);
        let stft = Stft::new(n);
        Some(FrontImageMeter {
            channels: channels.len(),
            left,
            right,
            centre,
            n,
            block_len: BLOCK_S * sr,
            scratch: stft.scratch(),
            shape: SpectralShape::new(rate, n, stft.window()),
            power: vec![0.0; stft.n_bins()],
            stft,
            mid: Vec::with_capacity(2 * n),
            side: Vec::with_capacity(2 * n),
            pending_start: 0,
            image: FrontImage::default(),
        })
    }

    /// Consumes one interleaved block (any number of whole frames).
    pub fn push(&mut self, interleaved: &[f32]) {
        let k = std::f32::consts::FRAC_1_SQRT_2;
        let (left, right, centre) = (self.left, self.right, self.centre);
        // A corrupt decode's non-finite samples read as silence, as in the feature engine.
        let pair = |f: &[f32]| (finite(f[left]), finite(f[right]));
        let frames = interleaved.chunks_exact(self.channels);
        self.mid.extend(frames.clone().map(|f| {
            let (l, r) = pair(f);
            (l + r) * k + centre.map_or(0.0, |c| finite(f[c]))
        }));
        self.side.extend(frames.map(|f| {
            let (l, r) = pair(f);
            (l - r) * k
        }));
        let n = self.n;
        let mut start = 0;
        while start + n <= self.mid.len() {
            let frame_centre = self.pending_start + (start + n / 2) as u64;
            let block = (frame_centre as f64 / self.block_len) as usize;
            if self.image.mid.len() <= block {
                self.image.mid.resize(block + 1, 0.0);
                self.image.side.resize(block + 1, 0.0);
            }
            let (stft, scratch, power, shape) =
                (&self.stft, &mut self.scratch, &mut self.power, &self.shape);
            let mut band = |x: &[f32]| {
                stft.power(x, scratch, power);
                shape.speech_band_ms(power)
            };
            self.image.mid[block] += band(&self.mid[start..start + n]);
            self.image.side[block] += band(&self.side[start..start + n]);
            start += n;
        }
        self.mid.drain(..start);
        self.side.drain(..start);
        self.pending_start += start as u64;
    }

    /// The image measured so far (the last partial frame, about 21 ms, is left out).
    pub fn finish(self) -> FrontImage {
        self.image
    }
}

fn finite(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u32 = 48_000;

    /// Interleaved stereo of `seconds` where `l` and `r` give each channel's sample at time t.
    fn stereo(seconds: f64, l: impl Fn(f64) -> f32, r: impl Fn(f64) -> f32) -> Vec<f32> {
        let n = (seconds * f64::from(SR)) as usize;
        (0..n)
            .flat_map(|i| {
                let t = i as f64 / f64::from(SR);
                [l(t), r(t)]
            })
            .collect()
    }

    fn tone(t: f64) -> f32 {
        (0.2 * (std::f64::consts::TAU * 1000.0 * t).sin()) as f32
    }

    /// A cheap deterministic noise (xorshift), different per seed.
    fn noise(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2
            })
            .collect()
    }

    fn measure(interleaved: &[f32], block: usize) -> FrontImage {
        let mut m = FrontImageMeter::new(&[ChannelRole::Left, ChannelRole::Right], SR).unwrap();
        for b in interleaved.chunks(2 * block) {
            m.push(b);
        }
        m.finish()
    }

    #[test]
    fn a_centred_voice_reads_mid_a_hard_panned_one_reads_both_and_antiphase_reads_side() {
        let centre = measure(&stereo(2.0, tone, tone), 4800);
        let (m, s) = centre.energy(0.5, 1.0).unwrap();
        assert!(m > 1e6 * s.max(1e-12), "centre: mid {m} side {s}");
        let left = measure(&stereo(2.0, tone, |_| 0.0), 4800);
        let (m, s) = left.energy(0.5, 1.0).unwrap();
        assert!((m / s - 1.0).abs() < 1e-3, "hard left: mid {m} side {s}");
        let anti = measure(&stereo(2.0, tone, |t| -tone(t)), 4800);
        let (m, s) = anti.energy(0.5, 1.0).unwrap();
        assert!(s > 1e6 * m.max(1e-12), "antiphase: mid {m} side {s}");
    }

    #[test]
    fn uncorrelated_channels_read_as_wide_as_they_are_centred() {
        let (l, r) = (noise(1, 96_000), noise(2, 96_000));
        let x: Vec<f32> = l.iter().zip(&r).flat_map(|(&a, &b)| [a, b]).collect();
        let (m, s) = measure(&x, 4800).energy(0.25, 1.5).unwrap();
        let db = 10.0 * (m / s).log10();
        assert!(db.abs() < 0.5, "uncorrelated noise reads {db:.2} dB");
    }

    #[test]
    fn the_band_leaves_out_bass_and_air() {
        let bass = |t: f64| (0.5 * (std::f64::consts::TAU * 80.0 * t).sin()) as f32;
        let air = |t: f64| (0.5 * (std::f64::consts::TAU * 9000.0 * t).sin()) as f32;
        // Centred bass and air over a side-only tone in the band: the band sees the tone alone.
        let x = stereo(
            2.0,
            |t| bass(t) + air(t) + tone(t),
            |t| bass(t) + air(t) - tone(t),
        );
        let (m, s) = measure(&x, 4800).energy(0.5, 1.0).unwrap();
        assert!(s > 100.0 * m, "mid {m} side {s}");
    }

    #[test]
    fn block_size_does_not_change_the_measure() {
        let (l, r) = (noise(3, 72_000), noise(4, 72_000));
        let x: Vec<f32> = l.iter().zip(&r).flat_map(|(&a, &b)| [a + b, a]).collect();
        let (a, b) = (measure(&x, 4800), measure(&x, 333));
        assert_eq!(a.mid.len(), b.mid.len());
        for (p, q) in a.mid.iter().zip(&b.mid).chain(a.side.iter().zip(&b.side)) {
            assert!((p - q).abs() <= 1e-4 * p.abs().max(1e-9), "{p} vs {q}");
        }
    }

    #[test]
    fn a_voice_on_the_centre_channel_reads_as_centre() {
        use ChannelRole::*;
        let roles = [Left, Right, Centre, Lfe, LeftSurround, RightSurround];
        let mut m = FrontImageMeter::new(&roles, SR).unwrap();
        // A wide bed on L/R (uncorrelated noise) and a tone on C alone, 20 dB over the bed.
        let (l, r) = (noise(5, 96_000), noise(6, 96_000));
        let block: Vec<f32> = (0..96_000)
            .flat_map(|i| {
                let c = 5.0 * tone(i as f64 / f64::from(SR));
                [0.1 * l[i], 0.1 * r[i], c, 0.0, 0.0, 0.0]
            })
            .collect();
        m.push(&block);
        let (mid, side) = m.finish().energy(0.5, 1.0).unwrap();
        assert!(mid > 100.0 * side, "mid {mid} side {side}");
    }

    #[test]
    fn a_stem_without_a_front_pair_has_no_image_and_the_span_must_be_covered() {
        assert!(FrontImageMeter::new(&[ChannelRole::Mono], SR).is_none());
        assert!(FrontImageMeter::new(&[ChannelRole::Left, ChannelRole::Centre], SR).is_none());
        let img = measure(&stereo(1.0, tone, tone), 4800);
        assert!(img.energy(0.0, 0.75).is_some());
        assert!(img.energy(0.5, 1.0).is_none(), "past the end");
    }
}
