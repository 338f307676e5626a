//! Content novelty inside a run of continuous music: where one piece gives way to another (a segue),
//! found by a two-window test on texture descriptors.
//!
//! Each texture window is described by the feature engine's texture values plus a few frame
//! statistics (centroid, flatness, onset strength, harmonic peakiness, voicing). Descriptors are
//! z-scored over the stem's audible windows. The level itself is not a descriptor: a mixer ducks
//! music under dialogue by 6-10 dB, and a level step inside a cue is not a change of piece (the
//! level still decides which windows are usable, below). At each point the mean descriptor of the `window_s`
//! before is compared with that of the `window_s` after (a guard of `guard_s` each side keeps the
//! crossfade itself out), each dimension scaled by the pooled spread inside the two windows: a change
//! of piece moves many dimensions for good, a verse->chorus change moves fewer, less. Windows far below
//! the local level (fade tails, pauses) are left out, so fades do not read as changes of content.
//!
//! **Same-piece veto.** A voice or a part entering inside one piece moves the spectral-shape
//! descriptors as much as a change of piece does. What it does not move is the pitch-class profile
//! (key): two pieces usually differ in it. A novelty peak whose two sides have the same mean
//! pitch-class profile (correlation distance under [`NoveltyConfig::same_piece_chroma`]) is not a
//! split. The profile is kept out of the z-scored descriptors: compared as a whole it is key-like,
//! dimension by dimension it is noise.
//!
//! **Beat continuity.** One recording keeps its beat grid through a section change; two pieces
//! crossfading rarely line theirs up. The [`super::beat`] reading at a peak moves the ratio the peak
//! needs ([`required_ratio`]): more where the grid carries through, less where it breaks, unchanged
//! where a side has no beat to read. It is evidence alongside the novelty, not a veto: the measured
//! margin between in-piece peaks and segues was too thin for either alone.

use crate::features::FeatureTrack;
use crate::features::chroma::N_CHROMA;
use crate::features::texture::{chroma_columns, shape_columns};
use crate::timeline::Span;

use super::activity::LevelTrack;
use super::beat::BeatConfig;

/// Settings of the content-change test.
#[derive(Debug, Clone, PartialEq)]
pub struct NoveltyConfig {
    /// Length of the windows compared either side of a point, seconds. 12 s rather than 8: a change of
    /// piece is permanent, a change inside a piece (a fill, a verse giving way to a chorus, a duck) is
    /// often short-lived and averages out over the longer window. On /tmp/dev-reels (10 segues) 8 s
    /// found 6 at a 2.0 ratio; 12 s with a 1.5 ratio found all 10 with no false split.
    pub window_s: f64,
    /// Gap left out either side of the point (the crossfade), seconds.
    pub guard_s: f64,
    /// Each side needs this many seconds of usable windows.
    pub min_side_s: f64,
    /// Texture windows more than this far below the local (±5 s) level peak are not used, dB: fade
    /// tails and pauses sink to the floor and are left out, but a cue that segues into one 12 dB
    /// quieter and is ducked 9 dB under dialogue must stay in. On /tmp/dev-reels 15 dB put the
    /// worst of 10 segue middles 2.25 s off (mean 0.55 s); 20-30 dB all within 1 s, 25 dB mean 0.42 s.
    pub level_drop_db: f32,
    /// A split needs a novelty peak at least this many times the run's median novelty (1.4 to 1.6
    /// scored the same on the dev reels; 1.5 is the middle of that plateau).
    pub peak_ratio: f64,
    /// No split closer than this to the start or end of a run, or to another split, seconds.
    pub min_segment_s: f64,
    /// A peak whose two sides' mean pitch-class profiles have a correlation distance (1 - Pearson r,
    /// 0 to 2) under this is inside one piece and is not split (0 disables). On /tmp/dev-reels and
    /// the seed-31 development reels the 32 true segue middles read 0.24-1.57, the one false split
    /// that is not a misplaced segue 0.03.
    pub same_piece_chroma: f64,
    /// A peak is also inside one piece when the profiles either side stay within
    /// [`NoveltyConfig::same_key_chroma`] of each other over both `window_s` and this longer window,
    /// seconds (0 disables): one key held for 20 s or more either side is one recording, while two
    /// pieces in related keys drift apart once the longer window reaches past the new piece's
    /// opening.
    pub same_key_window_s: f64,
    /// Largest profile distance, over both windows, that still reads as one key (see
    /// [`NoveltyConfig::same_key_window_s`]).
    pub same_key_chroma: f64,
    /// A change point found with the long windows is placed again with windows this long, seconds
    /// (0 disables): long windows find a change reliably but a piece's own drift within them moves
    /// their peak; short ones peak sharply at the change but alone would split inside pieces.
    pub refine_window_s: f64,
    /// The short windows' guard, seconds: each keeps this far from the point tested. Shorter than
    /// [`NoveltyConfig::guard_s`] because the short curve only places a change already found, and a
    /// narrower gap sharpens its peak: 0.75 s rather than 1 s put more segue sides within 0.5 s
    /// on the reels (228 -> 242 of 484) and on music the reels never use (482 -> 504 of 886); 0.5 s
    /// fewer (225, 482). The texture hop is 0.25 s, so these are the only steps between.
    pub refine_guard_s: f64,
    /// How far the short windows may move a change point, seconds.
    pub refine_radius_s: f64,
    /// Other local maxima of the long-window curve within this many seconds of a change point are
    /// rival places for it, and the short windows choose among them (0 disables): around a segue
    /// the long curve often has two humps, one where a window reaches a piece's own change.
    pub rival_radius_s: f64,
    /// A rival needs at least this share of the change point's long-window novelty.
    pub rival_share: f64,
    /// A change point between two pieces whose levels differ by at least this much (see
    /// [`piece_level_db`]) is moved towards the middle of the gain ramps, dB: in an equal-power
    /// crossfade the louder piece dominates the descriptors until its own ramp is well down, so
    /// the content turns over late into a quieter piece and early into a louder one.
    pub turnover_step_db: f32,
    /// Share of the equal-power turnover's offset (see [`turnover_share`]) that the change point
    /// is moved back, given the assumed crossfade (0 disables). The descriptors follow the
    /// louder piece only in part (level-like ones change with the mix's level in dB, whose
    /// middle lies nearer the ramps' middle), so the found point sits part way: 0.35-0.5 read
    /// the same on fourteen reel sets and on two samples of music the reels never use, 0.75 and
    /// 1 place fewer within 0.5 s (`docs/music-cues.md`, session 24).
    pub turnover_scale: f64,
    /// Settings of the beat-continuity reading (see [`super::beat`]).
    pub beat: BeatConfig,
    /// Change of the required novelty ratio per unit of beat continuity (0 disables the reading):
    /// a peak through which one beat grid carries needs more novelty, one where it breaks less.
    /// Weights 2.25-10 with the pivot at 0.87-0.88 tie on the development reels (leave-one-set-out
    /// folds 5.5-8); music they never use breaks the tie towards the steep end (5 -> 7.5: fewer
    /// false splits, the same on every dev reel; see `docs/music-cues.md`).
    pub beat_weight: f64,
    /// Continuity at which the required ratio is [`NoveltyConfig::peak_ratio`]: development segues
    /// read 0.69-0.96, peaks inside one piece 0.76-1.01 (with a beat both sides: 0.69-0.91 and
    /// 0.77-1.01).
    pub beat_pivot: f64,
    /// The required ratio never falls under this, however low the continuity: a peak at the curve's
    /// own noise level does not split on a broken grid alone (not fitted; 1.0-1.25 scored the same).
    pub beat_min_ratio: f64,
    /// A peak splits only where its ratio reaches this multiple of the required ratio (`stemscope
    /// analyze --segue-margin`). 1 is the rule as measured; more keeps only clearer changes, for
    /// music whose pieces change a lot within themselves (through-composed score). On twelve reel
    /// sets 1.5 makes 116 splits instead of 211, 112 of them at a true segue instead of 187
    /// (`docs/report-schema.md`, `segues[]`). Under 1 counts as 1: it never loosens the rule.
    pub segue_margin: f64,
    /// The required ratio is multiplied by the 20 s ([`NoveltyConfig::same_key_window_s`])
    /// pitch-class distance raised to minus this (the distance floored at 0.02; 0 disables): a
    /// change whose two sides move far apart in key needs less novelty, one whose key holds
    /// more. Fitted with [`NoveltyConfig::peak_factor`] and [`NoveltyConfig::secondary_factor`]
    /// as one logistic score (see [`change_points`] and `docs/music-cues.md`, session 23).
    pub key_exponent: f64,
    /// Factor on the required ratio at a peak of the curve (the top within `window_s` either side).
    pub peak_factor: f64,
    /// Factor on the required ratio at a secondary maximum: the top within 1 s either side but
    /// outranked within `window_s`, as where a stronger in-piece change lies a few seconds from a
    /// segue (0 disables: only peaks split).
    pub secondary_factor: f64,
    /// The required ratio is divided by `1 + |level step|` (dB, [`level_step_db`] at the change
    /// point, capped at [`MAX_LEVEL_STEP_DB`]; no reading: no factor) raised to this (0
    /// disables): two pieces at different levels need less novelty to split. Fitted with the
    /// other factors as one logistic score (session 27); it holds on music runs whose pieces
    /// share one level, so it is not the generator's level draws speaking (docs/music-cues.md).
    pub level_step_exponent: f64,
}

/// Level steps beyond this many dB count as this much in the split rule.
pub const MAX_LEVEL_STEP_DB: f64 = 40.0;

impl Default for NoveltyConfig {
    fn default() -> Self {
        NoveltyConfig {
            window_s: 12.0,
            guard_s: 1.0,
            min_side_s: 2.0,
            level_drop_db: 25.0,
            peak_ratio: 1.5,
            min_segment_s: 8.0,
            same_piece_chroma: 0.1,
            same_key_window_s: 20.0,
            same_key_chroma: 0.15,
            refine_window_s: 6.0,
            refine_guard_s: 0.75,
            refine_radius_s: 1.0,
            rival_radius_s: 6.0,
            rival_share: 0.8,
            turnover_step_db: 6.0,
            turnover_scale: 0.4,
            beat: BeatConfig::default(),
            beat_weight: 7.5,
            beat_pivot: 0.875,
            beat_min_ratio: 1.2,
            segue_margin: 1.0,
            key_exponent: 0.184,
            peak_factor: 1.149,
            secondary_factor: 1.447,
            level_step_exponent: 0.0854,
        }
    }
}

/// Texture descriptors of a stem on a regular grid.
#[derive(Debug, Clone, Default)]
pub struct Descriptors {
    pub hop_s: f64,
    pub len_s: f64,
    pub dims: usize,
    /// Row-major, `dims` values per window, z-scored over usable windows.
    pub values: Vec<f32>,
    /// Mean level of each window, dB.
    pub level_db: Vec<f32>,
    /// Whether a window is usable for the change test (audible, near the local level peak).
    pub usable: Vec<bool>,
    /// Pitch-class profile of each window, [`N_CHROMA`] values (not z-scored); empty when the
    /// track has none.
    pub chroma: Vec<f32>,
}

impl Descriptors {
    pub fn len(&self) -> usize {
        self.level_db.len()
    }

    pub fn is_empty(&self) -> bool {
        self.level_db.is_empty()
    }

    /// The time a change test at window `k` is about: the middle of the guard gap between the last
    /// window before and the first after, half a hop before window `k`'s centre (the before side
    /// ends one window earlier than the after side starts).
    fn test_time_s(&self, k: usize) -> f64 {
        k as f64 * self.hop_s + (self.len_s - self.hop_s) / 2.0
    }

    /// The windows lying wholly inside `run`, as a range of indices.
    fn windows_in(&self, run: &Span) -> std::ops::Range<usize> {
        let a0 = ((run.start_s / self.hop_s).ceil().max(0.0) as usize).min(self.len());
        let a1 = ((((run.end_s - self.len_s) / self.hop_s).floor() + 1.0).max(0.0) as usize)
            .min(self.len());
        a0..a1.max(a0)
    }

    /// The window whose change test is about time `t` (inverse of `test_time_s`).
    fn test_index(&self, t: f64) -> usize {
        ((t - (self.len_s - self.hop_s) / 2.0) / self.hop_s)
            .round()
            .max(0.0) as usize
    }

    /// The windows whose centres lie in `from_s..=to_s` (window `k` is centred at
    /// `k * hop_s + len_s / 2`).
    pub fn centred_within(&self, from_s: f64, to_s: f64) -> std::ops::Range<usize> {
        let index = |u: f64| (u - self.len_s / 2.0) / self.hop_s;
        let first = (index(from_s - 1e-9).ceil().max(0.0) as usize).min(self.len());
        let last = ((index(to_s + 1e-9).floor() + 1.0).max(0.0) as usize).min(self.len());
        first..last.max(first)
    }

    /// The descriptors of window `k` (`dims` values).
    pub fn row(&self, k: usize) -> &[f32] {
        &self.values[k * self.dims..(k + 1) * self.dims]
    }

    /// Builds the descriptors of every texture window; `audible` marks the music.
    pub fn build(
        track: &FeatureTrack,
        level: &LevelTrack,
        audible: &[Span],
        cfg: &NoveltyConfig,
    ) -> Descriptors {
        let hop_s = if track.texture_hop_s > 0.0 {
            track.texture_hop_s
        } else {
            0.25
        };
        let len_s = if track.texture_len_s > 0.0 {
            track.texture_len_s
        } else {
            1.0
        };
        let duration_s = level
            .duration_s()
            .max(track.frames.len() as f64 * track.frame_hop_s);
        let count = if duration_s >= len_s {
            ((duration_s - len_s) / hop_s).floor() as usize + 1
        } else {
            0
        };
        let chroma_cols = chroma_columns();
        let win_dims = track.windows.first().map_or(0, |w| w.values.len());
        let has_chroma = chroma_cols.len() == N_CHROMA && chroma_cols.end <= win_dims;
        // The spectral-shape columns only (not the pitch-class profile, nor anything appended later).
        let tex_cols: Vec<usize> = (0..shape_columns().end.min(win_dims)).collect();
        let tex_dims = tex_cols.len();
        let frame_dims = if track.frames.is_empty() {
            0
        } else {
            FRAME_DIMS
        };
        let dims = tex_dims + frame_dims;
        let mut values = vec![0f32; count * dims];
        let mut level_db = vec![super::activity::SILENCE_DB; count];
        let mut chroma = vec![0f32; if has_chroma { count * N_CHROMA } else { 0 }];
        for k in 0..count {
            let start = k as f64 * hop_s;
            let row = &mut values[k * dims..(k + 1) * dims];
            let (a, b) = (level.index_at(start), level.index_at(start + len_s));
            if b > a {
                level_db[k] =
                    (level.db[a..b].iter().map(|&x| x as f64).sum::<f64>() / (b - a) as f64) as f32;
            }
            if frame_dims > 0 {
                frame_stats(track, start, len_s, &mut row[..frame_dims]);
            }
            if tex_dims > 0 {
                let j = ((start / hop_s).round() as usize).min(track.windows.len() - 1);
                let w = &track.windows[j];
                for (dst, &c) in row[frame_dims..].iter_mut().zip(&tex_cols) {
                    *dst = w.values[c];
                }
                if has_chroma {
                    chroma[k * N_CHROMA..(k + 1) * N_CHROMA]
                        .copy_from_slice(&w.values[chroma_cols.clone()]);
                }
            }
            for v in row.iter_mut() {
                if !v.is_finite() {
                    *v = 0.0;
                }
            }
        }
        let local_peak = running_max(&level_db, (5.0 / hop_s).round() as usize);
        let usable = (0..count)
            .map(|k| {
                let (s, e) = (k as f64 * hop_s, k as f64 * hop_s + len_s);
                audible.iter().any(|sp| sp.start_s <= s && e <= sp.end_s)
                    && level_db[k] > local_peak[k] - cfg.level_drop_db
            })
            .collect::<Vec<bool>>();
        let mut d = Descriptors {
            hop_s,
            len_s,
            dims,
            values,
            level_db,
            usable,
            chroma,
        };
        d.zscore();
        d
    }

    /// Each dimension to zero mean, unit spread over the usable windows; constant dimensions to 0.
    fn zscore(&mut self) {
        let n = self.usable.iter().filter(|&&u| u).count();
        if n < 2 {
            return;
        }
        for d in 0..self.dims {
            let (mut s1, mut s2) = (0f64, 0f64);
            for k in (0..self.len()).filter(|&k| self.usable[k]) {
                let v = self.values[k * self.dims + d] as f64;
                s1 += v;
                s2 += v * v;
            }
            let mean = s1 / n as f64;
            let sd = (s2 / n as f64 - mean * mean).max(0.0).sqrt();
            for k in 0..self.len() {
                let v = &mut self.values[k * self.dims + d];
                *v = if sd > 1e-6 {
                    ((*v as f64 - mean) / sd) as f32
                } else {
                    0.0
                };
            }
        }
    }
}

/// Frame statistics per window: log centroid, flatness, log onset strength, peakiness, voicing.
const FRAME_DIMS: usize = 5;

fn frame_stats(track: &FeatureTrack, start_s: f64, len_s: f64, out: &mut [f32]) {
    let hop = track.frame_hop_s.max(1e-6);
    let a = ((start_s / hop).floor() as usize).min(track.frames.len());
    let b = (((start_s + len_s) / hop).floor() as usize).min(track.frames.len());
    if b <= a {
        return;
    }
    let mut acc = [0f64; FRAME_DIMS];
    for f in &track.frames[a..b] {
        acc[0] += (f.centroid_hz.max(0.0) as f64 + 1.0).ln();
        acc[1] += f.flatness as f64;
        acc[2] += (f.flux.max(0.0) as f64).ln_1p();
        acc[3] += f.peakiness as f64;
        acc[4] += f.periodicity as f64;
    }
    for (o, s) in out.iter_mut().zip(acc) {
        *o = (s / (b - a) as f64) as f32;
    }
}

/// Maximum over `[k - radius, k + radius]`.
fn running_max(x: &[f32], radius: usize) -> Vec<f32> {
    (0..x.len())
        .map(|k| {
            let a = k.saturating_sub(radius);
            let b = (k + radius + 1).min(x.len());
            x[a..b].iter().copied().fold(f32::MIN, f32::max)
        })
        .collect()
}

/// Novelty at each texture window of one audible run: `(time tested, distance)` where both sides have
/// enough usable windows.
pub fn novelty_curve(d: &Descriptors, run: &Span, cfg: &NoveltyConfig) -> Vec<(f64, f64)> {
    // Level alone is not musical content (ducking moves it inside a cue): without timbre
    // descriptors there is no change test.
    if d.is_empty() || d.hop_s <= 0.0 || d.dims == 0 {
        return Vec::new();
    }
    let std::ops::Range { start: a0, end: a1 } = d.windows_in(run);
    if a1 <= a0 + 1 {
        return Vec::new();
    }
    let n = a1 - a0;
    let dims = d.dims;
    // Prefix sums of usable windows: count, sum and sum of squares per dimension.
    let mut cnt = vec![0usize; n + 1];
    let mut s1 = vec![0f64; (n + 1) * dims];
    let mut s2 = vec![0f64; (n + 1) * dims];
    for i in 0..n {
        let k = a0 + i;
        let u = d.usable[k];
        cnt[i + 1] = cnt[i] + usize::from(u);
        let row = d.row(k);
        for j in 0..dims {
            let v = if u { row[j] as f64 } else { 0.0 };
            s1[(i + 1) * dims + j] = s1[i * dims + j] + v;
            s2[(i + 1) * dims + j] = s2[i * dims + j] + v * v;
        }
    }
    let w = (cfg.window_s / d.hop_s).round() as usize;
    let g = (cfg.guard_s / d.hop_s).round() as usize;
    let min_side = ((cfg.min_side_s / d.hop_s).round() as usize).max(2);
    let mut out = Vec::new();
    for i in 0..n {
        let (b0, b1) = (i.saturating_sub(g + w), i.saturating_sub(g));
        let (c0, c1) = ((i + g).min(n), (i + g + w).min(n));
        let (nb, nc) = (cnt[b1] - cnt[b0], cnt[c1] - cnt[c0]);
        if i < g || nb < min_side || nc < min_side {
            continue;
        }
        let mut acc = 0f64;
        for j in 0..dims {
            let (mb, mc) = (
                (s1[b1 * dims + j] - s1[b0 * dims + j]) / nb as f64,
                (s1[c1 * dims + j] - s1[c0 * dims + j]) / nc as f64,
            );
            let vb = ((s2[b1 * dims + j] - s2[b0 * dims + j]) / nb as f64 - mb * mb).max(0.0);
            let vc = ((s2[c1 * dims + j] - s2[c0 * dims + j]) / nc as f64 - mc * mc).max(0.0);
            acc += (mb - mc).powi(2) / (0.5 * (vb + vc) + 0.1);
        }
        out.push((d.test_time_s(a0 + i), (acc / dims as f64).sqrt()));
    }
    out
}

/// Correlation distance (1 - Pearson r) between the mean pitch-class profiles of the usable windows
/// either side of `t` in `run` (the same windows and guard as the novelty test), or `None` without
/// profiles or with too few usable windows a side.
pub fn chroma_distance(d: &Descriptors, run: &Span, t: f64, cfg: &NoveltyConfig) -> Option<f64> {
    chroma_distance_over(d, run, t, cfg.window_s, cfg)
}

/// [`chroma_distance`] with sides [`NoveltyConfig::same_key_window_s`] long (`None` when that is 0).
pub fn key_distance(d: &Descriptors, run: &Span, t: f64, cfg: &NoveltyConfig) -> Option<f64> {
    (cfg.same_key_window_s > 0.0)
        .then(|| chroma_distance_over(d, run, t, cfg.same_key_window_s, cfg))
        .flatten()
}

/// [`chroma_distance`] with sides `window_s` long.
fn chroma_distance_over(
    d: &Descriptors,
    run: &Span,
    t: f64,
    window_s: f64,
    cfg: &NoveltyConfig,
) -> Option<f64> {
    if d.chroma.len() != d.len() * N_CHROMA || d.hop_s <= 0.0 {
        return None;
    }
    let std::ops::Range { start: a0, end: a1 } = d.windows_in(run);
    let i = d.test_index(t);
    let w = (window_s / d.hop_s).round() as usize;
    let g = (cfg.guard_s / d.hop_s).round() as usize;
    let min_side = ((cfg.min_side_s / d.hop_s).round() as usize).max(2);
    let side = |lo: usize, hi: usize| {
        let mut acc = [0f32; N_CHROMA];
        let mut n = 0usize;
        for k in lo.max(a0)..hi.min(a1) {
            if d.usable[k] {
                n += 1;
                for (a, &v) in acc
                    .iter_mut()
                    .zip(&d.chroma[k * N_CHROMA..(k + 1) * N_CHROMA])
                {
                    *a += v;
                }
            }
        }
        (n >= min_side).then_some(acc)
    };
    let before = side(i.saturating_sub(g + w), i.saturating_sub(g))?;
    let after = side(i + g, i + g + w)?;
    Some(1.0 - crate::detect::pearson(&before, &after)? as f64)
}

/// Whether both sides of `t` in `run` are one piece by their pitch-class profiles: the profiles
/// over `window_s` either side are nearly the same ([`NoveltyConfig::same_piece_chroma`]), or they
/// stay close over both `window_s` and [`NoveltyConfig::same_key_window_s`]
/// ([`NoveltyConfig::same_key_chroma`]). False without profiles.
pub fn same_piece(d: &Descriptors, run: &Span, t: f64, cfg: &NoveltyConfig) -> bool {
    let Some(near) = chroma_distance(d, run, t, cfg) else {
        return false;
    };
    if near < cfg.same_piece_chroma {
        return true;
    }
    near < cfg.same_key_chroma
        && cfg.same_key_window_s > 0.0
        && chroma_distance_over(d, run, t, cfg.same_key_window_s, cfg)
            .is_some_and(|far| far < cfg.same_key_chroma)
}

/// The run's median novelty and its peaks: the [`maxima`] that top the curve within `window_s`
/// either side (the flanks of one change, which the test sees from up to `window_s` away, are not
/// changes of their own), as `(time, novelty)` in time order.
pub fn peaks(curve: &[(f64, f64)], run: &Span, cfg: &NoveltyConfig) -> (f64, Vec<(f64, f64)>) {
    let (median, found) = maxima(curve, run, cfg);
    let peaks = found
        .into_iter()
        .filter(|&(_, _, is_peak)| is_peak)
        .map(|(t, v, _)| (t, v))
        .collect();
    (median, peaks)
}

/// The novelty ratio (peak over the run's median) a peak needs to split, given the beat
/// continuity through it (`None`: no evidence, e.g. a side without a beat):
/// [`NoveltyConfig::peak_ratio`] moved along the line `beat_weight * (continuity - beat_pivot)`,
/// never under [`NoveltyConfig::beat_min_ratio`].
pub fn required_ratio(continuity: Option<f64>, cfg: &NoveltyConfig) -> f64 {
    match continuity {
        Some(c) if cfg.beat_weight != 0.0 => {
            (cfg.peak_ratio + cfg.beat_weight * (c - cfg.beat_pivot)).max(cfg.beat_min_ratio)
        }
        _ => cfg.peak_ratio,
    }
}

/// A change point of the split rule: where the long-window curve peaked, and the evidence there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// Time of the novelty peak, seconds.
    pub at_s: f64,
    /// The peak's novelty over the run's median.
    pub ratio: f64,
    /// The ratio the rule required there ([`candidate_required_ratio`]).
    pub required: f64,
}

/// The run's median novelty and its candidate change points: local maxima of the curve (the top
/// within 1 s either side) at the median or over, at least `min_segment_s` inside the run's ends,
/// as `(time, novelty, is_peak)` in time order; `is_peak` when the point also tops the curve
/// within `window_s` either side (see [`peaks`]).
pub fn maxima(
    curve: &[(f64, f64)],
    run: &Span,
    cfg: &NoveltyConfig,
) -> (f64, Vec<(f64, f64, bool)>) {
    if curve.is_empty() {
        return (0.0, Vec::new());
    }
    let mut vals: Vec<f64> = curve.iter().map(|&(_, v)| v).collect();
    vals.sort_by(f64::total_cmp);
    let median = vals[vals.len() / 2];
    let tops_within = |t: f64, v: f64, r: f64| {
        let a = curve.partition_point(|&(u, _)| u < t - r);
        let b = curve.partition_point(|&(u, _)| u <= t + r);
        curve[a..b].iter().all(|&(_, w)| w <= v)
    };
    let found = curve
        .iter()
        .filter(|&&(t, v)| {
            v >= median
                && t >= run.start_s + cfg.min_segment_s
                && t <= run.end_s - cfg.min_segment_s
                && tops_within(t, v, 1.0)
        })
        .map(|&(t, v)| (t, v, tops_within(t, v, cfg.window_s)))
        .collect();
    (median, found)
}

/// The ratio a candidate needs: [`required_ratio`] for the beat reading, times
/// [`NoveltyConfig::peak_factor`] or [`NoveltyConfig::secondary_factor`], times the 20 s
/// pitch-class distance `key_distance` to the power `-key_exponent` (no distance: no factor),
/// times [`NoveltyConfig::segue_margin`] (at least 1).
pub fn candidate_required_ratio(
    continuity: Option<f64>,
    is_peak: bool,
    key_distance: Option<f64>,
    level_step_db: Option<f64>,
    cfg: &NoveltyConfig,
) -> f64 {
    let key = match key_distance {
        Some(d) if cfg.key_exponent != 0.0 => d.max(0.02).powf(-cfg.key_exponent),
        _ => 1.0,
    };
    required_ratio(continuity, cfg)
        * shape_factor(is_peak, cfg)
        * key
        * step_factor(level_step_db, cfg)
        * cfg.segue_margin.max(1.0)
}

/// `(1 + |step|)^-level_step_exponent`, the step capped at [`MAX_LEVEL_STEP_DB`]; 1 without one.
fn step_factor(level_step_db: Option<f64>, cfg: &NoveltyConfig) -> f64 {
    match level_step_db {
        Some(step) if cfg.level_step_exponent != 0.0 && step.is_finite() => {
            (1.0 + step.abs().min(MAX_LEVEL_STEP_DB)).powf(-cfg.level_step_exponent)
        }
        _ => 1.0,
    }
}

/// [`NoveltyConfig::peak_factor`] at a peak, [`NoveltyConfig::secondary_factor`] elsewhere.
fn shape_factor(is_peak: bool, cfg: &NoveltyConfig) -> f64 {
    if is_peak {
        cfg.peak_factor
    } else {
        cfg.secondary_factor
    }
}

/// Change points of one run. Every candidate of [`maxima`] is scored by its novelty ratio over
/// the ratio it needs ([`candidate_required_ratio`]: the beat reading, peak or secondary, the 20 s
/// pitch-class distance); those at 1 or over, and not inside one piece by `same_piece`, split,
/// strongest score first, none within `min_segment_s` of another. In time order.
///
/// `ln(ratio / needed)` is a logistic score over four inputs (the log ratio over the beat rule's
/// requirement, the log 20 s pitch-class distance, peak or not, `ln(1 + |level step|)`) fitted on
/// sixteen reel sets, and the factors are its weights: chosen leaving each set out in turn, it
/// found more segues with fewer false splits on the set left out and on music the reels never use
/// than the peaks-only rule (`docs/music-cues.md`, sessions 23 and 27).
pub fn change_points(
    curve: &[(f64, f64)],
    run: &Span,
    cfg: &NoveltyConfig,
    same_piece: impl Fn(f64) -> bool,
    continuity: impl Fn(f64) -> Option<f64>,
    key_distance: impl Fn(f64) -> Option<f64>,
    level_step_db: impl Fn(f64) -> Option<f64>,
) -> Vec<ChangePoint> {
    let (median, found) = maxima(curve, run, cfg);
    if median <= 0.0 {
        return Vec::new();
    }
    // Cheapest test first: the beat and key readings are only taken where the ratio could pass
    // (the beat rule's floor, the largest key factor: a correlation distance is at most 2).
    let lowest_beat = if cfg.beat_weight != 0.0 {
        cfg.beat_min_ratio.min(cfg.peak_ratio)
    } else {
        cfg.peak_ratio
    };
    let lowest_key = 2f64
        .powf(-cfg.key_exponent)
        .min(0.02f64.powf(-cfg.key_exponent))
        .min(1.0);
    let mut cands: Vec<ChangePoint> = found
        .into_iter()
        .filter_map(|(t, v, is_peak)| {
            // The level step is cheap to read and known exactly; only the beat and key readings
            // are bounded.
            let shape = shape_factor(is_peak, cfg);
            let step = (cfg.level_step_exponent != 0.0)
                .then(|| level_step_db(t))
                .flatten();
            let bound = lowest_beat
                * shape
                * lowest_key
                * step_factor(step, cfg)
                * cfg.segue_margin.max(1.0);
            if shape <= 0.0 || v < bound * median {
                return None;
            }
            let beat = (cfg.beat_weight != 0.0).then(|| continuity(t)).flatten();
            let key = (cfg.key_exponent != 0.0).then(|| key_distance(t)).flatten();
            let required = candidate_required_ratio(beat, is_peak, key, step, cfg);
            (v >= required * median && !same_piece(t)).then_some(ChangePoint {
                at_s: t,
                ratio: v / median,
                required,
            })
        })
        .collect();
    cands.sort_by(|a, b| (b.ratio / b.required).total_cmp(&(a.ratio / a.required)));
    let mut picked: Vec<ChangePoint> = Vec::new();
    for c in cands {
        if picked
            .iter()
            .all(|p| (p.at_s - c.at_s).abs() >= cfg.min_segment_s)
        {
            picked.push(c);
        }
    }
    picked.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    picked
}

/// The change points `splits` of `run` (found on the long-window curve `long`), each moved to the
/// strongest short-window novelty within [`NoveltyConfig::refine_radius_s`] of it or of one of its
/// rivals: the other local maxima of `long` within [`NoveltyConfig::rival_radius_s`] that reach
/// [`NoveltyConfig::rival_share`] of its novelty and keep `min_segment_s` from the other change
/// points. Unchanged where the short windows see nothing. One short-window curve serves every
/// change point of the run.
pub fn refine_change_points(
    d: &Descriptors,
    run: &Span,
    long: &[(f64, f64)],
    splits: Vec<f64>,
    cfg: &NoveltyConfig,
) -> Vec<f64> {
    if splits.is_empty() || cfg.refine_window_s <= 0.0 || cfg.refine_radius_s <= 0.0 {
        return splits;
    }
    let short = NoveltyConfig {
        window_s: cfg.refine_window_s,
        min_side_s: cfg.min_side_s.min(cfg.refine_window_s / 4.0),
        guard_s: cfg.refine_guard_s,
        ..cfg.clone()
    };
    let curve = novelty_curve(d, run, &short);
    let span = |c: &[(f64, f64)], t: f64, r: f64| {
        c.partition_point(|&(u, _)| u < t - r)..c.partition_point(|&(u, _)| u <= t + r)
    };
    // The strongest short-window point within the refine radius of `t`.
    let best_near = |t: f64| {
        curve[span(&curve, t, cfg.refine_radius_s)]
            .iter()
            .copied()
            .max_by(|x, y| x.1.total_cmp(&y.1))
    };
    // Local maxima of the long curve: no higher point within 1 s (one flank of a hump is not a place).
    let is_local_max = |i: usize| {
        let (u, v) = long[i];
        long[span(long, u, 1.0)].iter().all(|&(_, w)| w <= v)
    };
    let mut placed: Vec<f64> = Vec::with_capacity(splits.len());
    for (k, &t) in splits.iter().enumerate() {
        let at_t = long[span(long, t, 0.0)].first().map_or(0.0, |&(_, v)| v);
        // A rival keeps `min_segment_s` from the points already placed and those still to come,
        // so moving to one never brings two change points closer than the refinement alone can.
        let clear = |u: f64| {
            placed
                .iter()
                .chain(&splits[k + 1..])
                .all(|&s| (s - u).abs() >= cfg.min_segment_s)
        };
        let rivals = span(long, t, cfg.rival_radius_s.max(0.0))
            .filter(|&i| {
                let (u, v) = long[i];
                u != t
                    && v >= cfg.rival_share * at_t
                    && u >= run.start_s + cfg.min_segment_s
                    && u <= run.end_s - cfg.min_segment_s
                    && clear(u)
                    && is_local_max(i)
            })
            .map(|i| long[i].0);
        // The change point itself first, so that a tie keeps it.
        let best = std::iter::once(t)
            .chain(rivals)
            .filter_map(best_near)
            .reduce(|best, x| if x.1 > best.1 { x } else { best });
        placed.push(best.map_or(t, |(u, _)| u));
    }
    placed
}

/// Level step across `t` in `run`, dB: the 80th percentile of the usable windows' level whose
/// centres lie 2-8 s after `t`, less that of those 2-8 s before (negative: the later side is
/// quieter); `None` with fewer than 4 such windows a side. The percentile reads each side's music
/// rather than its dips under dialogue. The split rule reads it at every candidate
/// ([`NoveltyConfig::level_step_exponent`]); the placements read whole pieces instead
/// ([`piece_level_db`]), which agree better with the pieces' own levels (docs/music-cues.md,
/// session 24).
pub fn level_step_db(d: &Descriptors, run: &Span, t: f64) -> Option<f32> {
    let side = |lo: f64, hi: f64| {
        // Only the windows near the side are visited, not the whole run.
        let (in_run, near) = (d.windows_in(run), d.centred_within(lo, hi));
        let mut levels: Vec<f32> = (in_run.start.max(near.start)..in_run.end.min(near.end))
            .filter(|&k| {
                let centre = k as f64 * d.hop_s + d.len_s / 2.0;
                d.usable[k] && centre > lo && centre < hi
            })
            .map(|k| d.level_db[k])
            .collect();
        if levels.len() >= 4 {
            crate::quantile::select(&mut levels, 0.8)
        } else {
            None
        }
    };
    Some(side(t + 2.0, t + 8.0)? - side(t - 8.0, t - 2.0)?)
}

/// Where an equal-power crossfade's content turns over, as a share of the crossfade from its
/// middle, for a later piece `step_db` louder than the earlier (negative: quieter). With gains
/// `cos` and `sin` of a phase running 0 to pi/2, the two powers are equal where
/// `tan(phase) = 10^(-step/20)`: at the middle for equal levels, 0.39 of the crossfade late into
/// a piece 15 dB quieter and as much early into one 15 dB louder.
pub fn turnover_share(step_db: f32) -> f64 {
    (10f64.powf(-f64::from(step_db) / 20.0).atan() / std::f64::consts::FRAC_PI_2) - 0.5
}

/// Level of the music between `from_s` and `to_s` in `run`, dB: the power mean of the windows
/// lying wholly inside, gated 10 dB under their ungated power mean by loudness integration's
/// relative gate ([`crate::loudness::gating::relative_gated_energy`]; no absolute gate, so only
/// level differences count), so a piece's pauses and its dips under dialogue weigh little, the
/// way a cue's integrated loudness reads it. `None` with fewer than 4 windows.
pub fn piece_level_db(d: &Descriptors, run: &Span, from_s: f64, to_s: f64) -> Option<f32> {
    let windows = d.windows_in(run).filter(|&k| {
        let start = k as f64 * d.hop_s;
        start >= from_s && start + d.len_s <= to_s
    });
    if windows.clone().count() < 4 {
        return None;
    }
    let powers = windows.map(|k| 10f64.powf(f64::from(d.level_db[k]) / 10.0));
    crate::loudness::gating::relative_gated_energy(powers).map(|p| (10.0 * p.log10()) as f32)
}

/// The level of each piece of `run` cut at `splits` (in time order; one more than the splits),
/// read by [`piece_level_db`] between its neighbouring change points (or the run's ends), half a
/// crossfade (`crossfade_s`) clear of them. Each piece is read once though two change points
/// compare it.
pub fn piece_levels(
    d: &Descriptors,
    run: &Span,
    splits: &[f64],
    crossfade_s: f64,
) -> Vec<Option<f32>> {
    let half = crossfade_s / 2.0;
    let bounds: Vec<f64> = std::iter::once(run.start_s - half)
        .chain(splits.iter().copied())
        .chain(std::iter::once(run.end_s + half))
        .collect();
    bounds
        .windows(2)
        .map(|w| piece_level_db(d, run, w[0] + half, w[1] - half))
        .collect()
}

/// The change points `splits` of `run` (in time order), each between two pieces whose levels
/// differ by [`NoveltyConfig::turnover_step_db`] or more moved back towards the middle of the
/// gain ramps by [`NoveltyConfig::turnover_scale`] of the equal-power turnover offset
/// ([`turnover_share`] of `crossfade_s`). Each piece's level is read by [`piece_level_db`]
/// between its neighbouring change points (or the run's ends), half a crossfade clear of them.
pub fn place_by_level_step(
    d: &Descriptors,
    run: &Span,
    splits: Vec<f64>,
    crossfade_s: f64,
    cfg: &NoveltyConfig,
) -> Vec<f64> {
    if cfg.turnover_scale <= 0.0 || crossfade_s <= 0.0 {
        return splits;
    }
    let levels = piece_levels(d, run, &splits, crossfade_s);
    splits
        .iter()
        .zip(levels.windows(2))
        .map(|(&t, pair)| match (pair[0], pair[1]) {
            (Some(b), Some(a)) if (a - b).abs() >= cfg.turnover_step_db => {
                t - cfg.turnover_scale * turnover_share(a - b) * crossfade_s
            }
            _ => t,
        })
        .collect()
}
