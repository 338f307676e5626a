//! Sung vocals on the music stem, and the song/score decision per cue.
//!
//! 1. The vocal model ([`crate::model::VocalModel`]) gives a probability of a voice per texture
//!    window (1 s windows every 0.25 s).
//! 2. Dialogue bleed: where the dialogue stem carries the same speech at the same moment, the voice on
//!    the music stem is bleed, not a song. Both stems' speech-band level trajectories (10 ms frames)
//!    are detrended (a 250 ms moving average removed, so that ducking and phrase-level level changes
//!    do not count) and correlated over 2 s around each window; a correlation above
//!    [`BLEED_CORRELATION`] scales the window's probability down, to zero at [`BLEED_CORRELATION_FULL`].
//!    An independent voice over dialogue (a song under a scene) does not follow the lines' syllables,
//!    so it is kept.
//! 3. Stereo image: a lead voice is mixed to the centre, score spreads wide. Where the music stem
//!    has a front pair, each window's mid/side balance in the speech band
//!    ([`crate::features::image`]) is compared with the stem's own median balance (over the windows
//!    within [`IMAGE_AUDIBLE_DB`] of its loud ones), and [`IMAGE_WEIGHT`] (0.3) times that excess,
//!    held within [`IMAGE_RANGE_DB`] (-6 to +2 dB), is added to the window's log-odds. Relative to
//!    the stem, so a mono or dual-mono stem (no side at all) reads no evidence; capped low on the
//!    centre side, so a mono soloist panned centre in a stereo score stem gains at most 0.6 in
//!    log-odds, while a wide window can lose up to 1.8: the cue says more against a lead voice than
//!    for one. Measured: models/README.md, "Session 22".
//! 4. Temporal smoothing: a two-state hidden Markov model (no voice / voice) decoded by Viterbi. Its
//!    emission is the model probability relative to the prior, its switch probability per window is
//!    the model file's `smoothing.switch_prob` (0.02: a state lasts ~12 s on average a priori, so a
//!    single confident window does not flip it but a sung phrase of a second or two does). Voice
//!    windows become segments from half a hop before the first window centre to half a hop after
//!    the last, plus `end_pad_s` (0.25 s): a 1 s window reads as voice only while most of it is
//!    sung, so without it the ends fell early (median 0.17 s before the truth's on the development
//!    reels, with step 5; 0.42 s without) while the starts did not (median 0.08 s early). Gaps
//!    under `min_gap_s` are then filled and segments under `min_segment_s` dropped.
//! 5. The cue rule ([`classify_cue`], parameters in the model file's `cue_rule`) reads the
//!    **confident windows** of the cue: those whose probability is at least `window_p` (0.7), each
//!    counting one window hop (0.25 s). A cue is a **song** when it holds at least `min_vocal_s`
//!    seconds of them (2 s; half the cue for cues shorter than 4 s) AND either they cover at least
//!    `min_vocal_ratio` of the cue (15%) or last at least `sure_vocal_s` (15 s). Why not the
//!    smoothed segments: the smoothing joins long stretches of middling probability into segments
//!    as readily as sung phrases; a sung phrase has confident windows, and counting only those lets
//!    the thresholds drop, which finds more of the weakly detected songs while calling fewer score
//!    cues song (on every cross-validation seed). It does not cure the orchestral strings that the
//!    model reads as voice: those carry confident windows too (models/README.md). So a 2 s backing
//!    "ooh" in a score cue is not a song, a song with a long instrumental intro (or a long cue whose
//!    last 20 s are sung) still is, and a cue of middling probability is score. Model files without
//!    `window_p` (before session 15) keep their rule on the smoothed segments (4 s, 20%, 15 s).
//!    Measured on the grouped cross-validation cue table: models/README.md, "Session 15".
//!    The cue's reported `vocal_s` and `vocal_ratio` stay those of the smoothed segments (the
//!    report's vocal track); the kind and the rule's margin in the confidence come from the rule.
//! 6. Songs re-read ([`classify_cues`]): once the rule has called a cue a song, the segments are
//!    decoded again with the emission's reference probability lowered from `prior` (0.5) to
//!    `smoothing.song_prior` (0.2) for the windows whose centre lies in a song cue, so that a
//!    window of middling probability there reads as voice. Why: the model is calibrated over all
//!    music (of the development reels' windows at p 0.3-0.4, 39% are sung), but inside a song a
//!    voice is far likelier: there, windows at p 0.1-0.2 are sung 70% of the time, and most of
//!    the frames the context-free decoding missed were weakly detected lines of songs. The kinds
//!    are not re-decided (the rule reads confident windows, which the re-reading does not change);
//!    score cues and the music outside cues keep the context-free reading, so a choir "ooh" in a
//!    score cue stays as it was. The cost: a score cue the rule wrongly calls a song has its
//!    middling strings read as voice too. Measured: models/README.md, "Session 17".
//!    Measured in session 18, nothing kept (models/README.md, "Session 18"): on the development
//!    reels the re-read adds 44 s of false voice to the five score cues called song (three
//!    orchestral strings cues called song by the narrowest margins, two cues holding a
//!    neighbouring song's voice at a misplaced segue). Re-reading only the song cues whose
//!    confidence is at least 0.75 removed most of it (voc_F1 up on three development sets, by
//!    0.039 on seed 202) but took weak lines from the real songs of as low a confidence, and was
//!    worse on the dev set and on held-out seed 7; no statistic of the window probabilities
//!    (phrase rises, autocorrelation, runs, quantiles) tells those strings from those songs.

use crate::features::image::FrontImage;
use crate::features::{FeatureTrack, FrameSummary};
use crate::model::{CueRule, Smoothing, VocalModel, logit, sigmoid};
use crate::quantile;
use crate::timeline::{CueKind, Span};

/// Log-odds added per dB of a window's centre excess over the stem's median (step 3 of the module
/// docs). Chosen with [`IMAGE_RANGE_DB`] by replaying the detector on eleven reel sets; a plateau
/// from 0.2 to 0.3 (models/README.md, "Session 22").
pub const IMAGE_WEIGHT: f32 = 0.3;
/// The range the centre excess counts within, dB (wide side first).
pub const IMAGE_RANGE_DB: (f32, f32) = (-6.0, 2.0);
/// Windows whose front-pair band energy is more than this under the stem's 95th percentile carry no
/// image evidence and do not set the median, dB: a fade tail or dither has no image to speak of.
pub const IMAGE_AUDIBLE_DB: f64 = 40.0;

/// Correlation of detrended MX and DX speech-band trajectories from which a voice counts as bleed.
pub const BLEED_CORRELATION: f32 = 0.5;
/// Correlation at which the voice is wholly bleed (probability scaled to zero).
pub const BLEED_CORRELATION_FULL: f32 = 0.8;

/// Vocal activity over time on the music stem.
#[derive(Debug, Clone, Default)]
pub struct VocalActivity {
    /// Probability of sung vocals per texture window (after the dialogue-bleed correction).
    pub probability: Vec<f32>,
    /// Start of each texture window, seconds.
    pub window_start_s: Vec<f64>,
    /// Texture window length, seconds.
    pub window_len_s: f64,
    /// Smoothed vocal segments.
    pub segments: Vec<Span>,
    /// The song/score rule of the model that produced this.
    pub rule: CueRule,
    /// The smoothing settings of that model (the segments are re-read once the cues are known).
    pub smoothing: Smoothing,
    /// Problems that kept the detector from running (reported as warnings).
    pub warnings: Vec<String>,
}

/// The song/score decision for one cue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CueVocals {
    pub kind: CueKind,
    pub vocal_s: f64,
    pub vocal_ratio: f64,
    pub confidence: f64,
}

/// Vocal activity on the music stem `mx`, using the dialogue stem `dx` (when there is one) to tell
/// dialogue bleed from a sung or rapped voice, and the music stem's front image (when it has a
/// front pair) as evidence for and against a centred voice.
pub fn detect(
    mx: &FeatureTrack,
    dx: Option<&FeatureTrack>,
    image: Option<&FrontImage>,
    model: &VocalModel,
) -> VocalActivity {
    let mut activity = VocalActivity {
        window_start_s: mx.windows.iter().map(|w| w.start_s).collect(),
        window_len_s: mx.texture_len_s,
        rule: model.cue_rule.clone(),
        smoothing: model.smoothing.clone(),
        ..VocalActivity::default()
    };
    let mut p = match model.predict(&mx.windows) {
        Ok(p) => p,
        Err(e) => {
            activity
                .warnings
                .push(format!("vocal detection skipped: {e}"));
            return activity;
        }
    };
    if let Some(dx) = dx {
        suppress_bleed(&mut p, mx, dx);
    }
    if let Some(image) = image {
        add_image_evidence(&mut p, mx, image);
    }
    activity.segments = smooth(
        &p,
        &activity.window_start_s,
        mx.texture_len_s,
        &model.smoothing,
    );
    activity.probability = p;
    activity
}

/// Each window's centre excess in dB: its mid/side balance less the stem's median balance, `None`
/// where the window is not covered by the image or is too quiet to read (step 3 of the module docs).
pub fn centre_excess_db(mx: &FeatureTrack, image: &FrontImage) -> Vec<Option<f32>> {
    // (energy, balance in dB) per window; a side of nothing reads as 60 dB of centre.
    let read: Vec<Option<(f64, f64)>> = mx
        .windows
        .iter()
        .map(|w| {
            let (mid, side) = image.energy(w.start_s, mx.texture_len_s)?;
            let energy = mid + side;
            (energy > 0.0).then(|| (energy, 10.0 * (mid / side.max(mid * 1e-6)).log10()))
        })
        .collect();
    let mut energies: Vec<f64> = read.iter().flatten().map(|&(e, _)| e).collect();
    energies.sort_by(f64::total_cmp);
    let Some(loud) = quantile::of_sorted(&energies, 0.95) else {
        return vec![None; read.len()];
    };
    let floor = loud * 10f64.powf(-IMAGE_AUDIBLE_DB / 10.0);
    let audible = |r: &Option<(f64, f64)>| r.filter(|&(e, _)| e >= floor);
    let mut balances: Vec<f64> = read.iter().filter_map(audible).map(|(_, b)| b).collect();
    balances.sort_by(f64::total_cmp);
    let Some(median) = quantile::of_sorted(&balances, 0.5) else {
        return vec![None; read.len()];
    };
    read.iter()
        .map(|r| audible(r).map(|(_, b)| (b - median) as f32))
        .collect()
}

/// Adds the stereo-image evidence to the window probabilities (step 3 of the module docs).
fn add_image_evidence(p: &mut [f32], mx: &FeatureTrack, image: &FrontImage) {
    let (lo, hi) = IMAGE_RANGE_DB;
    for (pi, excess) in p.iter_mut().zip(centre_excess_db(mx, image)) {
        let Some(x) = excess else { continue };
        let q = pi.clamp(1e-4, 1.0 - 1e-4);
        *pi = sigmoid(logit(q) + IMAGE_WEIGHT * x.clamp(lo, hi));
    }
}

/// The speech-band trajectory less its 250 ms moving average (25 frames at the 10 ms hop).
fn detrended_speech_band(frames: &[FrameSummary]) -> Vec<f32> {
    const HALF: usize = 12;
    let x: Vec<f32> = frames
        .iter()
        .map(|f| f.speech_band_db.max(-100.0))
        .collect();
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0f64);
    for &v in &x {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + v as f64);
    }
    (0..x.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(HALF), (i + HALF + 1).min(x.len()));
            x[i] - ((prefix[b] - prefix[a]) / (b - a) as f64) as f32
        })
        .collect()
}

/// Correlation of two trajectories; 0 when too short (under 10 frames) or flat.
fn correlation(a: &[f32], b: &[f32]) -> f32 {
    if a.len().min(b.len()) < 10 {
        return 0.0;
    }
    super::pearson(a, b).unwrap_or(0.0)
}

/// Scales down the probability of windows whose voice follows the dialogue stem's syllables.
fn suppress_bleed(p: &mut [f32], mx: &FeatureTrack, dx: &FeatureTrack) {
    if mx.frames.is_empty() || dx.frames.is_empty() || mx.frame_hop_s <= 0.0 {
        return;
    }
    let (m, d) = (
        detrended_speech_band(&mx.frames),
        detrended_speech_band(&dx.frames),
    );
    let n = m.len().min(d.len());
    let hop = mx.frame_hop_s;
    for (pi, w) in p.iter_mut().zip(&mx.windows) {
        if *pi < 0.1 {
            continue;
        }
        // 2 s of frames centred on the window.
        let centre = w.start_s + mx.texture_len_s / 2.0;
        let a = (((centre - 1.0) / hop).max(0.0) as usize).min(n);
        let b = (((centre + 1.0) / hop).max(0.0) as usize).min(n);
        let r = correlation(&m[a..b], &d[a..b]);
        if r > BLEED_CORRELATION {
            let k =
                ((r - BLEED_CORRELATION) / (BLEED_CORRELATION_FULL - BLEED_CORRELATION)).min(1.0);
            *pi *= 1.0 - k;
        }
    }
}

/// Viterbi smoothing of window probabilities into voice segments, with `s.prior` as the
/// emission's reference everywhere (see the module docs).
pub fn smooth(p: &[f32], window_start_s: &[f64], window_len_s: f64, s: &Smoothing) -> Vec<Span> {
    let reference = vec![s.prior; p.len()];
    smooth_with_reference(p, &reference, window_start_s, window_len_s, s)
}

/// [`smooth`] with the emission's reference probability lowered to `s.song_prior` for the
/// windows whose centre lies in one of `songs` (step 6 of the module docs).
pub fn smooth_in_songs(
    p: &[f32],
    window_start_s: &[f64],
    window_len_s: f64,
    s: &Smoothing,
    songs: &[Span],
) -> Vec<Span> {
    let reference: Vec<f64> = window_start_s
        .iter()
        .take(p.len())
        .map(|&start| {
            let c = start + window_len_s / 2.0;
            if songs
                .iter()
                .any(|song| c >= song.start_s && c <= song.end_s)
            {
                s.song_prior
            } else {
                s.prior
            }
        })
        .collect();
    smooth_with_reference(p, &reference, window_start_s, window_len_s, s)
}

/// The two-state Viterbi decoding of the module docs; `reference[t]` is the probability that window
/// `t`'s emission is read against (a window above it favours voice, one below it no voice).
fn smooth_with_reference(
    p: &[f32],
    reference: &[f64],
    window_start_s: &[f64],
    window_len_s: f64,
    s: &Smoothing,
) -> Vec<Span> {
    let n = p.len().min(window_start_s.len()).min(reference.len());
    if n == 0 {
        return Vec::new();
    }
    let prior = s.prior.clamp(1e-3, 1.0 - 1e-3);
    let q = s.switch_prob.clamp(1e-9, 0.5);
    let (stay, switch) = ((1.0 - q).ln(), q.ln());
    let emit = |t: usize| {
        let pt = (p[t] as f64).clamp(1e-4, 1.0 - 1e-4);
        let r = reference[t].clamp(1e-3, 1.0 - 1e-3);
        [((1.0 - pt) / (1.0 - r)).ln(), (pt / r).ln()]
    };
    let mut score = [(1.0 - prior).ln() + emit(0)[0], prior.ln() + emit(0)[1]];
    // Back-pointers: bit k of back[t] = the best previous state for state k at t.
    let mut back = vec![0u8; n];
    for (t, bt) in back.iter_mut().enumerate().skip(1) {
        let e = emit(t);
        let mut next = [0.0; 2];
        for k in 0..2 {
            let from_same = score[k] + stay;
            let from_other = score[1 - k] + switch;
            if from_other > from_same {
                next[k] = from_other + e[k];
                *bt |= ((1 - k) as u8) << k;
            } else {
                next[k] = from_same + e[k];
                *bt |= (k as u8) << k;
            }
        }
        score = next;
    }
    let mut state = vec![0u8; n];
    let mut k = if score[1] > score[0] { 1usize } else { 0 };
    for t in (0..n).rev() {
        state[t] = k as u8;
        k = ((back[t] >> k) & 1) as usize;
    }
    // Voice runs -> segments on the window-centre grid.
    let hop = if n > 1 {
        (window_start_s[n - 1] - window_start_s[0]) / (n - 1) as f64
    } else {
        window_len_s
    };
    let centre = |t: usize| window_start_s[t] + window_len_s / 2.0;
    let mut segments: Vec<Span> = Vec::new();
    let mut t = 0;
    while t < n {
        if state[t] == 1 {
            let start = t;
            while t < n && state[t] == 1 {
                t += 1;
            }
            let a = (centre(start) - hop / 2.0).max(0.0);
            let b = centre(t - 1) + hop / 2.0 + s.end_pad_s.max(0.0);
            match segments.last_mut() {
                Some(last) if a - last.end_s < s.min_gap_s => last.end_s = b,
                _ => segments.push(Span::new(a, b)),
            }
        } else {
            t += 1;
        }
    }
    segments.retain(|seg| seg.duration_s() >= s.min_segment_s);
    segments
}

/// Song or score for each of `cues` by [`classify_cue`], after which the vocal segments are
/// decoded again with the song cues' reference probability (step 6 of the module docs). The kinds
/// and confidences are those of the first reading (the rule does not read the new segments'
/// seconds, so a cue's kind cannot drift); `vocal_s` and `vocal_ratio` are the new segments'.
pub fn classify_cues(cues: &[Span], vocals: &mut VocalActivity) -> Vec<CueVocals> {
    let decided: Vec<CueVocals> = cues.iter().map(|c| classify_cue(c, vocals)).collect();
    let songs: Vec<Span> = cues
        .iter()
        .zip(&decided)
        .filter(|(_, d)| d.kind == CueKind::Song)
        .map(|(c, _)| *c)
        .collect();
    if songs.is_empty() {
        return decided;
    }
    vocals.segments = smooth_in_songs(
        &vocals.probability,
        &vocals.window_start_s,
        vocals.window_len_s,
        &vocals.smoothing,
        &songs,
    );
    cues.iter()
        .zip(decided)
        .map(|(c, d)| {
            let again = classify_cue(c, vocals);
            CueVocals {
                vocal_s: again.vocal_s,
                vocal_ratio: again.vocal_ratio,
                ..d
            }
        })
        .collect()
}

/// Song or score for one cue, from the confident windows (or, for an old model's rule, the vocal
/// segments) inside it (rule in the module docs).
pub fn classify_cue(cue: &Span, vocals: &VocalActivity) -> CueVocals {
    let duration = cue.duration_s();
    // fold from +0.0: a float `sum()` of nothing is -0.0, which prints as "-0.0 s".
    let vocal_s = vocals
        .segments
        .iter()
        .map(|s| s.overlap_s(cue))
        .fold(0.0, |a, b| a + b);
    let vocal_ratio = if duration > 0.0 {
        (vocal_s / duration).min(1.0)
    } else {
        0.0
    };
    let rule = &vocals.rule;
    // The seconds of voice the rule reads: the segments' above, or the confident windows'.
    let (rule_s, rule_ratio) = if rule.window_p > 0.0 {
        let s = confident_voice_s(cue, vocals, rule.window_p);
        (
            s,
            if duration > 0.0 {
                (s / duration).min(1.0)
            } else {
                0.0
            },
        )
    } else {
        (vocal_s, vocal_ratio)
    };
    let need_s = rule.min_vocal_s.min(0.5 * duration).max(1e-3);
    // m >= 1 exactly when the rule says song; its log is the margin.
    let by_ratio =
        (rule_ratio / rule.min_vocal_ratio.max(1e-6)).max(rule_s / rule.sure_vocal_s.max(1e-6));
    let m = (rule_s / need_s).min(by_ratio);
    let kind = if m >= 1.0 && rule_s > 0.0 {
        CueKind::Song
    } else {
        CueKind::Score
    };
    let margin = if m > 0.0 { m.ln().abs() } else { 3.0 };
    let rule_conf = 0.5 + 0.5 * (2.0 * margin).tanh();
    // How sure the model was inside the cue: mean |2p - 1| over its windows.
    let (mut sum, mut count) = (0.0f64, 0usize);
    for (p, &start) in vocals.probability.iter().zip(&vocals.window_start_s) {
        let c = start + vocals.window_len_s / 2.0;
        if c >= cue.start_s && c <= cue.end_s {
            sum += (2.0 * *p as f64 - 1.0).abs();
            count += 1;
        }
    }
    let certainty = if count > 0 { sum / count as f64 } else { 0.0 };
    CueVocals {
        kind,
        vocal_s,
        vocal_ratio,
        confidence: (0.5 * rule_conf + 0.5 * (0.5 + 0.5 * certainty)).clamp(0.0, 1.0),
    }
}

/// Seconds of confident voice in a cue: one window hop for every texture window whose centre is in
/// the cue and whose voice probability is at least `min_p`.
fn confident_voice_s(cue: &Span, vocals: &VocalActivity, min_p: f64) -> f64 {
    let starts = &vocals.window_start_s;
    let n = starts.len().min(vocals.probability.len());
    let hop = if n > 1 {
        (starts[n - 1] - starts[0]) / (n - 1) as f64
    } else {
        vocals.window_len_s
    };
    let count = vocals
        .probability
        .iter()
        .zip(starts)
        .filter(|&(&p, &start)| {
            let c = start + vocals.window_len_s / 2.0;
            c >= cue.start_s && c < cue.end_s && p as f64 >= min_p
        })
        .count();
    count as f64 * hop
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments only, judged by the rule of model files before `window_p` (smoothed segments).
    fn activity(segments: Vec<Span>) -> VocalActivity {
        VocalActivity {
            segments,
            rule: CueRule::smoothed_segments(),
            window_len_s: 1.0,
            ..VocalActivity::default()
        }
    }

    fn starts(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64 * 0.25).collect()
    }

    /// What `detect` makes of window probabilities `p` (1 s windows every 0.25 s), judged by
    /// `rule`.
    fn activity_from(p: Vec<f32>, rule: CueRule) -> VocalActivity {
        let start = starts(p.len());
        let segments = smooth(&p, &start, 1.0, &Smoothing::default());
        VocalActivity {
            probability: p,
            window_start_s: start,
            window_len_s: 1.0,
            segments,
            rule,
            smoothing: Smoothing::default(),
            warnings: Vec::new(),
        }
    }

    /// The shipped rule's decision on a cue covering all of `p` (`cue_s` long).
    fn cue_kind_by_default_rule(p: Vec<f32>, cue_s: f64) -> CueVocals {
        classify_cue(
            &Span::new(0.0, cue_s),
            &activity_from(p, CueRule::default()),
        )
    }

    /// `seconds` of windows at 0.1, with `value` from `from_s` to `to_s` (window start times).
    fn probabilities(seconds: f64, parts: &[(f64, f64, f32)]) -> Vec<f32> {
        let n = (seconds / 0.25) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 * 0.25;
                parts
                    .iter()
                    .find(|(a, b, _)| t >= *a && t < *b)
                    .map_or(0.1, |p| p.2)
            })
            .collect()
    }

    #[test]
    fn a_cue_of_middling_probability_like_strings_is_score() {
        // 60 s cue; 18 s (30%) at a middling 0.62 with one 1 s swell to 0.75: the smoothing joins
        // the stretch into a segment, which the old segment rule calls a song.
        let p = probabilities(60.0, &[(20.0, 38.0, 0.62), (30.0, 31.0, 0.75)]);
        let cue = Span::new(0.0, 60.0);
        let old = classify_cue(
            &cue,
            &activity_from(p.clone(), CueRule::smoothed_segments()),
        );
        assert_eq!(old.kind, CueKind::Song, "{old:?}");
        let new = classify_cue(&cue, &activity_from(p, CueRule::default()));
        assert_eq!(new.kind, CueKind::Score, "{new:?}");
        // The reported voice is still the smoothed segment's.
        assert!(new.vocal_s > 15.0, "{new:?}");
    }

    #[test]
    fn a_cue_sung_in_phrases_is_a_song() {
        // 40 s: four 2.5 s phrases at 0.9 with 2.5 s breaths at 0.3 between them: 10 s of
        // confident voice, 25% of the cue.
        let phrases: Vec<(f64, f64, f32)> = (0..8)
            .map(|k| {
                let a = 10.0 + 2.5 * k as f64;
                (a, a + 2.5, if k % 2 == 0 { 0.9 } else { 0.3 })
            })
            .collect();
        let c = cue_kind_by_default_rule(probabilities(40.0, &phrases), 40.0);
        assert_eq!(c.kind, CueKind::Song, "{c:?}");
    }

    #[test]
    fn a_long_intro_song_is_still_a_song_by_its_confident_windows() {
        // 40 s intro then 20 s sung: a third of the cue.
        let p = probabilities(60.0, &[(40.0, 60.0, 0.9)]);
        let c = cue_kind_by_default_rule(p, 60.0);
        assert_eq!(c.kind, CueKind::Song, "{c:?}");
        // A three-minute cue whose last 18 s are sung (10%): over `sure_vocal_s`, still a song.
        let p = probabilities(180.0, &[(162.0, 180.0, 0.9)]);
        let c = cue_kind_by_default_rule(p, 180.0);
        assert_eq!(c.kind, CueKind::Song, "{c:?}");
    }

    #[test]
    fn a_two_second_ooh_is_not_a_song_but_a_short_sung_cue_is() {
        let p = probabilities(60.0, &[(20.0, 22.0, 0.95)]);
        let c = cue_kind_by_default_rule(p, 60.0);
        assert_eq!(c.kind, CueKind::Score, "{c:?}");
        // A 6 s cue with 3 s sung: half of it.
        let p = probabilities(6.0, &[(1.0, 4.0, 0.9)]);
        let c = cue_kind_by_default_rule(p, 6.0);
        assert_eq!(c.kind, CueKind::Song, "{c:?}");
    }

    #[test]
    fn confident_windows_outside_the_cue_do_not_count() {
        let p = probabilities(80.0, &[(0.0, 30.0, 0.95)]);
        let c = classify_cue(
            &Span::new(40.0, 70.0),
            &activity_from(p, CueRule::default()),
        );
        assert_eq!(c.kind, CueKind::Score, "{c:?}");
    }

    #[test]
    fn a_short_backing_ooh_does_not_make_a_score_cue_a_song() {
        let v = activity(vec![Span::new(20.0, 22.5)]);
        let c = classify_cue(&Span::new(0.0, 60.0), &v);
        assert_eq!(c.kind, CueKind::Score);
        assert!((c.vocal_s - 2.5).abs() < 1e-9);
    }

    #[test]
    fn a_song_with_a_long_instrumental_intro_is_still_a_song() {
        // 40 s intro then 20 s sung: ratio 0.33.
        let v = activity(vec![Span::new(40.0, 60.0)]);
        assert_eq!(classify_cue(&Span::new(0.0, 60.0), &v).kind, CueKind::Song);
        // A three-minute cue whose last 18 s are sung (ratio 0.1): still a song.
        let v = activity(vec![Span::new(162.0, 180.0)]);
        let c = classify_cue(&Span::new(0.0, 180.0), &v);
        assert_eq!(c.kind, CueKind::Song);
        assert!((c.vocal_ratio - 0.1).abs() < 1e-9);
    }

    #[test]
    fn vocals_outside_the_cue_do_not_count() {
        let v = activity(vec![Span::new(0.0, 30.0)]);
        let c = classify_cue(&Span::new(40.0, 70.0), &v);
        assert_eq!((c.kind, c.vocal_s), (CueKind::Score, 0.0));
    }

    #[test]
    fn a_cue_with_no_voice_anywhere_has_zero_not_negative_zero_seconds() {
        let c = classify_cue(&Span::new(0.0, 30.0), &activity(Vec::new()));
        assert_eq!(c.kind, CueKind::Score);
        assert!(
            c.vocal_s == 0.0 && c.vocal_s.is_sign_positive(),
            "{:?}",
            c.vocal_s
        );
        assert_eq!(format!("{:.1}", c.vocal_s), "0.0");
    }

    #[test]
    fn a_short_sung_cue_is_a_song() {
        let v = activity(vec![Span::new(1.0, 4.0)]);
        assert_eq!(classify_cue(&Span::new(0.0, 5.0), &v).kind, CueKind::Song);
    }

    #[test]
    fn confidence_grows_with_the_margin() {
        let weak = classify_cue(&Span::new(0.0, 60.0), &activity(vec![Span::new(0.0, 12.5)]));
        let strong = classify_cue(&Span::new(0.0, 60.0), &activity(vec![Span::new(0.0, 50.0)]));
        assert_eq!((weak.kind, strong.kind), (CueKind::Song, CueKind::Song));
        assert!(strong.confidence > weak.confidence);
        assert!((0.0..=1.0).contains(&weak.confidence));
    }

    #[test]
    fn smoothing_ignores_a_lone_confident_window_but_keeps_a_phrase() {
        let n = 200;
        let mut p = vec![0.1f32; n];
        p[30] = 0.95;
        for v in &mut p[100..120] {
            *v = 0.9; // 5 s phrase
        }
        let segs = smooth(&p, &starts(n), 1.0, &Smoothing::default());
        assert_eq!(segs.len(), 1, "{segs:?}");
        let s = segs[0];
        assert!(
            (s.start_s - 25.375).abs() < 0.3 && (s.end_s - 30.625).abs() < 0.3,
            "{s:?}"
        );
    }

    #[test]
    fn a_segment_ends_one_pad_after_its_last_voice_window() {
        // Windows starting 25.0-29.75 s at 0.9: centres 25.5-30.25 s.
        let mut p = vec![0.1f32; 200];
        for v in &mut p[100..120] {
            *v = 0.9;
        }
        let unpadded = Smoothing {
            end_pad_s: 0.0,
            ..Smoothing::default()
        };
        let bare = smooth(&p, &starts(200), 1.0, &unpadded);
        let padded = smooth(&p, &starts(200), 1.0, &Smoothing::default());
        assert_eq!((bare.len(), padded.len()), (1, 1), "{bare:?} {padded:?}");
        // The start stays half a hop before the first voice window's centre; only the end moves.
        assert!((padded[0].start_s - bare[0].start_s).abs() < 1e-9);
        let moved = padded[0].end_s - bare[0].end_s;
        assert!(
            (moved - Smoothing::default().end_pad_s).abs() < 1e-9,
            "{moved}"
        );
        assert!(moved > 0.0);
    }

    #[test]
    fn smoothing_fills_a_breath_between_phrases() {
        let n = 120;
        let mut p = vec![0.05f32; n];
        for (i, v) in p.iter_mut().enumerate() {
            if (20..50).contains(&i) || (52..90).contains(&i) {
                *v = 0.9;
            }
        }
        let segs = smooth(&p, &starts(n), 1.0, &Smoothing::default());
        assert_eq!(segs.len(), 1, "{segs:?}");
    }

    #[test]
    fn a_middling_stretch_is_voice_inside_a_song_cue_but_not_outside() {
        // 10 s at 0.35 from 20 s: under the prior (0.5), over the song reference (0.2).
        let p = probabilities(60.0, &[(20.0, 30.0, 0.35)]);
        let (s, start) = (Smoothing::default(), starts(p.len()));
        assert!(smooth(&p, &start, 1.0, &s).is_empty());
        let in_song = smooth_in_songs(&p, &start, 1.0, &s, &[Span::new(10.0, 50.0)]);
        assert_eq!(in_song.len(), 1, "{in_song:?}");
        assert!(
            (in_song[0].start_s - 20.375).abs() < 0.5 && (in_song[0].end_s - 30.625).abs() < 0.5,
            "{in_song:?}"
        );
        // A song cue elsewhere does not change the reading of this stretch.
        let elsewhere = smooth_in_songs(&p, &start, 1.0, &s, &[Span::new(35.0, 55.0)]);
        assert!(elsewhere.is_empty(), "{elsewhere:?}");
        // Windows under the song reference stay no voice even inside a song.
        let low = probabilities(60.0, &[(20.0, 30.0, 0.12)]);
        assert!(smooth_in_songs(&low, &start, 1.0, &s, &[Span::new(10.0, 50.0)]).is_empty());
    }

    #[test]
    fn a_song_cue_gains_its_weakly_sung_lines_and_keeps_its_kind() {
        // Song cue 0-40 s: 8 s of confident singing, then 12 s of weaker lines at 0.4. Score cue
        // 50-90 s with the same weak stretch: it stays without voice.
        let p = probabilities(
            100.0,
            &[(4.0, 12.0, 0.9), (16.0, 28.0, 0.4), (60.0, 72.0, 0.4)],
        );
        let cues = [Span::new(0.0, 40.0), Span::new(50.0, 90.0)];
        let mut v = activity_from(p, CueRule::default());
        let before: Vec<CueVocals> = cues.iter().map(|c| classify_cue(c, &v)).collect();
        let after = classify_cues(&cues, &mut v);
        assert_eq!(
            after.iter().map(|c| c.kind).collect::<Vec<_>>(),
            [CueKind::Song, CueKind::Score]
        );
        assert_eq!(
            (after[0].confidence, after[1].confidence),
            (before[0].confidence, before[1].confidence)
        );
        assert!(before[0].vocal_s < 9.0, "{before:?}");
        assert!(after[0].vocal_s > 19.0, "{after:?}");
        assert_eq!(after[1].vocal_s, 0.0, "{after:?}");
        assert!(
            v.segments.iter().all(|s| s.end_s < 40.0),
            "{:?}",
            v.segments
        );
    }

    #[test]
    fn without_a_song_cue_the_segments_are_left_as_they_were() {
        let p = probabilities(60.0, &[(20.0, 30.0, 0.35), (40.0, 45.0, 0.9)]);
        let cues = [Span::new(0.0, 60.0)];
        let mut v = activity_from(p, CueRule::default());
        let segments = v.segments.clone();
        let c = classify_cues(&cues, &mut v);
        assert_eq!(c[0].kind, CueKind::Score, "{c:?}");
        assert_eq!(v.segments, segments);
    }

    fn frames_from(levels: &[f32]) -> Vec<FrameSummary> {
        levels
            .iter()
            .map(|&l| FrameSummary {
                speech_band_db: l,
                ..FrameSummary::default()
            })
            .collect()
    }

    fn track(levels: &[f32], windows: usize) -> FeatureTrack {
        FeatureTrack {
            frame_hop_s: 0.01,
            texture_len_s: 1.0,
            texture_hop_s: 0.25,
            frames: frames_from(levels),
            windows: (0..windows)
                .map(|i| crate::features::TextureWindow {
                    start_s: i as f64 * 0.25,
                    values: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn dialogue_bleed_is_suppressed_but_an_independent_voice_is_kept() {
        let mut rng = crate::model::train::Rng::new(4);
        // 10 s of a syllabic speech envelope on DX (random 4-6 Hz bursts).
        let dx: Vec<f32> = (0..1000)
            .map(|i| {
                let t = i as f64 * 0.01;
                (-40.0 + 25.0 * (t * 31.0).sin().max(0.0) + 3.0 * rng.gauss()) as f32
            })
            .collect();
        // The same speech 20 dB down on MX (bleed), plus a slow music bed level.
        let bleed: Vec<f32> = dx
            .iter()
            .enumerate()
            .map(|(i, v)| v - 20.0 + (i as f32 * 0.002).sin())
            .collect();
        // A sung line that does not follow the dialogue.
        let sung: Vec<f32> = (0..1000)
            .map(|i| (-45.0 + 10.0 * (i as f64 * 0.01 * 7.3).sin() + 3.0 * rng.gauss()) as f32)
            .collect();
        let n = 36;
        let dx_track = track(&dx, n);
        let mut p = vec![0.9f32; n];
        suppress_bleed(&mut p, &track(&bleed, n), &dx_track);
        let mean = p.iter().sum::<f32>() / n as f32;
        assert!(mean < 0.2, "bleed kept: mean p {mean}");
        let mut p = vec![0.9f32; n];
        suppress_bleed(&mut p, &track(&sung, n), &dx_track);
        let mean = p.iter().sum::<f32>() / n as f32;
        assert!(mean > 0.8, "independent voice suppressed: mean p {mean}");
    }

    /// A front image of 40 s in 0.25 s blocks: `balance_db(block)` is the block's mid over side.
    fn image_of(balance_db: impl Fn(usize) -> f64, scale: f64) -> FrontImage {
        let (mut mid, mut side) = (Vec::new(), Vec::new());
        for b in 0..160 {
            let r = 10f64.powf(balance_db(b) / 10.0);
            mid.push((scale * r / (1.0 + r)) as f32);
            side.push((scale / (1.0 + r)) as f32);
        }
        FrontImage { mid, side }
    }

    #[test]
    fn a_window_wider_than_the_stem_reads_less_voice_and_a_centred_one_a_little_more() {
        // A stem at 4 dB of centre, with a wide stretch (-8 dB) at 10-20 s and a centred one
        // (+14 dB, a voice over the bed) at 25-35 s.
        let balance = |b: usize| match b {
            40..80 => -8.0,
            100..140 => 14.0,
            _ => 4.0,
        };
        let mx = track(&[], 157);
        let excess = centre_excess_db(&mx, &image_of(balance, 1.0));
        let at = |s: f64| excess[(s / 0.25) as usize].unwrap();
        assert!((at(2.0)).abs() < 1e-3 && (at(14.0) + 12.0).abs() < 1e-3);
        assert!((at(30.0) - 10.0).abs() < 1e-3);
        let mut p = vec![0.5f32; 157];
        add_image_evidence(&mut p, &mx, &image_of(balance, 1.0));
        // Held to the range: -6 dB and +2 dB at 0.3 per dB.
        assert!((logit(p[(14.0 / 0.25) as usize]) + 1.8).abs() < 1e-3);
        assert!((logit(p[(30.0 / 0.25) as usize]) - 0.6).abs() < 1e-3);
        assert!((p[(2.0 / 0.25) as usize] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn the_image_evidence_does_not_depend_on_level_and_a_stem_without_side_reads_none() {
        let balance = |b: usize| if b.is_multiple_of(7) { -3.0 } else { 5.0 };
        let mx = track(&[], 157);
        let loud = centre_excess_db(&mx, &image_of(balance, 1.0));
        let quiet = centre_excess_db(&mx, &image_of(balance, 1e-5));
        assert_eq!(loud.len(), quiet.len());
        for (a, b) in loud.iter().zip(&quiet) {
            assert!((a.unwrap() - b.unwrap()).abs() < 1e-3, "{a:?} vs {b:?}");
        }
        // Dual-mono: no side anywhere, every window at the same (capped) balance, no evidence.
        let dual_mono = FrontImage {
            mid: vec![1.0; 160],
            side: vec![0.0; 160],
        };
        let mut p = vec![0.3f32; 157];
        add_image_evidence(&mut p, &mx, &dual_mono);
        assert!(p.iter().all(|&q| (q - 0.3).abs() < 1e-6));
    }

    #[test]
    fn quiet_windows_carry_no_image_evidence() {
        // The last 10 s are 50 dB down (a fade tail) and wide: they neither read nor move the median.
        let img = FrontImage {
            mid: (0..160).map(|b| if b < 120 { 2.0 } else { 2e-5 }).collect(),
            side: (0..160).map(|b| if b < 120 { 1.0 } else { 1e-4 }).collect(),
        };
        let excess = centre_excess_db(&track(&[], 157), &img);
        assert!(
            excess[..117]
                .iter()
                .all(|x| x.is_some_and(|v| v.abs() < 1e-3))
        );
        assert!(excess[121..].iter().all(Option::is_none));
    }
}
