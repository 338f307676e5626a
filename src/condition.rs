//! Condition: turns a stem's decoded channels into the mono analysis signal at [`ANALYSIS_RATE`]
//! (documented downmix, then rubato resampling). Loudness reads the original channels instead.
//!
//! # Downmix
//! - The LFE channel is always left out: it carries no dialogue and no musical information that the
//!   detectors use (below 120 Hz), and its +10 dB playback gain would let it dominate.
//! - Dialogue with a centre channel: C at 1.0 and L/R at [`DIALOGUE_SIDE_WEIGHT`] (0.3, about -10 dB),
//!   surrounds left out. Film dialogue is mixed to the centre; L/R hold the odd panned or off-screen
//!   line and the room's spill, so a little of them keeps panned lines detectable without letting
//!   their reverb blur the centre's speech. Surrounds hold reverb returns and group walla.
//! - Everything else (music, effects, printmaster, and dialogue without a centre): the equal-power
//!   average of the non-LFE channels, each at `1/sqrt(n)`. That keeps the level of uncorrelated
//!   channels, and a dual-mono stereo stem (the same signal 3 dB down on L and R) comes back at the
//!   level of its mono source.
//!
//! # Resampling
//! rubato's synchronous FFT resampler ([`rubato::Fft`]): the ratio is fixed (e.g. 48 kHz -> 16 kHz is
//! exactly 3:1), and the FFT resampler is the fastest of rubato's with a steep anti-aliasing filter
//! (Blackman-Harris window; with ~1024-frame FFT blocks the pass band reaches about 90% of 8 kHz).
//! Input arrives in blocks of any size; it is queued and fed to the resampler in its fixed chunks.
//! The resampler's start-up delay is trimmed and [`Conditioner::finish`] flushes the tail, so the
//! output is time-aligned with the input and `round(input_len * 16000 / rate)` samples long.
//! A 16 kHz input passes straight through.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler, WindowFunction};

use crate::decode::ChannelRole;
use crate::discover::StemKind;

/// One analysis rate for every stem. 16 kHz keeps everything that speech and singing-voice detection
/// need (the voice's harmonics and formants below 8 kHz) at a third of the cost of 48 kHz.
pub const ANALYSIS_RATE: u32 = 16_000;

/// Weight of L and R in a dialogue stem that has a centre channel (see the module docs).
pub const DIALOGUE_SIDE_WEIGHT: f32 = 0.3;

/// Per-channel weights that fold a stem into one analysis channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Downmix {
    pub weights: Vec<f32>,
}

impl Downmix {
    /// The downmix for a stem of this kind and layout (LFE excluded; dialogue centre-weighted).
    pub fn for_stem(kind: StemKind, channels: &[ChannelRole]) -> Self {
        let n = channels.len().max(1);
        if channels.len() <= 1 {
            return Downmix {
                weights: vec![1.0; n],
            };
        }
        let has_centre = channels.contains(&ChannelRole::Centre);
        if kind == StemKind::Dialogue && has_centre {
            let weights = channels
                .iter()
                .map(|r| match r {
                    ChannelRole::Centre => 1.0,
                    ChannelRole::Left | ChannelRole::Right => DIALOGUE_SIDE_WEIGHT,
                    _ => 0.0,
                })
                .collect();
            return Downmix { weights };
        }
        let non_lfe = channels.iter().filter(|r| **r != ChannelRole::Lfe).count();
        // A stem made only of LFE channels still deserves a signal.
        let (count, skip_lfe) = if non_lfe == 0 {
            (channels.len(), false)
        } else {
            (non_lfe, true)
        };
        let w = 1.0 / (count as f32).sqrt();
        Downmix {
            weights: channels
                .iter()
                .map(|r| {
                    if skip_lfe && *r == ChannelRole::Lfe {
                        0.0
                    } else {
                        w
                    }
                })
                .collect(),
        }
    }

    /// Folds interleaved frames into `out` (cleared first).
    ///
    /// Each frame is summed over its weighted channels in channel order, the first one assigned
    /// and the others added (channels of weight 0 are skipped), in one pass over the block: a
    /// strided pass per channel into a zeroed buffer cost about 29 instructions per stereo frame.
    pub fn apply(&self, interleaved: &[f32], out: &mut Vec<f32>) {
        out.clear();
        let n = self.weights.len().max(1);
        let frames = interleaved.len() / n;
        if n == 1 {
            let w = self.weights.first().copied().unwrap_or(1.0);
            out.extend(interleaved.iter().map(|x| x * w));
            return;
        }
        let frames_in = &interleaved[..frames * n];
        let taps: Vec<(usize, f32)> = self
            .weights
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, w)| w != 0.0)
            .collect();
        let taps = &taps[..];
        // Monomorphised for the usual tap counts (stereo 2, dialogue centre + L/R 3, 5.1 without
        // its LFE 5, 7.1 without its LFE 7), so the tap loop unrolls.
        match taps.len() {
            0 => out.resize(frames, 0.0),
            2 => fold::<2>(frames_in, n, taps, out),
            3 => fold::<3>(frames_in, n, taps, out),
            5 => fold::<5>(frames_in, n, taps, out),
            7 => fold::<7>(frames_in, n, taps, out),
            _ => fold_any(frames_in, n, taps, out),
        }
    }
}

/// Appends the weighted sum of `K` taps (channel, weight) of each `n`-channel frame to `out`.
#[inline(always)]
fn fold<const K: usize>(frames: &[f32], n: usize, taps: &[(usize, f32)], out: &mut Vec<f32>) {
    let Ok(taps) = <[(usize, f32); K]>::try_from(taps) else {
        return fold_any(frames, n, taps, out);
    };
    if K == 2 && n == 2 && taps[0].0 == 0 && taps[1].0 == 1 {
        // Plain stereo: fixed indices, so the loop vectorises.
        let (w0, w1) = (taps[0].1, taps[1].1);
        out.extend(frames.chunks_exact(2).map(|f| f[0] * w0 + f[1] * w1));
        return;
    }
    out.extend(frames.chunks_exact(n).map(|f| {
        let mut acc = f[taps[0].0] * taps[0].1;
        for &(c, w) in &taps[1..] {
            acc += f[c] * w;
        }
        acc
    }));
}

/// [`fold`] for any number of taps (at least one).
fn fold_any(frames: &[f32], n: usize, taps: &[(usize, f32)], out: &mut Vec<f32>) {
    let Some((&(c0, w0), rest)) = taps.split_first() else {
        out.resize(out.len() + frames.len() / n.max(1), 0.0);
        return;
    };
    out.extend(frames.chunks_exact(n).map(|f| {
        let mut acc = f[c0] * w0;
        for &(c, w) in rest {
            acc += f[c] * w;
        }
        acc
    }));
}

/// Input frames per FFT block aimed for (rounded to what the rate pair allows).
const FFT_BLOCK_TARGET: usize = 1024;
/// FFT blocks per resampler call.
const BLOCKS_PER_CHUNK: usize = 4;

/// The input block size: the smallest multiple of `min_in` from [`FFT_BLOCK_TARGET`] up whose prime
/// factors are only 2 and 3 (else 2, 3 and 5), so both FFT sizes (2x the input and output blocks)
/// have SIMD kernels in rustfft. At 48 kHz the plain rounding gives 1026 = 2 * 3^3 * 19, which
/// resamples about half as fast as 1152 = 2^7 * 3^2. Falls back to the plain rounding when no
/// such multiple exists within 2x the target (unusual rates such as 44.1 kHz's 882-frame step).
fn fft_friendly_block(min_in: usize) -> usize {
    let plain = FFT_BLOCK_TARGET.div_ceil(min_in).max(1) * min_in;
    let smooth = |mut n: usize, primes: &[usize]| {
        for &p in primes {
            while n.is_multiple_of(p) {
                n /= p;
            }
        }
        n == 1
    };
    let candidates = || (plain..=2 * FFT_BLOCK_TARGET.max(plain)).step_by(min_in);
    candidates()
        .find(|&n| smooth(n, &[2, 3]))
        .or_else(|| candidates().find(|&n| smooth(n, &[2, 3, 5])))
        .unwrap_or(plain)
}

struct Resampling {
    fft: Fft<f32>,
    /// Mono input not yet resampled.
    queue: Vec<f32>,
    out_buf: Vec<f32>,
    /// Start-up delay (output frames) still to drop.
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
    rate: u32,
}

impl Resampling {
    fn new(rate: u32) -> crate::Result<Self> {
        let gcd = gcd(rate as usize, ANALYSIS_RATE as usize);
        // Blocks of an even multiple of the smallest block make both FFT sizes even, so the
        // resampler's delay (half the output FFT) is a whole number of output samples and
        // trimming it leaves the output exactly aligned with the input.
        let min_in = 2 * (rate as usize / gcd);
        let block = fft_friendly_block(min_in);
        let fft = Fft::<f32>::new_custom(
            rate as usize,
            ANALYSIS_RATE as usize,
            block * BLOCKS_PER_CHUNK,
            BLOCKS_PER_CHUNK,
            1,
            WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| crate::Error::Other(format!("cannot resample {rate} Hz to 16 kHz: {e}")))?;
        let to_trim = fft.output_delay();
        let out_buf = vec![0.0; fft.output_frames_max()];
        Ok(Resampling {
            queue: Vec::with_capacity(fft.input_frames_max() * 2),
            fft,
            out_buf,
            to_trim,
            frames_in: 0,
            frames_out: 0,
            rate,
        })
    }

    /// Output samples that `frames_in` input frames correspond to.
    fn expected_out(&self) -> u64 {
        (self.frames_in as f64 * f64::from(ANALYSIS_RATE) / f64::from(self.rate)).round() as u64
    }

    /// Runs one resampler call over `queue[pos..]` (or silence when `partial` is Some(0)), emitting
    /// at most `limit` trimmed samples into `out`; returns the input frames consumed.
    fn run(
        &mut self,
        pos: usize,
        partial: Option<usize>,
        limit: u64,
        out: &mut Vec<f32>,
    ) -> crate::Result<usize> {
        let need = self.fft.input_frames_next();
        let avail = self.queue.len() - pos;
        let mut silence = Vec::new();
        let input: &[f32] = if avail >= need {
            &self.queue[pos..pos + need]
        } else {
            silence.resize(need, 0.0);
            silence[..avail].copy_from_slice(&self.queue[pos..]);
            &silence
        };
        let err = |e: String| crate::Error::Other(format!("resampler: {e}"));
        let adapter_in = InterleavedSlice::new(input, 1, need).map_err(|e| err(e.to_string()))?;
        let out_len = self.out_buf.len();
        let mut adapter_out = InterleavedSlice::new_mut(&mut self.out_buf, 1, out_len)
            .map_err(|e| err(e.to_string()))?;
        let indexing = partial.map(|p| Indexing::new().partial_len(p));
        let (nin, nout) = self
            .fft
            .process_into_buffer(&adapter_in, &mut adapter_out, indexing.as_ref())
            .map_err(|e| err(e.to_string()))?;
        let trim = self.to_trim.min(nout);
        self.to_trim -= trim;
        let fresh = &self.out_buf[trim..nout];
        let room = limit.saturating_sub(self.frames_out) as usize;
        let take = fresh.len().min(room);
        out.extend_from_slice(&fresh[..take]);
        self.frames_out += take as u64;
        Ok(nin.min(avail))
    }

    fn push(&mut self, mono: &[f32], out: &mut Vec<f32>) -> crate::Result<()> {
        self.frames_in += mono.len() as u64;
        self.queue.extend_from_slice(mono);
        let mut pos = 0;
        while self.queue.len() - pos >= self.fft.input_frames_next() {
            pos += self.run(pos, None, u64::MAX, out)?;
        }
        self.queue.drain(..pos);
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<f32>) -> crate::Result<()> {
        let expected = self.expected_out();
        if !self.queue.is_empty() {
            let left = self.queue.len();
            self.run(0, Some(left), expected, out)?;
        }
        // Pump silence until the delayed tail is out; bounded by the delay plus one chunk.
        let mut guard = 0;
        while self.frames_out < expected && guard < 1_000 {
            let end = self.queue.len();
            self.run(end, Some(0), expected, out)?;
            guard += 1;
        }
        self.queue.clear();
        Ok(())
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Streaming downmix + resample to [`ANALYSIS_RATE`].
pub struct Conditioner {
    downmix: Downmix,
    input_rate: u32,
    mono: Vec<f32>,
    /// `None` when the input is already at the analysis rate.
    resampling: Option<Resampling>,
}

impl Conditioner {
    pub fn new(kind: StemKind, channels: &[ChannelRole], input_rate: u32) -> crate::Result<Self> {
        if input_rate == 0 {
            return Err(crate::Error::Other("sample rate 0".into()));
        }
        let resampling = if input_rate == ANALYSIS_RATE {
            None
        } else {
            Some(Resampling::new(input_rate)?)
        };
        Ok(Conditioner {
            downmix: Downmix::for_stem(kind, channels),
            input_rate,
            mono: Vec::new(),
            resampling,
        })
    }

    pub fn input_rate(&self) -> u32 {
        self.input_rate
    }

    pub fn downmix(&self) -> &Downmix {
        &self.downmix
    }

    /// Conditions one block of interleaved frames, appending analysis-rate samples to `out`.
    pub fn push(&mut self, interleaved: &[f32], out: &mut Vec<f32>) -> crate::Result<()> {
        self.downmix.apply(interleaved, &mut self.mono);
        match &mut self.resampling {
            None => out.extend_from_slice(&self.mono),
            Some(r) => r.push(&self.mono, out)?,
        }
        Ok(())
    }

    /// Flushes the resampler's tail into `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> crate::Result<()> {
        if let Some(r) = &mut self.resampling {
            r.finish(out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampler_blocks_are_fft_friendly_multiples_of_the_rate_step() {
        // 48 kHz -> 16 kHz steps by 6 input frames: 1152 = 2^7 * 3^2, not 1026 = 2 * 3^3 * 19.
        assert_eq!(fft_friendly_block(6), 1152);
        // 96 kHz steps by 12; 32 kHz by 4 (1024 itself is a power of two).
        assert_eq!(fft_friendly_block(12), 1152);
        assert_eq!(fft_friendly_block(4), 1024);
        // 44.1 kHz steps by 882 = 2 * 3^2 * 7^2: no 5-smooth multiple nearby, plain rounding.
        assert_eq!(fft_friendly_block(882), 1764);
        for step in [2, 4, 6, 12, 882] {
            assert!(fft_friendly_block(step).is_multiple_of(step));
        }
    }
}
