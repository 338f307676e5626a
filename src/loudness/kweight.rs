//! The BS.1770 K-weighting filter (a high shelf at ~1.7 kHz and a high pass at ~38 Hz), run on every
//! channel of an interleaved stream, accumulating the sum of squares and the sample peak per channel.
//!
//! The coefficients are those of libebur128 / the `ebur128` crate (recomputed for any sample rate
//! from the analogue prototype), so our energies agree with the reference. We run the two stages as
//! cascaded transposed direct-form-II biquads in `f64`, all channels of a frame together: the
//! recursions of different channels are independent, so the CPU overlaps them, which makes this
//! several times cheaper than a per-channel 4th-order direct form. Where the CPU has AVX2 and FMA,
//! four channels share one vector (the `avx2` module), bit-identical to the scalar FMA loop and 2.6x
//! faster on 5.1 (`cargo bench --bench loudness -- sample_peak`: 9.7 -> 3.8 ms per 10 s).
//!
//! What bounds the speed is each biquad's recursion (the output feeds the next sample's state),
//! not the arithmetic: the state update adds the input terms first and the feedback term last, in
//! one fused multiply-add where the CPU has FMA, so the loop-carried chain is two operations per
//! sample (was four: multiply, subtract, add, add). Both orders agree to `f64` rounding.

/// One biquad's coefficients, normalised (`a0 = 1`).
#[derive(Debug, Clone, Copy)]
struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
}

/// Filter state of one channel: two stages, two state variables each.
#[derive(Debug, Clone, Copy, Default)]
struct ChannelState {
    s: [f64; 4],
    /// Sum of squares of the filtered signal since the last [`KWeighting::take`].
    sum_sq: f64,
    /// Largest absolute input sample since the last [`KWeighting::take`].
    peak: f32,
}

/// K-weighting filter bank over `channels` interleaved channels.
#[derive(Debug, Clone)]
pub struct KWeighting {
    shelf: Biquad,
    high_pass: Biquad,
    state: Vec<ChannelState>,
    /// The CPU has FMA: [`KWeighting::process`] runs a copy compiled for it.
    fma: bool,
}

#[allow(non_snake_case)]
fn coefficients(rate: f64) -> (Biquad, Biquad) {
    // Stage 1: high shelf (head effects). Constants from libebur128.
    let f0 = 1681.974450955533;
    let G = 3.999843853973347;
    let Q = 0.7071752369554196;
    let K = (std::f64::consts::PI * f0 / rate).tan();
    let Vh = 10f64.powf(G / 20.0);
    let Vb = Vh.powf(0.4996667741545416);
    let a0 = 1.0 + K / Q + K * K;
    let shelf = Biquad {
        b0: (Vh + Vb * K / Q + K * K) / a0,
        b1: 2.0 * (K * K - Vh) / a0,
        b2: (Vh - Vb * K / Q + K * K) / a0,
        a1: 2.0 * (K * K - 1.0) / a0,
        a2: (1.0 - K / Q + K * K) / a0,
    };
    // Stage 2: RLB high pass. libebur128 leaves its numerator unnormalised (1, -2, 1).
    let f0 = 38.13547087602444;
    let Q = 0.5003270373238773;
    let K = (std::f64::consts::PI * f0 / rate).tan();
    let d = 1.0 + K / Q + K * K;
    let high_pass = Biquad {
        b0: 1.0,
        b1: -2.0,
        b2: 1.0,
        a1: 2.0 * (K * K - 1.0) / d,
        a2: (1.0 - K / Q + K * K) / d,
    };
    (shelf, high_pass)
}

impl KWeighting {
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        let (shelf, high_pass) = coefficients(sample_rate as f64);
        KWeighting {
            shelf,
            high_pass,
            state: vec![ChannelState::default(); channels],
            fma: has_fma(),
        }
    }

    pub fn channels(&self) -> usize {
        self.state.len()
    }

    /// Filters `interleaved` (whole frames) and accumulates squares and peaks per channel.
    pub fn process(&mut self, interleaved: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: `fma` is set only when the running CPU supports FMA and AVX2 (`has_fma`).
            return unsafe { self.process_fma(interleaved) };
        }
        self.process_generic::<false>(interleaved);
    }

    /// [`process`](Self::process) compiled with FMA and AVX2: up to eight channels (7.1) run as
    /// vectors of four channels ([`avx2`]); more channels run the scalar loop with FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn process_fma(&mut self, interleaved: &[f32]) {
        let (f, g) = (self.shelf, self.high_pass);
        // SAFETY (all arms): this function runs only where the CPU has AVX2 and FMA (`has_fma`).
        unsafe {
            match self.state.len() {
                1 => avx2::run::<1>(&f, &g, &mut self.state, interleaved),
                2 => avx2::run::<2>(&f, &g, &mut self.state, interleaved),
                3 => avx2::run::<3>(&f, &g, &mut self.state, interleaved),
                4 => avx2::run::<4>(&f, &g, &mut self.state, interleaved),
                5 => avx2::run::<5>(&f, &g, &mut self.state, interleaved),
                6 => avx2::run::<6>(&f, &g, &mut self.state, interleaved),
                7 => avx2::run::<7>(&f, &g, &mut self.state, interleaved),
                8 => avx2::run::<8>(&f, &g, &mut self.state, interleaved),
                _ => self.run_dyn::<true>(interleaved),
            }
        }
    }

    /// `FUSED`: the feedback term is added by `mul_add` (one rounding; only where FMA is an
    /// instruction), else by a multiply and a subtraction.
    #[inline(always)]
    fn process_generic<const FUSED: bool>(&mut self, interleaved: &[f32]) {
        // Monomorphised loops for the common layouts keep the channel loop unrolled.
        match self.state.len() {
            1 => self.run::<1, FUSED>(interleaved),
            2 => self.run::<2, FUSED>(interleaved),
            6 => self.run::<6, FUSED>(interleaved),
            8 => self.run::<8, FUSED>(interleaved),
            _ => self.run_dyn::<FUSED>(interleaved),
        }
    }

    #[inline(always)]
    fn run<const C: usize, const FUSED: bool>(&mut self, interleaved: &[f32]) {
        let (f, g) = (self.shelf, self.high_pass);
        if self.state.len() != C {
            return self.run_dyn::<FUSED>(interleaved);
        }
        // Structure of arrays, so that the per-channel loops below map onto SIMD lanes.
        let mut s0 = [0.0f64; C];
        let mut s1 = [0.0f64; C];
        let mut s2 = [0.0f64; C];
        let mut s3 = [0.0f64; C];
        let mut sum = [0.0f64; C];
        let mut peak = [0.0f32; C];
        for (c, st) in self.state.iter().enumerate() {
            [s0[c], s1[c], s2[c], s3[c]] = st.s;
            sum[c] = st.sum_sq;
            peak[c] = st.peak;
        }
        for frame in interleaved.chunks_exact(C) {
            let mut x = [0.0f64; C];
            for c in 0..C {
                peak[c] = peak[c].max(frame[c].abs());
                x[c] = frame[c] as f64;
            }
            for c in 0..C {
                let y1 = f.b0 * x[c] + s0[c];
                s0[c] = feedback::<FUSED>(f.b1 * x[c] + s1[c], f.a1, y1);
                s1[c] = f.b2 * x[c] - f.a2 * y1;
                let y2 = g.b0 * y1 + s2[c];
                s2[c] = feedback::<FUSED>(g.b1 * y1 + s3[c], g.a1, y2);
                s3[c] = g.b2 * y1 - g.a2 * y2;
                sum[c] += y2 * y2;
            }
        }
        for (c, st) in self.state.iter_mut().enumerate() {
            st.s = [s0[c], s1[c], s2[c], s3[c]];
            st.sum_sq = sum[c];
            st.peak = peak[c];
        }
    }

    #[inline(always)]
    fn run_dyn<const FUSED: bool>(&mut self, interleaved: &[f32]) {
        let (f, g) = (self.shelf, self.high_pass);
        let ch = self.state.len().max(1);
        for frame in interleaved.chunks_exact(ch) {
            for (s, &x) in self.state.iter_mut().zip(frame) {
                s.peak = s.peak.max(x.abs());
                let x = x as f64;
                let y1 = f.b0 * x + s.s[0];
                s.s[0] = feedback::<FUSED>(f.b1 * x + s.s[1], f.a1, y1);
                s.s[1] = f.b2 * x - f.a2 * y1;
                let y2 = g.b0 * y1 + s.s[2];
                s.s[2] = feedback::<FUSED>(g.b1 * y1 + s.s[3], g.a1, y2);
                s.s[3] = g.b2 * y1 - g.a2 * y2;
                s.sum_sq += y2 * y2;
            }
        }
    }

    /// Returns the channel-weighted sum of squares and the sample peak accumulated since the last
    /// call, and starts a new accumulation.
    pub fn take(&mut self, weights: &[f64]) -> (f64, f32) {
        let mut energy = 0.0;
        let mut peak = 0.0f32;
        for (s, w) in self.state.iter_mut().zip(weights) {
            energy += w * s.sum_sq;
            peak = peak.max(s.peak);
            s.sum_sq = 0.0;
            s.peak = 0.0;
            // A decaying state would otherwise reach subnormal numbers, which are very slow.
            for v in &mut s.s {
                if v.abs() < 1e-30 {
                    *v = 0.0;
                }
            }
        }
        (energy, peak)
    }
}

/// The FMA loop with four channels per 256-bit vector. The compiler does not vectorise the
/// per-channel arrays of [`KWeighting::run`] (measured: scalar `vmulsd`/`vsubsd` with stack spills
/// for a 5.1 frame), and the filter was the largest single cost of an analysis (30% of a 1-thread
/// 5.1 run's samples under `perf`). Every lane does exactly the scalar FMA loop's operations in the
/// same order (a multiply and an add where it multiplies and adds, one fused multiply-add where it
/// calls `mul_add`), so the results are bit-identical to it; a test checks this.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Biquad, ChannelState};
    use std::arch::x86_64::*;

    /// Filters `C` interleaved channels (1..=8): lanes past the last channel filter zeros and are
    /// never stored.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run<const C: usize>(
        f: &Biquad,
        g: &Biquad,
        state: &mut [ChannelState],
        interleaved: &[f32],
    ) {
        const { assert!(C >= 1 && C <= 8) };
        if state.len() != C {
            return;
        }
        let groups = C.div_ceil(4);
        let (fb0, fb1, fb2) = (
            _mm256_set1_pd(f.b0),
            _mm256_set1_pd(f.b1),
            _mm256_set1_pd(f.b2),
        );
        let (fna1, fa2) = (_mm256_set1_pd(-f.a1), _mm256_set1_pd(f.a2));
        let (gb0, gb1, gb2) = (
            _mm256_set1_pd(g.b0),
            _mm256_set1_pd(g.b1),
            _mm256_set1_pd(g.b2),
        );
        let (gna1, ga2) = (_mm256_set1_pd(-g.a1), _mm256_set1_pd(g.a2));
        let abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fff_ffff));

        // State as [group][variable] vectors, one lane per channel.
        let mut s = [[_mm256_setzero_pd(); 4]; 2];
        let mut sum = [_mm256_setzero_pd(); 2];
        let mut peak = [_mm_setzero_ps(); 2];
        for k in 0..groups {
            let mut vars = [[0.0f64; 4]; 4];
            let (mut sums, mut peaks) = ([0.0f64; 4], [0.0f32; 4]);
            for (l, st) in state.iter().skip(4 * k).take(4).enumerate() {
                for (v, &x) in vars.iter_mut().zip(&st.s) {
                    v[l] = x;
                }
                sums[l] = st.sum_sq;
                peaks[l] = st.peak;
            }
            // SAFETY: the arrays hold four values each, as the unaligned loads read.
            unsafe {
                for (sv, v) in s[k].iter_mut().zip(&vars) {
                    *sv = _mm256_loadu_pd(v.as_ptr());
                }
                sum[k] = _mm256_loadu_pd(sums.as_ptr());
                peak[k] = _mm_loadu_ps(peaks.as_ptr());
            }
        }

        for frame in interleaved.chunks_exact(C) {
            for k in 0..groups {
                let lanes = &frame[4 * k..(4 * k + 4).min(C)];
                // SAFETY: each load reads no more than `lanes` holds (4, 2 or 1 values).
                let x32 = unsafe {
                    match lanes.len() {
                        4 => _mm_loadu_ps(lanes.as_ptr()),
                        3 => _mm_set_ps(0.0, lanes[2], lanes[1], lanes[0]),
                        2 => _mm_castpd_ps(_mm_load_sd(lanes.as_ptr().cast::<f64>())),
                        _ => _mm_load_ss(lanes.as_ptr()),
                    }
                };
                // `max(|x|, peak)` returns `peak` when |x| is NaN, as `f32::max` does.
                peak[k] = _mm_max_ps(_mm_and_ps(x32, abs_mask), peak[k]);
                let x = _mm256_cvtps_pd(x32);
                let [s0, s1, s2, s3] = &mut s[k];
                let y1 = _mm256_add_pd(_mm256_mul_pd(fb0, x), *s0);
                *s0 = _mm256_fmadd_pd(fna1, y1, _mm256_add_pd(_mm256_mul_pd(fb1, x), *s1));
                *s1 = _mm256_sub_pd(_mm256_mul_pd(fb2, x), _mm256_mul_pd(fa2, y1));
                let y2 = _mm256_add_pd(_mm256_mul_pd(gb0, y1), *s2);
                *s2 = _mm256_fmadd_pd(gna1, y2, _mm256_add_pd(_mm256_mul_pd(gb1, y1), *s3));
                *s3 = _mm256_sub_pd(_mm256_mul_pd(gb2, y1), _mm256_mul_pd(ga2, y2));
                sum[k] = _mm256_add_pd(sum[k], _mm256_mul_pd(y2, y2));
            }
        }

        for k in 0..groups {
            let mut vars = [[0.0f64; 4]; 4];
            let (mut sums, mut peaks) = ([0.0f64; 4], [0.0f32; 4]);
            // SAFETY: the arrays hold four values each, as the unaligned stores write.
            unsafe {
                for (v, sv) in vars.iter_mut().zip(&s[k]) {
                    _mm256_storeu_pd(v.as_mut_ptr(), *sv);
                }
                _mm256_storeu_pd(sums.as_mut_ptr(), sum[k]);
                _mm_storeu_ps(peaks.as_mut_ptr(), peak[k]);
            }
            for (l, st) in state.iter_mut().skip(4 * k).take(4).enumerate() {
                for (x, v) in st.s.iter_mut().zip(&vars) {
                    *x = v[l];
                }
                st.sum_sq = sums[l];
                st.peak = peaks[l];
            }
        }
    }
}

/// `input - a * y`, the state update's last step (on the loop-carried path).
#[inline(always)]
fn feedback<const FUSED: bool>(input: f64, a: f64, y: f64) -> f64 {
    if FUSED {
        (-a).mul_add(y, input)
    } else {
        input - a * y
    }
}

/// Whether the running CPU has FMA and AVX2 (what [`KWeighting::process_fma`] is compiled for).
fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise-like test signal with a loud burst, 48 kHz interleaved.
    fn signal(channels: usize, frames: usize) -> Vec<f32> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..channels * frames)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let gain = if (i / channels) % 9_000 < 300 {
                    0.9
                } else {
                    0.05
                };
                gain * ((x >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
            })
            .collect()
    }

    #[test]
    fn the_vector_loop_equals_the_scalar_fma_loop_bit_for_bit() {
        if !has_fma() {
            eprintln!("skipped: this CPU has no AVX2/FMA, so the vector loop never runs");
            return;
        }
        let weights = [1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.0, 1.0];
        for channels in 1..=8 {
            let x = signal(channels, 20_000);
            let mut vector = KWeighting::new(channels, 48_000);
            let mut scalar = vector.clone();
            // Uneven blocks, with takes in between: the state carries across calls.
            let mut at = 0;
            for (i, len) in [1usize, 4_799, 4_800, 9_000, 1_400].into_iter().enumerate() {
                let block = &x[at * channels..(at + len) * channels];
                at += len;
                vector.process(block);
                scalar.process_generic::<true>(block);
                if i % 2 == 1 {
                    let (ev, pv) = vector.take(&weights[..channels]);
                    let (es, ps) = scalar.take(&weights[..channels]);
                    assert_eq!((ev.to_bits(), pv.to_bits()), (es.to_bits(), ps.to_bits()));
                }
            }
            for (v, s) in vector.state.iter().zip(&scalar.state) {
                assert_eq!(
                    v.s.map(f64::to_bits),
                    s.s.map(f64::to_bits),
                    "{channels} channels"
                );
                assert_eq!(
                    v.sum_sq.to_bits(),
                    s.sum_sq.to_bits(),
                    "{channels} channels"
                );
                assert_eq!(v.peak.to_bits(), s.peak.to_bits(), "{channels} channels");
            }
        }
    }

    #[test]
    fn k_weighting_gain_at_1khz_is_near_zero_and_shelf_adds_4db_at_high_frequencies() {
        // BS.1770 K-weighting: ~0 dB at 1 kHz (+0.69 dB, hence the -0.691 offset), ~+4 dB at 10 kHz.
        let rate = 48_000;
        let gain_db = |freq: f64| {
            let mut k = KWeighting::new(1, rate);
            let n = rate as usize * 2;
            let x: Vec<f32> = (0..n)
                .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32)
                .collect();
            k.process(&x[..n / 2]);
            k.take(&[1.0]);
            k.process(&x[n / 2..]);
            let (e, _) = k.take(&[1.0]);
            10.0 * (e / (n / 2) as f64 / 0.5).log10()
        };
        let g1k = gain_db(1000.0);
        let g10k = gain_db(10_000.0);
        let g20 = gain_db(20.0);
        assert!((g1k - 0.691).abs() < 0.05, "1 kHz gain {g1k}");
        assert!((g10k - 4.0 - 0.0).abs() < 0.5, "10 kHz gain {g10k}");
        assert!(g20 < -10.0, "20 Hz gain {g20}");
    }
}
