//! Speech activity on the dialogue stem.
//!
//! Three steps, each in its own module:
//! 1. [`context`]: per-frame evidence from the 10 ms feature frames, every level relative to an
//!    adaptive noise floor that follows scene cuts (no absolute threshold anywhere), plus voicing,
//!    pitch movement in the speaking range, syllable-rate modulation and spectral shape over ±1 s;
//! 2. [`model`]: a small trained perceptron turns each frame's evidence into a speech probability
//!    (speech against everything else a DX stem carries: room tone, hum, rumble, breaths, clicks,
//!    footsteps and other production sounds, reverb tails, music and singing);
//! 3. [`segments`](fn@segments): hysteresis on the smoothed probability, pauses shorter than
//!    [`DialogueConfig::merge_gap_s`] bridged, blips shorter than [`DialogueConfig::min_span_s`] dropped.
//!
//! [`corpus`] builds the noisy training and evaluation scenes from real speech; the
//! `train_dialogue` example retrains and evaluates the shipped model (`models/dialogue-v1.json`).

pub mod context;
pub mod corpus;
pub mod foley;
pub mod model;
pub mod rng;

use std::sync::OnceLock;

use ndarray::Array2;

use crate::features::{FeatureTrack, FrameSummary};
use crate::timeline::Span;
use context::{ContextFeatures, N_CONTEXT};
use model::{ModelRunner, SpeechModel};

/// Post-processing of the frame probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogueConfig {
    /// A segment starts where the smoothed probability reaches `on`...
    pub on: f32,
    /// ...and lasts while it stays above `off`.
    pub off: f32,
    /// Half-length of the centred probability smoothing, frames.
    pub smooth_half: usize,
    /// Pauses shorter than this inside speech do not split a segment, s.
    pub merge_gap_s: f64,
    /// Segments shorter than this (after merging) are dropped: clicks, single breaths, s.
    pub min_span_s: f64,
    /// Each kept segment starts this much earlier (speech onsets rise out of the noise), s.
    pub onset_pad_s: f64,
    /// ...and ends this much later (word ends decay into the noise before they end), s.
    pub hangover_s: f64,
}

impl Default for DialogueConfig {
    fn default() -> Self {
        DialogueConfig {
            on: 0.6,
            off: 0.4,
            smooth_half: 3,
            merge_gap_s: 0.3,
            min_span_s: 0.12,
            onset_pad_s: 0.0,
            hangover_s: 0.0,
        }
    }
}

/// Frames run through the model at once: bounds the feature matrix whatever the length of the film.
const CHUNK_FRAMES: usize = 4096;

fn builtin_runner() -> Option<&'static ModelRunner> {
    static RUNNER: OnceLock<Option<ModelRunner>> = OnceLock::new();
    RUNNER
        .get_or_init(|| SpeechModel::builtin().ok().map(|m| m.runner()))
        .as_ref()
}

/// Speech segments on a dialogue stem, with the built-in model and default settings.
pub fn detect(dx: &FeatureTrack) -> Vec<Span> {
    match builtin_runner() {
        Some(runner) => detect_with(dx, runner, &DialogueConfig::default()),
        // Unreachable while the built-in model passes its test; no speech beats a made-up answer.
        None => Vec::new(),
    }
}

/// Speech segments with a given model and settings.
pub fn detect_with(dx: &FeatureTrack, runner: &ModelRunner, cfg: &DialogueConfig) -> Vec<Span> {
    let p = speech_probability(&dx.frames, runner);
    let hop = if dx.frame_hop_s > 0.0 {
        dx.frame_hop_s
    } else {
        0.01
    };
    segments(&p, hop, cfg)
}

/// Frames whose context features are built together: per-frame series for the whole stem would
/// grow with its length (~100 bytes a frame, 70 MB for two hours), a chunk of 3.4 minutes plus its
/// margins keeps them to a few MB. A multiple of the model's batch (the same batches as one pass)
/// and of the noise floor's blocks (each chunk's blocks are the stem's).
const CONTEXT_CHUNK: usize = 5 * CHUNK_FRAMES;
const _: () = assert!(CONTEXT_CHUNK.is_multiple_of(context::FLOOR_BLOCK));

/// Per-frame speech probability.
pub fn speech_probability(frames: &[FrameSummary], runner: &ModelRunner) -> Vec<f32> {
    let mut out = Vec::with_capacity(frames.len());
    let mut x = Array2::<f32>::zeros((CHUNK_FRAMES, N_CONTEXT));
    for c0 in (0..frames.len()).step_by(CONTEXT_CHUNK) {
        let c1 = (c0 + CONTEXT_CHUNK).min(frames.len());
        // With the margins, every row of the chunk is the one the whole stem's features give.
        let lo = c0.saturating_sub(context::MARGIN_FRAMES);
        let hi = (c1 + context::MARGIN_FRAMES).min(frames.len());
        let local = &frames[lo..hi];
        let ctx = ContextFeatures::new(local);
        let mut start = c0;
        while start < c1 {
            let end = (start + CHUNK_FRAMES).min(c1);
            for (r, t) in (start..end).enumerate() {
                if let Some(row) = x.row_mut(r).as_slice_mut() {
                    ctx.row(local, t - lo, row);
                }
            }
            runner.predict(x.slice(ndarray::s![..end - start, ..]), &mut out);
            start = end;
        }
    }
    out
}

/// Frame decisions from probabilities: smoothing, hysteresis, gap bridging, short-blip removal,
/// onset and hangover padding.
///
/// Frame alignment: probability `t` comes from the analysis frame centred at `t * hop_s`, and
/// decision `t` covers `[t * hop_s, (t + 1) * hop_s)`, half a hop later. No shift is applied here
/// because the model is trained to predict the truth of that interval from that analysis frame
/// (`examples/train_dialogue.rs` pairs them by index), so it has already absorbed the half hop;
/// a centred smoothing window keeps it (a window shifted by half a frame measured no better).
pub fn frame_decisions(p: &[f32], hop_s: f64, cfg: &DialogueConfig) -> Vec<bool> {
    let n = p.len();
    let mut sum = vec![0.0f64; n + 1];
    for (i, &v) in p.iter().enumerate() {
        sum[i + 1] = sum[i] + v as f64;
    }
    let mut active = vec![false; n];
    let mut on = false;
    for (t, slot) in active.iter_mut().enumerate() {
        let a = t.saturating_sub(cfg.smooth_half);
        let b = (t + cfg.smooth_half + 1).min(n);
        let s = ((sum[b] - sum[a]) / (b - a) as f64) as f32;
        on = if on { s > cfg.off } else { s >= cfg.on };
        *slot = on;
    }
    let max_gap = (cfg.merge_gap_s / hop_s).round() as usize;
    fill_short_runs(&mut active, false, max_gap);
    let min_len = (cfg.min_span_s / hop_s).round() as usize;
    fill_short_runs(&mut active, true, min_len);
    let pre = (cfg.onset_pad_s / hop_s).round() as usize;
    let post = (cfg.hangover_s / hop_s).round() as usize;
    if pre > 0 || post > 0 {
        dilate(&mut active, pre, post);
    }
    active
}

/// Widens every run of `true` by `pre` frames before and `post` frames after.
fn dilate(active: &mut [bool], pre: usize, post: usize) {
    let src = active.to_vec();
    let n = src.len();
    for (t, &a) in src.iter().enumerate() {
        if a {
            let lo = t.saturating_sub(pre);
            let hi = (t + post + 1).min(n);
            active[lo..hi].iter_mut().for_each(|v| *v = true);
        }
    }
}

/// Flips runs of `value` shorter than `max_len` frames; runs of `false` only between two `true`
/// runs (a pause), runs of `true` anywhere (a blip).
fn fill_short_runs(active: &mut [bool], value: bool, max_len: usize) {
    let n = active.len();
    let mut t = 0;
    while t < n {
        if active[t] != value {
            t += 1;
            continue;
        }
        let start = t;
        while t < n && active[t] == value {
            t += 1;
        }
        let inner = start > 0 && t < n;
        if t - start < max_len && (value || inner) {
            active[start..t].iter_mut().for_each(|a| *a = !value);
        }
    }
}

/// Speech segments from frame probabilities; frame `i` covers `[i * hop_s, (i + 1) * hop_s)`.
pub fn segments(p: &[f32], hop_s: f64, cfg: &DialogueConfig) -> Vec<Span> {
    frames_to_spans(&frame_decisions(p, hop_s, cfg), hop_s)
}

/// Runs of active frames as spans.
pub fn frames_to_spans(active: &[bool], hop_s: f64) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &a) in active.iter().chain(std::iter::once(&false)).enumerate() {
        match (a, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Span::new(s as f64 * hop_s, i as f64 * hop_s));
                start = None;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DialogueConfig {
        DialogueConfig::default()
    }

    #[test]
    fn pauses_shorter_than_the_merge_gap_do_not_split_a_segment() {
        let mut p = vec![0.0f32; 300];
        p[50..120].iter_mut().for_each(|v| *v = 0.9);
        p[140..200].iter_mut().for_each(|v| *v = 0.9); // 0.2 s pause
        p[250..290].iter_mut().for_each(|v| *v = 0.9); // 0.5 s pause
        let spans = segments(&p, 0.01, &cfg());
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!((spans[0].start_s - 0.5).abs() < 0.02 && (spans[0].end_s - 2.0).abs() < 0.02);
        assert!((spans[1].start_s - 2.5).abs() < 0.02 && (spans[1].end_s - 2.9).abs() < 0.02);
    }

    #[test]
    fn blips_shorter_than_the_minimum_are_dropped() {
        let mut p = vec![0.0f32; 200];
        p[100..108].iter_mut().for_each(|v| *v = 1.0);
        assert!(segments(&p, 0.01, &cfg()).is_empty());
    }

    #[test]
    fn hysteresis_keeps_a_segment_through_a_dip_above_off() {
        let mut p = vec![0.0f32; 400];
        p[50..150].iter_mut().for_each(|v| *v = 0.8);
        p[150..250].iter_mut().for_each(|v| *v = 0.5); // between off and on
        let spans = segments(&p, 0.01, &cfg());
        assert_eq!(spans.len(), 1);
        assert!((spans[0].end_s - 2.5).abs() < 0.05, "{spans:?}");
        // Never switched on: below `on` throughout.
        let q = vec![0.5f32; 400];
        assert!(segments(&q, 0.01, &cfg()).is_empty());
    }

    #[test]
    fn padding_widens_each_segment_at_both_ends() {
        let mut p = vec![0.0f32; 300];
        p[100..200].iter_mut().for_each(|v| *v = 0.9);
        let padded = DialogueConfig {
            onset_pad_s: 0.05,
            hangover_s: 0.1,
            ..cfg()
        };
        let plain = segments(&p, 0.01, &cfg());
        let wide = segments(&p, 0.01, &padded);
        assert_eq!((plain.len(), wide.len()), (1, 1));
        assert!((plain[0].start_s - wide[0].start_s - 0.05).abs() < 1e-9);
        assert!((wide[0].end_s - plain[0].end_s - 0.1).abs() < 1e-9);
    }

    #[test]
    fn empty_track_gives_no_speech() {
        assert!(detect(&FeatureTrack::default()).is_empty());
    }
}
