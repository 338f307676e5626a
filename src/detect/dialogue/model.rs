//! The speech/non-speech frame classifier: a one-hidden-layer perceptron over the context features,
//! stored as versioned JSON (feature list, normalisation, weights, training data and held-out scores),
//! run with ndarray, and trained here too (seeded mini-batch Adam on weighted cross-entropy).

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::context::CONTEXT_FEATURES;
use super::rng::Rng;
use crate::model::sigmoid;

/// Identifies the file format; bumped when the layout changes.
pub const MODEL_FORMAT: &str = "stemscope-dialogue-mlp";
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// One fully connected layer: `weights` is outputs x inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
}

impl Dense {
    fn matrix(&self) -> Array2<f32> {
        let rows = self.weights.len();
        let cols = self.weights.first().map_or(0, Vec::len);
        Array2::from_shape_fn((rows, cols), |(r, c)| self.weights[r][c])
    }
    fn from_matrix(w: &Array2<f32>, b: &Array1<f32>) -> Self {
        Dense {
            weights: w.outer_iter().map(|r| r.to_vec()).collect(),
            bias: b.to_vec(),
        }
    }
}

/// A file the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingItem {
    pub path: String,
    pub class: String,
    pub licence: String,
}

/// Where the weights came from and how to make them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingInfo {
    pub command: String,
    pub seed: u64,
    pub epochs: usize,
    pub frames: usize,
    pub positive_frames: usize,
    pub data: Vec<TrainingItem>,
    /// Corpus files left out, with the reason (licence).
    pub excluded: Vec<String>,
    pub notes: String,
}

/// Held-out measurement stored with the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evaluation {
    pub protocol: String,
    pub command: String,
    pub frame_precision: f64,
    pub frame_recall: f64,
    pub frame_f1: f64,
    /// Frame accuracy of the classifier alone (before smoothing), held out.
    pub frame_accuracy_raw: f64,
    pub per_file: Vec<FileScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileScore {
    pub path: String,
    pub frame_f1: f64,
}

/// The speech frame classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechModel {
    pub format: String,
    pub format_version: u32,
    /// Model release; bump when the weights change.
    pub model_version: String,
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub hidden: Dense,
    pub output: Dense,
    pub training: TrainingInfo,
    pub evaluation: Option<Evaluation>,
}

/// Why a model file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("not a dialogue model: {0}")]
    Parse(String),
    #[error("format {found} v{version} is not {MODEL_FORMAT} v{MODEL_FORMAT_VERSION}")]
    Format { found: String, version: u32 },
    #[error("feature list differs from this build's ({expected} features expected)")]
    Features { expected: usize },
    #[error("inconsistent shapes: {0}")]
    Shape(String),
}

/// The model shipped with this build.
pub const BUILTIN_MODEL_JSON: &str = include_str!("../../../models/dialogue-v1.json");

impl SpeechModel {
    /// Parses and checks a model.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let m: SpeechModel =
            serde_json::from_str(text).map_err(|e| ModelError::Parse(e.to_string()))?;
        m.validate()?;
        Ok(m)
    }

    /// The built-in model.
    pub fn builtin() -> Result<Self, ModelError> {
        Self::from_json(BUILTIN_MODEL_JSON)
    }

    /// Loads a model file.
    pub fn load(path: &Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
        Self::from_json(&text).map_err(|e| crate::Error::Model {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), ModelError> {
        if self.format != MODEL_FORMAT || self.format_version != MODEL_FORMAT_VERSION {
            return Err(ModelError::Format {
                found: self.format.clone(),
                version: self.format_version,
            });
        }
        let d = CONTEXT_FEATURES.len();
        if self.features.len() != d
            || self
                .features
                .iter()
                .zip(CONTEXT_FEATURES)
                .any(|(a, b)| a != b)
        {
            return Err(ModelError::Features { expected: d });
        }
        if self.mean.len() != d || self.std.len() != d {
            return Err(ModelError::Shape("normalisation length".into()));
        }
        let h = self.hidden.weights.len();
        if h == 0 || self.hidden.bias.len() != h || self.hidden.weights.iter().any(|r| r.len() != d)
        {
            return Err(ModelError::Shape("hidden layer".into()));
        }
        if self.output.weights.len() != 1
            || self.output.bias.len() != 1
            || self.output.weights[0].len() != h
        {
            return Err(ModelError::Shape("output layer".into()));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !finite(&self.mean)
            || !finite(&self.std)
            || self.std.iter().any(|&s| s <= 0.0)
            || !self.hidden.weights.iter().all(|r| finite(r))
            || !finite(&self.hidden.bias)
            || !finite(&self.output.weights[0])
            || !finite(&self.output.bias)
        {
            return Err(ModelError::Shape(
                "non-finite or non-positive values".into(),
            ));
        }
        Ok(())
    }

    /// Ready-to-run matrices.
    pub fn runner(&self) -> ModelRunner {
        ModelRunner {
            mean: Array1::from(self.mean.clone()),
            inv_std: Array1::from(self.std.iter().map(|s| 1.0 / s).collect::<Vec<_>>()),
            w1: self.hidden.matrix().reversed_axes(),
            b1: Array1::from(self.hidden.bias.clone()),
            w2: Array1::from(self.output.weights[0].clone()),
            b2: self.output.bias[0],
        }
    }
}

/// A model's matrices laid out for batched inference.
pub struct ModelRunner {
    mean: Array1<f32>,
    inv_std: Array1<f32>,
    /// inputs x hidden.
    w1: Array2<f32>,
    b1: Array1<f32>,
    w2: Array1<f32>,
    b2: f32,
}

impl ModelRunner {
    /// Speech probability of each row of `x` (rows x features), appended to `out`.
    pub fn predict(&self, x: ArrayView2<f32>, out: &mut Vec<f32>) {
        let z = (&x - &self.mean) * &self.inv_std;
        let mut h = z.dot(&self.w1) + &self.b1;
        h.mapv_inplace(f32::tanh);
        out.extend(h.dot(&self.w2).iter().map(|&y| sigmoid(y + self.b2)));
    }
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub hidden: usize,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            hidden: 16,
            epochs: 12,
            batch: 256,
            learning_rate: 3e-3,
            l2: 1e-4,
            seed: 1,
        }
    }
}

/// Fits normalisation and weights to frames `x` (rows x features) with labels `y` (0/1); the two
/// classes are weighted equally whatever their counts.
pub fn train(x: &Array2<f32>, y: &[bool], cfg: &TrainConfig) -> SpeechModel {
    let (n, d) = x.dim();
    let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
    let std = x
        .std_axis(Axis(0), 0.0)
        .mapv(|s| if s > 1e-6 { s } else { 1.0 });
    let z = (x - &mean) / &std;
    let pos = y.iter().filter(|&&v| v).count().max(1);
    let neg = (n - pos.min(n)).max(1);
    let (wp, wn) = (n as f32 / (2.0 * pos as f32), n as f32 / (2.0 * neg as f32));

    let mut rng = Rng::new(cfg.seed);
    let h = cfg.hidden.max(1);
    let scale1 = (1.0 / d as f32).sqrt();
    let mut w1 = Array2::from_shape_fn((d, h), |_| rng.gauss() as f32 * scale1);
    let mut b1 = Array1::<f32>::zeros(h);
    let scale2 = (1.0 / h as f32).sqrt();
    let mut w2 = Array1::from_shape_fn(h, |_| rng.gauss() as f32 * scale2);
    let mut b2 = 0.0f32;

    let mut adam = Adam::new(d, h);
    let mut order: Vec<usize> = (0..n).collect();
    for epoch in 0..cfg.epochs {
        rng.shuffle(&mut order);
        // Step decay: the last third of the epochs at a tenth of the rate.
        let lr = if epoch * 3 >= cfg.epochs * 2 {
            cfg.learning_rate * 0.1
        } else {
            cfg.learning_rate
        };
        for chunk in order.chunks(cfg.batch.max(1)) {
            let xb = z.select(Axis(0), chunk);
            let m = chunk.len() as f32;
            let pre = xb.dot(&w1) + &b1;
            let hb = pre.mapv(f32::tanh);
            let out = hb.dot(&w2) + b2;
            // d(weighted BCE)/d(logit) = w * (p - y).
            let g_out = Array1::from_iter(chunk.iter().zip(out.iter()).map(|(&i, &o)| {
                let (t, w) = if y[i] { (1.0, wp) } else { (0.0, wn) };
                w * (sigmoid(o) - t) / m
            }));
            let g_w2 = hb.t().dot(&g_out) + &(&w2 * cfg.l2);
            let g_b2 = g_out.sum();
            let g_h = g_out
                .view()
                .insert_axis(Axis(1))
                .dot(&w2.view().insert_axis(Axis(0)));
            let g_pre = g_h * hb.mapv(|v| 1.0 - v * v);
            let g_w1 = xb.t().dot(&g_pre) + &(&w1 * cfg.l2);
            let g_b1 = g_pre.sum_axis(Axis(0));
            adam.step(
                lr, &mut w1, &g_w1, &mut b1, &g_b1, &mut w2, &g_w2, &mut b2, g_b2,
            );
        }
    }
    SpeechModel {
        format: MODEL_FORMAT.into(),
        format_version: MODEL_FORMAT_VERSION,
        model_version: String::new(),
        features: CONTEXT_FEATURES.iter().map(|s| s.to_string()).collect(),
        mean: mean.to_vec(),
        std: std.to_vec(),
        hidden: Dense::from_matrix(&w1.t().to_owned(), &b1),
        output: Dense {
            weights: vec![w2.to_vec()],
            bias: vec![b2],
        },
        training: TrainingInfo {
            seed: cfg.seed,
            epochs: cfg.epochs,
            frames: n,
            positive_frames: pos,
            ..TrainingInfo::default()
        },
        evaluation: None,
    }
}

/// Adam moments for the four parameter groups.
struct Adam {
    t: i32,
    m1: Array2<f32>,
    v1: Array2<f32>,
    mb1: Array1<f32>,
    vb1: Array1<f32>,
    m2: Array1<f32>,
    v2: Array1<f32>,
    mb2: f32,
    vb2: f32,
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPS: f32 = 1e-8;

impl Adam {
    fn new(d: usize, h: usize) -> Self {
        Adam {
            t: 0,
            m1: Array2::zeros((d, h)),
            v1: Array2::zeros((d, h)),
            mb1: Array1::zeros(h),
            vb1: Array1::zeros(h),
            m2: Array1::zeros(h),
            v2: Array1::zeros(h),
            mb2: 0.0,
            vb2: 0.0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        lr: f32,
        w1: &mut Array2<f32>,
        g1: &Array2<f32>,
        b1: &mut Array1<f32>,
        gb1: &Array1<f32>,
        w2: &mut Array1<f32>,
        g2: &Array1<f32>,
        b2: &mut f32,
        gb2: f32,
    ) {
        self.t += 1;
        let c1 = 1.0 - BETA1.powi(self.t);
        let c2 = 1.0 - BETA2.powi(self.t);
        let upd = |p: &mut f32, m: &mut f32, v: &mut f32, g: f32| {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
        };
        ndarray::Zip::from(w1)
            .and(&mut self.m1)
            .and(&mut self.v1)
            .and(g1)
            .for_each(|p, m, v, &g| upd(p, m, v, g));
        ndarray::Zip::from(b1)
            .and(&mut self.mb1)
            .and(&mut self.vb1)
            .and(gb1)
            .for_each(|p, m, v, &g| upd(p, m, v, g));
        ndarray::Zip::from(w2)
            .and(&mut self.m2)
            .and(&mut self.v2)
            .and(g2)
            .for_each(|p, m, v, &g| upd(p, m, v, g));
        upd(b2, &mut self.mb2, &mut self.vb2, gb2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_model_loads_and_matches_the_feature_list() {
        let m = SpeechModel::builtin();
        assert!(m.is_ok(), "{m:?}");
    }

    #[test]
    fn a_model_with_another_feature_list_is_refused() {
        let mut m = SpeechModel::builtin().unwrap();
        m.features[0] = "loudness_lufs".into();
        let text = m.to_json();
        assert_eq!(
            SpeechModel::from_json(&text).unwrap_err(),
            ModelError::Features {
                expected: CONTEXT_FEATURES.len()
            }
        );
    }

    #[test]
    fn garbage_is_a_parse_error_not_a_panic() {
        assert!(matches!(
            SpeechModel::from_json("{\"format\": 3"),
            Err(ModelError::Parse(_))
        ));
    }

    #[test]
    fn training_separates_a_nonlinear_toy_problem() {
        // Speech-like when feature 0 is high AND feature 5 is high: an AND no single weight does.
        let d = CONTEXT_FEATURES.len();
        let mut rng = Rng::new(3);
        let n = 4000;
        let x = Array2::from_shape_fn((n, d), |_| rng.uniform() as f32 * 2.0 - 1.0);
        let y: Vec<bool> = x.outer_iter().map(|r| r[0] > 0.0 && r[5] > 0.0).collect();
        let cfg = TrainConfig {
            epochs: 60,
            learning_rate: 1e-2,
            ..TrainConfig::default()
        };
        let model = train(&x, &y, &cfg);
        let mut p = Vec::new();
        model.runner().predict(x.view(), &mut p);
        let correct = p.iter().zip(&y).filter(|(p, y)| (**p > 0.5) == **y).count();
        assert!(correct as f64 / n as f64 > 0.95, "{correct}/{n}");
        // The JSON round trip keeps the predictions.
        let back = SpeechModel::from_json(&model.to_json()).unwrap();
        let mut q = Vec::new();
        back.runner().predict(x.view(), &mut q);
        assert!(p.iter().zip(&q).all(|(a, b)| (a - b).abs() < 1e-5));
    }
}
