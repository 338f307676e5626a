//! Per-frame speech evidence in context: turns the 10 ms [`FrameSummary`] stream into the feature
//! vectors the speech model reads.
//!
//! Every feature is relative: levels are measured against an adaptive noise floor (so a line at
//! -40 dBFS in a quiet room reads like one at -20 dBFS in a loud one), the rest are shape, voicing and
//! modulation measures. Context windows look ±0.05..±1 s around each frame; they carry the
//! syllable-rate (~4 Hz) modulation, the voicing alternation and the pitch movement of speech that
//! steady hum, noise beds, single clicks and held musical notes lack.
//!
//! Transients (clicks, footsteps, knocks) also come in syllable-like rhythms, and a heel thump is
//! periodic at 50-160 Hz. What they lack is voiced, speech-band sound: a frame is *speechy* when it
//! is voiced in the speaking range with a real share of its power in 300 Hz - 3.4 kHz. The share of
//! speechy frames around a frame, and how far the nearest speechy frame is on either side, let the
//! model bridge a pause between two words but not the gap between two footsteps; the length of the
//! run of active (above-floor) frames a frame belongs to and the active duty cycle tell a 60 ms
//! click from a 200 ms syllable.

use crate::features::FrameSummary;

/// Feature names in the order of [`ContextFeatures::row`]. Models store this list and refuse a mismatch.
pub const CONTEXT_FEATURES: &[&str] = &[
    "snr_db",
    "snr_mean_110ms",
    "snr_mean_1s",
    "rms_snr_db",
    "band_share_db",
    "periodicity",
    "speech_pitch_voicing",
    "voiced_frac_1s",
    "pitch_step_st",
    "pitch_spread_st",
    "voicing_switch_rate",
    "syllabic_mod_db",
    "syllabic_mod_ratio",
    "log_flatness",
    "log_centroid",
    "flux_rel",
    "peakiness",
    "drop_from_recent_max_db",
    "rise_to_next_max_db",
    "snr_min_1s",
    "speechy_frac_1s",
    "since_speechy_s",
    "until_speechy_s",
    "active_run_s",
    "active_frac_1s",
];

/// Number of context features.
pub const N_CONTEXT: usize = 25;

/// Lowest and highest fundamental of speaking voices, Hz.
const SPEECH_F0_MIN: f32 = 70.0;
const SPEECH_F0_MAX: f32 = 420.0;
/// A frame counts as voiced above this periodicity.
const VOICED: f32 = 0.5;
/// Noise-floor tracker: blocks of 10 frames, minimum statistics over 4 s either side.
pub(super) const FLOOR_BLOCK: usize = 10;
/// A frame is "speechy" (voiced like speech) when voiced in the speaking range, at least this much
/// of its power is in the 300 Hz - 3.4 kHz band (dB re the whole band), and it is above the floor:
/// a footstep's thump or a hum can be periodic at 60-150 Hz but keeps its power below 300 Hz.
const SPEECHY_BAND_SHARE_DB: f32 = -15.0;
const SPEECHY_SNR_DB: f32 = 3.0;
/// A frame is "active" this far above the speech-band floor, dB.
const ACTIVE_SNR_DB: f32 = 6.0;
/// Distances to speechy frames and lengths of active runs are clamped here, frames.
const MAX_REACH: usize = 100;
const MAX_RUN: usize = 200;
const FLOOR_SPAN_BLOCKS: usize = 40;

/// Frames of context either side of a frame that its row depends on, rounded up to whole floor
/// blocks: the noise floor reaches `FLOOR_SPAN_BLOCKS + 1` blocks (410 frames) beyond the 3-frame
/// level mean; beyond that, the syllable envelope reaches 12 frames and the row's windows 50 more
/// (473 in all), the active-run length `MAX_RUN` and the speechy distances `MAX_REACH` frames
/// (a clamped run or distance is decided within that reach): 611 in all.
/// Features built on a slice of frames give the whole stem's rows for the frames at least this far
/// from the slice's ends (or at the stem's own ends), when the slice starts on a block boundary.
pub const MARGIN_FRAMES: usize = 620;
const _: () = assert!(
    MARGIN_FRAMES.is_multiple_of(FLOOR_BLOCK)
        && MARGIN_FRAMES >= (FLOOR_SPAN_BLOCKS + 1) * FLOOR_BLOCK + 1 + 12 + 50
        && MARGIN_FRAMES >= (FLOOR_SPAN_BLOCKS + 1) * FLOOR_BLOCK + 1 + MAX_RUN
        && MARGIN_FRAMES >= (FLOOR_SPAN_BLOCKS + 1) * FLOOR_BLOCK + 1 + MAX_REACH
);

/// Precomputed per-frame series from which feature rows are read; a few floats per frame.
pub struct ContextFeatures {
    /// Speech-band level, 3-frame mean, dB.
    band: Vec<f32>,
    /// Speech-band level above its noise floor, dB, clamped.
    snr: Vec<f32>,
    /// Whole-band level above its noise floor, dB, clamped.
    rms_snr: Vec<f32>,
    /// Voiced with a pitch in the speaking range: periodicity, else 0.
    speech_voicing: Vec<f32>,
    /// Pitch in semitones re 100 Hz when voiced in range, else NaN.
    pitch_st: Vec<f32>,
    log_flux: Vec<f32>,
    /// Prefix sums for windowed means.
    snr_sum: Vec<f64>,
    voiced_sum: Vec<f64>,
    switch_sum: Vec<f64>,
    log_flux_sum: Vec<f64>,
    /// Syllable-band component of the level envelope, squared, prefix-summed.
    mod_sq_sum: Vec<f64>,
    speechy_sum: Vec<f64>,
    active_sum: Vec<f64>,
    /// Frames since the last speechy frame (0 on one), clamped at [`MAX_REACH`].
    since_speechy: Vec<u16>,
    /// Frames until the next speechy frame (0 on one), clamped at [`MAX_REACH`].
    until_speechy: Vec<u16>,
    /// Length of the run of active frames this frame belongs to (0 when not active), clamped.
    active_run: Vec<u16>,
    frames_len: usize,
}

fn clamp(x: f32, lo: f32, hi: f32) -> f32 {
    if x.is_nan() { lo } else { x.clamp(lo, hi) }
}

fn prefix(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut out = vec![0.0];
    let mut acc = 0.0;
    for v in values {
        acc += v;
        out.push(acc);
    }
    out
}

/// Mean of a prefix-summed series over frames `[a, b)`.
fn window_mean(sum: &[f64], a: usize, b: usize) -> f32 {
    if b <= a {
        return 0.0;
    }
    ((sum[b] - sum[a]) / (b - a) as f64) as f32
}

/// Centred moving average of `x` over `2 * half + 1` frames (shorter at the edges).
fn moving_average(x: &[f32], half: usize) -> Vec<f32> {
    let sum = prefix(x.iter().map(|&v| v as f64));
    (0..x.len())
        .map(|i| {
            let a = i.saturating_sub(half);
            let b = (i + half + 1).min(x.len());
            window_mean(&sum, a, b)
        })
        .collect()
}

/// Adaptive noise floor of a level series (dB), per frame.
///
/// Minimum statistics over blocks of 10 frames (each block's second-lowest value, so one dropout
/// does not pull it down), tracked forwards and backwards over 4 s; the floor is the larger of the
/// two. At a scene cut the floor thus switches at the cut itself: before it, the backward tracker
/// already sees the next scene but the forward one still holds this scene's minimum, and after it
/// the reverse. A pause of one block every 4 s is enough for the floor to find the room tone.
pub fn noise_floor(level_db: &[f32]) -> Vec<f32> {
    let n = level_db.len();
    if n == 0 {
        return Vec::new();
    }
    let blocks: Vec<f32> = level_db
        .chunks(FLOOR_BLOCK)
        .map(|c| {
            let (mut lo1, mut lo2) = (f32::INFINITY, f32::INFINITY);
            for &v in c {
                if v < lo1 {
                    lo2 = lo1;
                    lo1 = v;
                } else if v < lo2 {
                    lo2 = v;
                }
            }
            if lo2.is_finite() { lo2 } else { lo1 }
        })
        .collect();
    let nb = blocks.len();
    let mut fwd = vec![0.0f32; nb];
    let mut bwd = vec![0.0f32; nb];
    for i in 0..nb {
        let a = i.saturating_sub(FLOOR_SPAN_BLOCKS);
        fwd[i] = blocks[a..=i].iter().copied().fold(f32::INFINITY, f32::min);
        let b = (i + FLOOR_SPAN_BLOCKS + 1).min(nb);
        bwd[i] = blocks[i..b].iter().copied().fold(f32::INFINITY, f32::min);
    }
    (0..n)
        .map(|t| {
            let b = t / FLOOR_BLOCK;
            fwd[b].max(bwd[b])
        })
        .collect()
}

/// For each position, how many steps since the last `true` (0 on a `true`), clamped at
/// [`MAX_REACH`] (also before the first `true`).
fn distances(flags: impl Iterator<Item = bool>) -> Vec<u16> {
    let mut d = MAX_REACH;
    flags
        .map(|f| {
            d = if f { 0 } else { (d + 1).min(MAX_REACH) };
            d as u16
        })
        .collect()
}

/// For each position, the length of the run of `true` it belongs to (0 on a `false`), clamped
/// at [`MAX_RUN`].
fn run_lengths(flags: &[bool]) -> Vec<u16> {
    let mut out = vec![0u16; flags.len()];
    let mut t = 0;
    while t < flags.len() {
        if !flags[t] {
            t += 1;
            continue;
        }
        let start = t;
        while t < flags.len() && flags[t] {
            t += 1;
        }
        let len = (t - start).min(MAX_RUN) as u16;
        out[start..t].iter_mut().for_each(|v| *v = len);
    }
    out
}

impl ContextFeatures {
    /// Precomputes the per-frame series of a whole stem's frames.
    pub fn new(frames: &[FrameSummary]) -> Self {
        let n = frames.len();
        let raw_band: Vec<f32> = frames.iter().map(|f| f.speech_band_db).collect();
        let band = moving_average(&raw_band, 1);
        let rms: Vec<f32> = moving_average(&frames.iter().map(|f| f.rms_db).collect::<Vec<_>>(), 1);
        let band_floor = noise_floor(&band);
        let rms_floor = noise_floor(&rms);
        let snr: Vec<f32> = band
            .iter()
            .zip(&band_floor)
            .map(|(b, f)| clamp(b - f, -10.0, 60.0))
            .collect();
        let rms_snr: Vec<f32> = rms
            .iter()
            .zip(&rms_floor)
            .map(|(b, f)| clamp(b - f, -10.0, 60.0))
            .collect();
        let in_range = |f: &FrameSummary| {
            f.periodicity >= VOICED && f.pitch_hz >= SPEECH_F0_MIN && f.pitch_hz <= SPEECH_F0_MAX
        };
        let speech_voicing: Vec<f32> = frames
            .iter()
            .map(|f| {
                if f.pitch_hz >= SPEECH_F0_MIN && f.pitch_hz <= SPEECH_F0_MAX {
                    clamp(f.periodicity, 0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect();
        let pitch_st: Vec<f32> = frames
            .iter()
            .map(|f| {
                if in_range(f) {
                    12.0 * (f.pitch_hz / 100.0).log2()
                } else {
                    f32::NAN
                }
            })
            .collect();
        let voiced: Vec<f64> = frames.iter().map(|f| in_range(f) as u8 as f64).collect();
        let switches: Vec<f64> = (0..n)
            .map(|i| {
                if i > 0 && voiced[i] != voiced[i - 1] {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let log_flux: Vec<f32> = frames
            .iter()
            .map(|f| (f.flux.max(0.0) + 1e-6).ln())
            .collect();
        // Syllable-rate band of the level envelope: a 50 ms mean minus a 250 ms mean keeps
        // roughly 2-10 Hz, where syllables modulate speech and where steady beds have nothing.
        let env: Vec<f32> = snr.iter().map(|&s| s.max(0.0)).collect();
        let short = moving_average(&env, 2);
        let long = moving_average(&env, 12);
        let mod_sq = short
            .iter()
            .zip(&long)
            .map(|(s, l)| ((s - l) as f64).powi(2));
        let speechy: Vec<bool> = frames
            .iter()
            .zip(&snr)
            .map(|(f, &s)| {
                in_range(f)
                    && f.speech_band_db - f.rms_db >= SPEECHY_BAND_SHARE_DB
                    && s >= SPEECHY_SNR_DB
            })
            .collect();
        let active: Vec<bool> = snr.iter().map(|&s| s >= ACTIVE_SNR_DB).collect();
        let since_speechy = distances(speechy.iter().copied());
        let mut until_speechy = distances(speechy.iter().rev().copied());
        until_speechy.reverse();
        ContextFeatures {
            speechy_sum: prefix(speechy.iter().map(|&v| v as u8 as f64)),
            active_sum: prefix(active.iter().map(|&v| v as u8 as f64)),
            since_speechy,
            until_speechy,
            active_run: run_lengths(&active),
            snr_sum: prefix(snr.iter().map(|&v| v as f64)),
            voiced_sum: prefix(voiced.iter().copied()),
            switch_sum: prefix(switches.into_iter()),
            log_flux_sum: prefix(log_flux.iter().map(|&v| v as f64)),
            mod_sq_sum: prefix(mod_sq),
            band,
            snr,
            rms_snr,
            speech_voicing,
            pitch_st,
            log_flux,
            frames_len: n,
        }
    }

    pub fn len(&self) -> usize {
        self.frames_len
    }

    pub fn is_empty(&self) -> bool {
        self.frames_len == 0
    }

    /// Fills `row` (length [`N_CONTEXT`]) with the features of frame `t`.
    pub fn row(&self, frames: &[FrameSummary], t: usize, row: &mut [f32]) {
        let n = self.frames_len;
        let win = |half: usize| (t.saturating_sub(half), (t + half + 1).min(n));
        let f = &frames[t];
        let (a1, b1) = win(50);
        let (a5, b5) = win(5);
        let (a2, b2) = win(2);

        let mut periodicity = 0.0;
        let mut speech_voicing = 0.0;
        let mut flat = 0.0;
        let mut peak = 0.0;
        for fr in &frames[a2..b2] {
            periodicity += clamp(fr.periodicity, 0.0, 1.0);
            flat += clamp(fr.flatness, 0.0, 1.0);
            peak += clamp(fr.peakiness, 0.0, 1.0);
        }
        for &v in &self.speech_voicing[a2..b2] {
            speech_voicing += v;
        }
        let k = (b2 - a2) as f32;

        // Pitch movement: mean absolute step between consecutive voiced frames (octave jumps of
        // the tracker clipped), and the spread of the pitch over the last and next half second.
        let (ap, bp) = win(25);
        let (mut steps, mut n_steps) = (0.0f32, 0usize);
        let (mut s1, mut s2, mut n_p) = (0.0f32, 0.0f32, 0usize);
        let mut prev = f32::NAN;
        for &p in &self.pitch_st[ap..bp] {
            if p.is_nan() {
                prev = f32::NAN;
                continue;
            }
            if !prev.is_nan() {
                steps += (p - prev).abs().min(2.0);
                n_steps += 1;
            }
            prev = p;
            s1 += p;
            s2 += p * p;
            n_p += 1;
        }
        let pitch_step = if n_steps > 0 {
            steps / n_steps as f32
        } else {
            0.0
        };
        let pitch_spread = if n_p > 1 {
            let m = s1 / n_p as f32;
            (s2 / n_p as f32 - m * m).max(0.0).sqrt()
        } else {
            0.0
        };

        let (ar, br) = (t.saturating_sub(30), t + 1);
        let (af, bf) = (t, (t + 31).min(n));
        let recent_max = self.band[ar..br].iter().copied().fold(f32::MIN, f32::max);
        let next_max = self.band[af..bf].iter().copied().fold(f32::MIN, f32::max);
        let snr_min = self.snr[a1..b1].iter().copied().fold(f32::MAX, f32::min);

        let syllabic_mod = window_mean(&self.mod_sq_sum, a1, b1).max(0.0).sqrt();
        let snr_mean_1s = window_mean(&self.snr_sum, a1, b1);
        let flux_rel = self.log_flux[t] - window_mean(&self.log_flux_sum, a1, b1);
        let secs = (b1 - a1) as f32 * 0.01;

        let values = [
            self.snr[t],
            window_mean(&self.snr_sum, a5, b5),
            snr_mean_1s,
            self.rms_snr[t],
            clamp(f.speech_band_db - f.rms_db, -40.0, 6.0),
            periodicity / k,
            speech_voicing / k,
            window_mean(&self.voiced_sum, a1, b1),
            pitch_step,
            clamp(pitch_spread, 0.0, 12.0),
            window_mean(&self.switch_sum, a1, b1) / secs.max(0.01),
            clamp(syllabic_mod, 0.0, 30.0),
            clamp(syllabic_mod / (snr_mean_1s.max(0.0) + 3.0), 0.0, 5.0),
            clamp((flat / k).max(1e-5).log10(), -5.0, 0.0),
            clamp((f.centroid_hz.max(50.0) / 1000.0).log2(), -4.5, 3.5),
            clamp(flux_rel, -10.0, 10.0),
            peak / k,
            clamp(recent_max - self.band[t], 0.0, 60.0),
            clamp(next_max - self.band[t], 0.0, 60.0),
            clamp(snr_min, -10.0, 60.0),
            window_mean(&self.speechy_sum, a1, b1),
            self.since_speechy[t] as f32 * 0.01,
            self.until_speechy[t] as f32 * 0.01,
            self.active_run[t] as f32 * 0.01,
            window_mean(&self.active_sum, a1, b1),
        ];
        row.copy_from_slice(&values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_match_the_row_length() {
        assert_eq!(CONTEXT_FEATURES.len(), N_CONTEXT);
    }

    #[test]
    fn noise_floor_follows_a_scene_cut_at_the_cut() {
        // 6 s of room tone at -60 dB, then 6 s at -45 dB, with bursts every second.
        let level: Vec<f32> = (0..1200)
            .map(|i| {
                let base = if i < 600 { -60.0 } else { -45.0 };
                if i % 100 < 40 { base + 25.0 } else { base }
            })
            .collect();
        let floor = noise_floor(&level);
        assert!((floor[100] + 60.0).abs() < 0.5, "{}", floor[100]);
        assert!((floor[590] + 60.0).abs() < 0.5, "{}", floor[590]);
        assert!((floor[610] + 45.0).abs() < 0.5, "{}", floor[610]);
        assert!((floor[1100] + 45.0).abs() < 0.5, "{}", floor[1100]);
    }

    #[test]
    fn distances_count_frames_since_the_last_flag_and_saturate() {
        let flags = [false, true, false, false, true, true, false];
        let d = distances(flags.iter().copied());
        assert_eq!(d, [MAX_REACH as u16, 0, 1, 2, 0, 0, 1]);
        let far = distances(std::iter::once(true).chain(std::iter::repeat_n(false, 300)));
        assert_eq!(far[300], MAX_REACH as u16);
    }

    #[test]
    fn run_lengths_label_each_frame_with_its_run() {
        let flags = [true, true, false, true, false, false, true, true, true];
        assert_eq!(run_lengths(&flags), [2, 2, 0, 1, 0, 0, 3, 3, 3]);
    }

    #[test]
    fn a_low_periodic_thump_is_not_speechy_but_a_voiced_speech_band_frame_is() {
        // 1 s of room tone, 0.3 s of a voiced frame type, 1 s of room tone.
        let tone = FrameSummary {
            rms_db: -60.0,
            speech_band_db: -63.0,
            periodicity: 0.2,
            ..FrameSummary::default()
        };
        let run = |voiced: FrameSummary| -> Vec<FrameSummary> {
            let mut v = vec![tone; 100];
            v.extend(std::iter::repeat_n(voiced, 30));
            v.extend(std::iter::repeat_n(tone, 100));
            v
        };
        // Periodic at 90 Hz with its power below the speech band (a heel thump)...
        let thump = run(FrameSummary {
            rms_db: -30.0,
            speech_band_db: -55.0,
            periodicity: 0.95,
            pitch_hz: 90.0,
            ..FrameSummary::default()
        });
        // ...and a vowel at 120 Hz with most of its power in the band.
        let vowel = run(FrameSummary {
            rms_db: -30.0,
            speech_band_db: -33.0,
            periodicity: 0.9,
            pitch_hz: 120.0,
            ..FrameSummary::default()
        });
        let speechy_frac = |frames: &[FrameSummary]| {
            let ctx = ContextFeatures::new(frames);
            let mut row = [0.0; N_CONTEXT];
            ctx.row(frames, 115, &mut row);
            let col = |name: &str| CONTEXT_FEATURES.iter().position(|&n| n == name).unwrap();
            (row[col("speechy_frac_1s")], row[col("active_run_s")])
        };
        let (thump_frac, thump_run) = speechy_frac(&thump);
        let (vowel_frac, vowel_run) = speechy_frac(&vowel);
        assert_eq!(thump_frac, 0.0);
        assert!(vowel_frac > 0.25, "{vowel_frac}");
        // Both are one 0.3 s active run (the 3-frame level mean widens it by a frame each side).
        assert!((thump_run - 0.3).abs() <= 0.021, "{thump_run}");
        assert!((vowel_run - 0.3).abs() <= 0.021, "{vowel_run}");
    }

    #[test]
    fn noise_floor_ignores_a_single_dropout() {
        let mut level = vec![-50.0f32; 500];
        level[250] = -120.0;
        let floor = noise_floor(&level);
        assert!(floor.iter().all(|&f| (f + 50.0).abs() < 1e-3));
    }

    #[test]
    fn rows_from_a_slice_with_margins_equal_the_whole_stems() {
        // Bursts of voiced speech-like frames over a room tone that changes level at frame 1700.
        let frames: Vec<FrameSummary> = (0..4000)
            .map(|i| {
                let base = if i < 1700 { -60.0 } else { -48.0 };
                let on = i % 37 < 20 && (i / 300) % 2 == 0;
                let db = base
                    + if on {
                        25.0 + (i % 7) as f32
                    } else {
                        (i % 3) as f32
                    };
                FrameSummary {
                    rms_db: db,
                    speech_band_db: db - 3.0,
                    periodicity: if on { 0.8 } else { 0.1 },
                    pitch_hz: if on {
                        120.0 + (i % 11) as f32 * 5.0
                    } else {
                        0.0
                    },
                    flatness: if on { 0.05 } else { 0.4 },
                    centroid_hz: if on { 900.0 } else { 2000.0 },
                    flux: (i % 5) as f32,
                    peakiness: if on { 0.6 } else { 0.1 },
                }
            })
            .collect();
        let whole = ContextFeatures::new(&frames);
        let (mut a, mut b) = ([0.0; N_CONTEXT], [0.0; N_CONTEXT]);
        // A slice in the middle (block-aligned start) and one reaching the stem's end.
        for (lo, hi) in [(1200, 2900), (2500, 4000)] {
            let part = ContextFeatures::new(&frames[lo..hi]);
            let last = if hi == frames.len() {
                hi
            } else {
                hi - MARGIN_FRAMES
            };
            for t in lo + MARGIN_FRAMES..last {
                whole.row(&frames, t, &mut a);
                part.row(&frames[lo..hi], t - lo, &mut b);
                for (x, y) in a.iter().zip(&b) {
                    assert!((x - y).abs() < 1e-3, "frame {t}: {a:?} vs {b:?}");
                }
            }
        }
    }

    #[test]
    fn levels_are_read_relative_to_the_floor() {
        let frame = |db: f32| FrameSummary {
            rms_db: db,
            speech_band_db: db - 2.0,
            ..FrameSummary::default()
        };
        let quiet: Vec<FrameSummary> = (0..600)
            .map(|i| frame(if i % 100 < 50 { -40.0 } else { -70.0 }))
            .collect();
        let loud: Vec<FrameSummary> = (0..600)
            .map(|i| frame(if i % 100 < 50 { -10.0 } else { -40.0 }))
            .collect();
        let (q, l) = (ContextFeatures::new(&quiet), ContextFeatures::new(&loud));
        let (mut rq, mut rl) = ([0.0; N_CONTEXT], [0.0; N_CONTEXT]);
        for t in [10, 300, 325, 380] {
            q.row(&quiet, t, &mut rq);
            l.row(&loud, t, &mut rl);
            for (a, b) in rq.iter().zip(&rl) {
                assert!((a - b).abs() < 1e-3, "frame {t}: {rq:?} vs {rl:?}");
            }
        }
    }
}
