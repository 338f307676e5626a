//! Evaluation of the vocal model: frame-level voice detection inside music (10 ms frames, as the
//! reel scorer counts them) and cue-level song/score accuracy, on held-out examples; and grouped
//! cross-validation, where every fold's examples come from recordings the model never saw.

use std::fmt::Write as _;

use super::VocalModel;
use super::dataset::{Dataset, Example};
use super::train::{TrainConfig, fit_model};
use crate::detect::vocals::{VocalActivity, classify_cue, smooth};
use crate::timeline::{CueKind, Span};

/// Frame length of the frame-level metrics, seconds.
pub const FRAME_S: f64 = 0.01;

/// Confusion counts over 10 ms frames.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameCounts {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
}

impl FrameCounts {
    /// Compares decisions with truth over the frames both cover.
    pub fn count(pred: &[bool], truth: &[bool]) -> Self {
        let mut c = FrameCounts::default();
        for (&p, &t) in pred.iter().zip(truth) {
            match (p, t) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, true) => c.fn_ += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }
    pub fn add(&mut self, o: &FrameCounts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.tn += o.tn;
        self.fn_ += o.fn_;
    }
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
    pub fn accuracy(&self) -> f64 {
        (self.tp + self.tn) as f64 / self.total().max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
    /// Accuracy of answering "no voice" everywhere (the baseline to read accuracy against).
    pub fn no_voice_baseline(&self) -> f64 {
        (self.tn + self.fp) as f64 / self.total().max(1) as f64
    }
}

fn covered(spans: &[Span], t: f64) -> bool {
    spans.iter().any(|s| t >= s.start_s && t < s.end_s)
}

/// Frame counts of predicted against true voice spans over `[0, duration_s)`.
pub fn frame_counts(truth: &[Span], predicted: &[Span], duration_s: f64) -> FrameCounts {
    let mut c = FrameCounts::default();
    let n = (duration_s / FRAME_S).floor() as u64;
    for i in 0..n {
        let t = (i as f64 + 0.5) * FRAME_S;
        match (covered(truth, t), covered(predicted, t)) {
            (true, true) => c.tp += 1,
            (false, true) => c.fp += 1,
            (false, false) => c.tn += 1,
            (true, false) => c.fn_ += 1,
        }
    }
    c
}

/// One evaluated cue.
#[derive(Debug, Clone)]
pub struct CueResult {
    pub name: String,
    pub construction: &'static str,
    pub level_db: f64,
    pub truth: CueKind,
    pub predicted: CueKind,
    pub vocal_s: f64,
    pub duration_s: f64,
    /// Cross-validation fold the cue was held out in (a rule fitted on the other folds may be
    /// scored on it).
    pub fold: usize,
    /// The model's voice probability per texture window of the cue, for studying cue rules that
    /// read more than the smoothed segments.
    pub probability: Vec<f32>,
}

/// What an evaluation measured.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    pub frames: FrameCounts,
    pub cues: Vec<CueResult>,
    /// Seconds judged voice on non-music examples (effects), and their total seconds.
    pub nonmusic_voice_s: f64,
    pub nonmusic_s: f64,
}

impl EvalReport {
    /// Every evaluated cue as a tab-separated table with a header line (name, construction,
    /// level_db, truth, predicted, vocal_s, duration_s, fold, window_p), for studying the song/score
    /// rule outside stemscope: the summary lists only the wrong cues. `window_p` is the held-out
    /// voice probability of every texture window, comma-separated, so that a rule can be fitted on
    /// four folds' cues and scored on the fifth's.
    pub fn write_cues_tsv(&self, mut w: impl std::io::Write) -> std::io::Result<()> {
        let kind = |k: CueKind| match k {
            CueKind::Song => "song",
            CueKind::Score => "score",
        };
        writeln!(
            w,
            "name\tconstruction\tlevel_db\ttruth\tpredicted\tvocal_s\tduration_s\tfold\twindow_p"
        )?;
        for c in &self.cues {
            let p: Vec<String> = c.probability.iter().map(|p| format!("{p:.3}")).collect();
            writeln!(
                w,
                "{}\t{}\t{:.2}\t{}\t{}\t{:.3}\t{:.3}\t{}\t{}",
                c.name,
                c.construction,
                c.level_db,
                kind(c.truth),
                kind(c.predicted),
                c.vocal_s,
                c.duration_s,
                c.fold,
                p.join(",")
            )?;
        }
        Ok(())
    }

    pub fn cue_accuracy(&self) -> f64 {
        self.cues.iter().filter(|c| c.truth == c.predicted).count() as f64
            / self.cues.len().max(1) as f64
    }

    fn accuracy_where(&self, f: impl Fn(&CueResult) -> bool) -> (usize, usize) {
        let sel: Vec<&CueResult> = self.cues.iter().filter(|c| f(c)).collect();
        (
            sel.iter().filter(|c| c.truth == c.predicted).count(),
            sel.len(),
        )
    }

    /// A printable summary: frame metrics, cue accuracy overall, by construction, by level, and
    /// every wrong cue.
    pub fn summary(&self) -> String {
        let f = &self.frames;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "frames (10 ms, inside music, {:.0} s): accuracy {:.3} (no-voice baseline {:.3}), precision {:.3}, recall {:.3}, F1 {:.3}",
            f.total() as f64 * FRAME_S,
            f.accuracy(),
            f.no_voice_baseline(),
            f.precision(),
            f.recall(),
            f.f1()
        );
        let _ = writeln!(
            s,
            "cues: song/score accuracy {:.3} ({} of {})",
            self.cue_accuracy(),
            self.cues.iter().filter(|c| c.truth == c.predicted).count(),
            self.cues.len()
        );
        for (label, truth) in [("song", CueKind::Song), ("score", CueKind::Score)] {
            let (ok, n) = self.accuracy_where(|c| c.truth == truth);
            let _ = writeln!(s, "  {label} cues: {ok} of {n} right");
        }
        let mut constructions: Vec<&str> = self.cues.iter().map(|c| c.construction).collect();
        constructions.sort_unstable();
        constructions.dedup();
        for k in constructions {
            let (ok, n) = self.accuracy_where(|c| c.construction == k);
            let _ = writeln!(s, "  {k}: {ok} of {n} right");
        }
        let (ok_q, n_q) = self.accuracy_where(|c| c.level_db < -32.0);
        let (ok_l, n_l) = self.accuracy_where(|c| c.level_db >= -32.0);
        let _ = writeln!(
            s,
            "  by level: quiet (< -32 dBFS RMS) {ok_q} of {n_q} right, louder {ok_l} of {n_l} right"
        );
        let score: Vec<&CueResult> = self
            .cues
            .iter()
            .filter(|c| c.truth == CueKind::Score)
            .collect();
        let _ = writeln!(
            s,
            "score cues: {:.1} s of {:.1} s judged voice",
            score.iter().map(|c| c.vocal_s.max(0.0)).sum::<f64>(),
            score.iter().map(|c| c.duration_s).sum::<f64>()
        );
        if self.nonmusic_s > 0.0 {
            let _ = writeln!(
                s,
                "non-music (effects): {:.1} s of {:.1} s judged voice",
                self.nonmusic_voice_s, self.nonmusic_s
            );
        }
        for c in self.cues.iter().filter(|c| c.truth != c.predicted) {
            let _ = writeln!(
                s,
                "  wrong: {} [{}] truth {:?} predicted {:?} ({:.1} s voice in {:.1} s, {:.0} dBFS)",
                c.name, c.construction, c.truth, c.predicted, c.vocal_s, c.duration_s, c.level_db
            );
        }
        s
    }
}

/// The detector's output on one example, as `analyze` would produce it (no dialogue stem) before
/// the cue decisions: the segments are not re-read with the song reference
/// (`detect::vocals::classify_cues`), so the cross-validation frame figures measure the model and
/// the context-free smoothing, comparable with earlier sessions.
pub fn activity_of(
    model: &VocalModel,
    ex: &Example,
    texture_len_s: f64,
) -> crate::Result<VocalActivity> {
    let p = model.predict(&ex.windows)?;
    let starts: Vec<f64> = ex.windows.iter().map(|w| w.start_s).collect();
    let segments = smooth(&p, &starts, texture_len_s, &model.smoothing);
    Ok(VocalActivity {
        probability: p,
        window_start_s: starts,
        window_len_s: texture_len_s,
        segments,
        rule: model.cue_rule.clone(),
        smoothing: model.smoothing.clone(),
        warnings: Vec::new(),
    })
}

/// Evaluates `model` on `examples`, adding to `report`.
pub fn evaluate_into(
    model: &VocalModel,
    examples: &[&Example],
    texture_len_s: f64,
    report: &mut EvalReport,
) -> crate::Result<()> {
    for ex in examples {
        let act = activity_of(model, ex, texture_len_s)?;
        let cue = Span::new(0.0, ex.duration_s);
        match ex.kind {
            None => {
                report.nonmusic_s += ex.duration_s;
                report.nonmusic_voice_s +=
                    act.segments.iter().map(|s| s.overlap_s(&cue)).sum::<f64>();
            }
            Some(truth) => {
                if let Some(v) = &ex.vocals {
                    report
                        .frames
                        .add(&frame_counts(v, &act.segments, ex.duration_s));
                }
                let c = classify_cue(&cue, &act);
                report.cues.push(CueResult {
                    name: ex.name.clone(),
                    construction: ex.construction,
                    level_db: ex.level_db,
                    truth,
                    predicted: c.kind,
                    vocal_s: c.vocal_s,
                    duration_s: ex.duration_s,
                    fold: ex.fold,
                    probability: act.probability.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Grouped cross-validation: for each fold, a model trained on the trainable examples of the other
/// folds is evaluated on every example of the fold (restricted items included: evaluating on them
/// is research use; training on them is what the licence question is about).
pub fn cross_validate(
    ds: &Dataset,
    cfg: &TrainConfig,
    base: &VocalModel,
) -> crate::Result<EvalReport> {
    let mut report = EvalReport::default();
    let texture_len_s = ds.texture_len_s;
    for f in 0..ds.folds {
        let train: Vec<&Example> = ds
            .examples
            .iter()
            .filter(|e| e.fold != f && e.trainable)
            .collect();
        let test: Vec<&Example> = ds
            .examples
            .iter()
            .filter(|e| e.fold == f && !e.train_only)
            .collect();
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let model = fit_model(&train, texture_len_s, cfg, base);
        evaluate_into(&model, &test, texture_len_s, &mut report)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(name: &str, truth: CueKind, predicted: CueKind, vocal_s: f64) -> CueResult {
        CueResult {
            name: name.into(),
            construction: "natural",
            level_db: -20.0,
            truth,
            predicted,
            vocal_s,
            duration_s: 30.0,
            fold: 2,
            probability: vec![0.25, 0.9],
        }
    }

    #[test]
    fn the_cue_table_lists_every_cue_right_or_wrong() {
        let report = EvalReport {
            cues: vec![
                cue("a.flac@0", CueKind::Song, CueKind::Song, 12.5),
                cue("b.ogg@0", CueKind::Score, CueKind::Song, 4.0),
            ],
            ..EvalReport::default()
        };
        let mut out = Vec::new();
        report.write_cues_tsv(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("name\tconstruction"));
        assert_eq!(
            lines[2],
            "b.ogg@0\tnatural\t-20.00\tscore\tsong\t4.000\t30.000\t2\t0.250,0.900"
        );
    }

    #[test]
    fn frame_counts_compare_decisions_with_truth() {
        let c = FrameCounts::count(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!((c.tp, c.fp, c.fn_, c.tn), (1, 1, 1, 1));
        assert_eq!(c.f1(), 0.5);
    }
}
