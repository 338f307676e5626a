//! Trained models: the sung-vocal classifier that reads the feature engine's texture windows.
//!
//! A [`VocalModel`] is a small multilayer perceptron (no hidden layer = logistic regression) stored as
//! versioned JSON (`models/vocal-v*.json`): the feature names it was trained on, the standardisation,
//! the weights, the smoothing and cue-rule settings, and a description of its training data, command
//! and measured accuracy. Inference is a few small matrix products with ndarray, once per texture
//! window, so it costs nothing next to the feature extraction.
//!
//! The model's input for window `t` is the window's own values followed by their mean over the
//! `context_windows` windows either side ([`model_inputs`]): the context carries the phrase-level
//! texture (a singer's vibrato and syllable rate over ~2 s) that one 1 s window cannot.
//!
//! Submodules: [`dataset`] (labelled folders, augmentation, feature extraction through the same
//! code path as analysis), [`train`] (seeded training), [`eval`] (grouped cross-validation and the
//! metrics `stemscope eval` prints).

pub mod dataset;
pub mod eval;
pub mod train;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::features::{TEXTURE_FEATURES, TextureWindow};

/// The `format` field of every vocal model file.
pub const MODEL_FORMAT: &str = "stemscope-vocal-model";
/// The model-file layout version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The shipped model, compiled into the binary so that analysis needs no file at run time.
const EMBEDDED_MODEL: &str = include_str!("../../models/vocal-v1.json");
/// The name the embedded model goes by in errors and reports.
pub const EMBEDDED_MODEL_PATH: &str = "models/vocal-v1.json";

/// Hidden-layer and output activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Tanh,
    Sigmoid,
}

impl Activation {
    fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => sigmoid(x),
        }
    }
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The log-odds of a probability, the inverse of [`sigmoid`] (0 and 1 give infinities).
pub(crate) fn logit(p: f32) -> f32 {
    (p / (1.0 - p)).ln()
}

/// One dense layer: `activation(weights · x + bias)`; `weights` is `outputs x inputs`, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub inputs: usize,
    pub outputs: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    pub activation: Activation,
}

/// Standardisation of the model inputs: `(x - mean) / scale`, per input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
}

/// Temporal smoothing of the per-window probabilities into vocal segments: a two-state (no vocals /
/// vocals) hidden Markov model decoded by Viterbi, whose emission is the calibrated window
/// probability and whose switch probability per window hop sets how readily it changes state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Smoothing {
    /// Probability of changing state between consecutive texture windows.
    pub switch_prob: f64,
    /// Prior probability of vocals (the HMM's start distribution and the emission's reference).
    pub prior: f64,
    /// Gaps between vocal segments shorter than this are filled, seconds.
    pub min_gap_s: f64,
    /// Vocal segments shorter than this (after filling gaps) are dropped, seconds.
    pub min_segment_s: f64,
    /// The emission's reference probability inside cues that the cue rule calls songs (the
    /// start distribution stays `prior`): in a song a voice is far likelier than a priori, so a
    /// window of middling probability there is read as voice (see `detect::vocals`). A model
    /// file without the field (written before session 17) gets the default.
    #[serde(default = "default_song_prior")]
    pub song_prior: f64,
    /// Each voice segment ends this much after the last voice window's share of the hop, seconds:
    /// a 1 s window reads as voice only while most of it is sung, so the decoded ends fall early
    /// (models/README.md, "Session 17"). A model file without the field gets the default.
    #[serde(default = "default_end_pad_s")]
    pub end_pad_s: f64,
}

/// One window hop (0.25 s): without it the development reels' segment ends fell 0.17 s (median)
/// before the truth's.
fn default_end_pad_s() -> f64 {
    0.25
}

/// The reference probability inside song cues measured on the development reels (models/README.md,
/// "Session 17").
fn default_song_prior() -> f64 {
    0.2
}

impl Default for Smoothing {
    fn default() -> Self {
        Smoothing {
            switch_prob: 0.02,
            prior: 0.5,
            min_gap_s: 0.6,
            min_segment_s: 0.75,
            song_prior: default_song_prior(),
            end_pad_s: default_end_pad_s(),
        }
    }
}

/// The rule that turns a cue's vocal activity into song or score (see `detect::vocals`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CueRule {
    /// A song needs at least this many seconds of vocals (or half the cue, for cues shorter than
    /// twice this).
    pub min_vocal_s: f64,
    /// ... and vocals over at least this fraction of the cue,
    pub min_vocal_ratio: f64,
    /// ... unless it holds at least this many seconds of vocals (a long instrumental intro).
    pub sure_vocal_s: f64,
    /// What counts as "seconds of vocals" for the three figures above. Above 0: only the texture
    /// windows whose voice probability is at least this, each counting one window hop, so that
    /// stretches of middling probability (which the smoothing joins into segments) weigh less than
    /// the confident windows of a sung phrase. 0: the smoothed vocal segments, the rule before
    /// session 15; a model file without the field (written before it existed) means 0, so it
    /// keeps the rule it was measured with.
    #[serde(default)]
    pub window_p: f64,
}

impl Default for CueRule {
    /// The rule measured best on the grouped cross-validation cue table (models/README.md,
    /// "Session 15"): 2 s of windows at p >= 0.7, over 15% of the cue or 15 s.
    fn default() -> Self {
        CueRule {
            min_vocal_s: 2.0,
            min_vocal_ratio: 0.15,
            sure_vocal_s: 15.0,
            window_p: 0.7,
        }
    }
}

impl CueRule {
    /// The rule of session 10-14 model files: 4 s of smoothed voice over 20% of the cue or 15 s.
    pub fn smoothed_segments() -> Self {
        CueRule {
            min_vocal_s: 4.0,
            min_vocal_ratio: 0.2,
            sure_vocal_s: 15.0,
            window_p: 0.0,
        }
    }
}

/// One source of training data, as described in the model file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    pub name: String,
    pub licence: String,
    pub files: usize,
    pub seconds: f64,
    /// Whether it went into the shipped model (NC / research-only items are kept out).
    pub used: bool,
}

/// How the model was trained.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    pub command: String,
    pub seed: u64,
    pub data: Vec<DataSource>,
    pub augmentation: String,
    pub examples: usize,
    pub windows: usize,
    pub epochs: usize,
}

/// Measured accuracy, as stored in the model file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeasuredAccuracy {
    /// How it was measured (e.g. "5-fold cross-validation grouped by source recording").
    pub protocol: String,
    pub frame_accuracy: f64,
    pub frame_f1: f64,
    pub frame_precision: f64,
    pub frame_recall: f64,
    pub cue_accuracy: f64,
    pub cues: usize,
    pub notes: String,
}

/// The sung-vocal classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VocalModel {
    pub format: String,
    pub format_version: u32,
    /// Human name, e.g. "vocal-v1".
    pub name: String,
    /// Texture-feature names in the order the model reads them ([`TEXTURE_FEATURES`] at training).
    pub features: Vec<String>,
    /// Windows either side averaged into the context half of the input.
    pub context_windows: usize,
    pub normalisation: Normalisation,
    pub layers: Vec<Layer>,
    pub smoothing: Smoothing,
    pub cue_rule: CueRule,
    pub training: TrainingInfo,
    pub accuracy: MeasuredAccuracy,
}

fn model_error(path: &Path, message: impl Into<String>) -> crate::Error {
    crate::Error::Model {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

impl VocalModel {
    /// Number of model inputs: the window's values and their context mean.
    pub fn input_len(&self) -> usize {
        2 * self.features.len()
    }

    /// Parses and validates a model file's text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> crate::Result<Self> {
        let model: VocalModel = serde_json::from_str(text)
            .map_err(|e| model_error(path, format!("not a vocal model file: {e}")))?;
        model.validate(path)?;
        Ok(model)
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// Writes the model as pretty JSON.
    pub fn save(&self, path: &Path) -> crate::Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| model_error(path, format!("cannot serialise: {e}")))?;
        std::fs::write(path, text + "\n").map_err(|e| crate::Error::io(path, e))
    }

    /// The model compiled into the binary, parsed once. It is checked against this build's feature
    /// list, so a feature engine that changed since training is refused with a clear message.
    pub fn embedded() -> crate::Result<&'static VocalModel> {
        static MODEL: OnceLock<Result<VocalModel, String>> = OnceLock::new();
        let path = Path::new(EMBEDDED_MODEL_PATH);
        MODEL
            .get_or_init(|| {
                let m = Self::from_json(EMBEDDED_MODEL, path).map_err(|e| e.to_string())?;
                m.check_features(TEXTURE_FEATURES, path)
                    .map_err(|e| e.to_string())?;
                Ok(m)
            })
            .as_ref()
            .map_err(|message| crate::Error::Other(message.clone()))
    }

    /// Structural checks: format, version, layer shapes chaining from the input to one output.
    pub fn validate(&self, path: &Path) -> crate::Result<()> {
        if self.format != MODEL_FORMAT {
            return Err(model_error(
                path,
                format!("format is {:?}, expected {MODEL_FORMAT:?}", self.format),
            ));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(model_error(
                path,
                format!(
                    "format version {} is not the version {FORMAT_VERSION} this build reads",
                    self.format_version
                ),
            ));
        }
        let n = self.input_len();
        if self.features.is_empty() {
            return Err(model_error(path, "the feature list is empty"));
        }
        if self.normalisation.mean.len() != n || self.normalisation.scale.len() != n {
            return Err(model_error(
                path,
                format!(
                    "normalisation has {} means and {} scales for {n} inputs",
                    self.normalisation.mean.len(),
                    self.normalisation.scale.len()
                ),
            ));
        }
        if self
            .normalisation
            .scale
            .iter()
            .any(|s| !(s.is_finite() && *s > 0.0))
        {
            return Err(model_error(
                path,
                "a normalisation scale is not a positive number",
            ));
        }
        let mut inputs = n;
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.inputs != inputs
                || layer.weights.len() != layer.inputs * layer.outputs
                || layer.bias.len() != layer.outputs
            {
                return Err(model_error(
                    path,
                    format!(
                        "layer {i} is {}x{} with {} weights and {} biases, after {inputs} values",
                        layer.outputs,
                        layer.inputs,
                        layer.weights.len(),
                        layer.bias.len()
                    ),
                ));
            }
            if layer
                .weights
                .iter()
                .chain(&layer.bias)
                .any(|w| !w.is_finite())
            {
                return Err(model_error(
                    path,
                    format!("layer {i} holds a non-finite weight"),
                ));
            }
            inputs = layer.outputs;
        }
        match self.layers.last() {
            Some(last) if last.outputs == 1 && last.activation == Activation::Sigmoid => Ok(()),
            _ => Err(model_error(
                path,
                "the last layer must have one sigmoid output (the vocal probability)",
            )),
        }
    }

    /// Where each of the model's features sits in a window laid out as `names` (the feature
    /// engine's list); refuses a model that reads a feature `names` lacks. The model may read any
    /// subset of the engine's features, in any order.
    pub fn feature_columns(&self, names: &[&str], path: &Path) -> crate::Result<Vec<usize>> {
        self.features
            .iter()
            .map(|f| {
                names.iter().position(|n| n == f).ok_or_else(|| {
                    model_error(
                        path,
                        format!(
                            "reads the feature {f:?}, which this build does not compute ({} \
                             features, none of that name); retrain it with `stemscope train`",
                            names.len()
                        ),
                    )
                })
            })
            .collect()
    }

    /// Refuses a model that reads a feature `names` (the feature engine's list) lacks.
    pub fn check_features(&self, names: &[&str], path: &Path) -> crate::Result<()> {
        self.feature_columns(names, path).map(|_| ())
    }

    /// Vocal probability per texture window, the windows laid out as [`TEXTURE_FEATURES`].
    pub fn predict(&self, windows: &[TextureWindow]) -> crate::Result<Vec<f32>> {
        self.predict_with_layout(windows, TEXTURE_FEATURES)
    }

    /// Vocal probability per texture window, the windows' values named by `layout`.
    pub fn predict_with_layout(
        &self,
        windows: &[TextureWindow],
        layout: &[&str],
    ) -> crate::Result<Vec<f32>> {
        let columns = self.input_columns(windows, layout)?;
        let width = 2 * columns.len();
        // Inputs and activations for a batch of rows at a time: for the whole film at once they
        // would take ~1 kB per window, growing with its length (25 MB for two hours).
        let mut inputs = InputRows::new(windows, &columns, self.context_windows);
        let mut x = Array2::<f32>::zeros((PREDICT_ROWS.min(windows.len()), width));
        let mut out = Vec::with_capacity(windows.len());
        for t0 in (0..windows.len()).step_by(PREDICT_ROWS) {
            let rows = PREDICT_ROWS.min(windows.len() - t0);
            let mut batch = x.slice_mut(ndarray::s![..rows, ..]);
            inputs.fill(&mut batch);
            batch
                .rows_mut()
                .into_iter()
                .for_each(|r| self.standardise_row(r));
            out.extend(self.forward(batch.view()));
        }
        Ok(out)
    }

    /// The unstandardised model inputs of `windows` (values named by `layout`), one row a window.
    pub fn inputs(&self, windows: &[TextureWindow], layout: &[&str]) -> crate::Result<Array2<f32>> {
        let columns = self.input_columns(windows, layout)?;
        Ok(model_inputs(windows, &columns, self.context_windows))
    }

    /// The model's feature columns in windows laid out as `layout`, after checking every window
    /// has that layout's width.
    fn input_columns(
        &self,
        windows: &[TextureWindow],
        layout: &[&str],
    ) -> crate::Result<Vec<usize>> {
        let columns = self.feature_columns(layout, Path::new(&self.name))?;
        if let Some(w) = windows.iter().find(|w| w.values.len() != layout.len()) {
            return Err(crate::Error::Other(format!(
                "vocal model {}: a texture window at {:.2} s has {} values, expected {}",
                self.name,
                w.start_s,
                w.values.len(),
                layout.len()
            )));
        }
        Ok(columns)
    }

    /// Applies the stored standardisation in place.
    pub fn standardise(&self, x: &mut Array2<f32>) {
        x.rows_mut()
            .into_iter()
            .for_each(|r| self.standardise_row(r));
    }

    fn standardise_row(&self, mut row: ndarray::ArrayViewMut1<f32>) {
        for ((v, m), s) in row
            .iter_mut()
            .zip(&self.normalisation.mean)
            .zip(&self.normalisation.scale)
        {
            *v = (*v - m) / s;
        }
    }

    /// The network on standardised inputs (one row per window).
    pub fn forward(&self, x: ArrayView2<f32>) -> Vec<f32> {
        let mut h = x.to_owned();
        for layer in &self.layers {
            h = layer_forward(layer, h.view());
        }
        h.column(0).to_vec()
    }
}

/// `activation(x · Wᵀ + b)` for a batch of rows.
fn layer_forward(layer: &Layer, x: ArrayView2<f32>) -> Array2<f32> {
    // `validate` checked the shapes; zeros only guard a hand-built, unvalidated layer.
    let w = ArrayView2::from_shape((layer.outputs, layer.inputs), &layer.weights)
        .map(|w| w.to_owned())
        .unwrap_or_else(|_| Array2::zeros((layer.outputs, layer.inputs)));
    let mut z = x.dot(&w.t());
    let b = Array1::from(layer.bias.clone());
    z += &b.view().insert_axis(Axis(0));
    z.mapv_inplace(|v| layer.activation.apply(v));
    z
}

/// Windows run through the network together in [`VocalModel::predict`].
const PREDICT_ROWS: usize = 2048;

/// The model's input matrix: one row per window, the window's values at `columns` followed by
/// their mean over the windows `t - context ..= t + context` (clipped at the ends). Non-finite
/// values become 0.
pub fn model_inputs(windows: &[TextureWindow], columns: &[usize], context: usize) -> Array2<f32> {
    let mut x = Array2::<f32>::zeros((windows.len(), 2 * columns.len()));
    InputRows::new(windows, columns, context).fill(&mut x.view_mut());
    x
}

/// The rows of [`model_inputs`], produced in order a batch at a time: the running context sums
/// carry over from batch to batch, so the rows are the same however they are batched.
struct InputRows<'a> {
    windows: &'a [TextureWindow],
    /// Where the model's features sit in a window's values.
    columns: &'a [usize],
    context: usize,
    /// Next row to produce.
    t: usize,
    /// The current context is `windows[lo..hi]`; `sum` holds its per-feature sums.
    lo: usize,
    hi: usize,
    sum: Vec<f64>,
}

impl<'a> InputRows<'a> {
    fn new(windows: &'a [TextureWindow], columns: &'a [usize], context: usize) -> Self {
        InputRows {
            windows,
            columns,
            context,
            t: 0,
            lo: 0,
            hi: 0,
            sum: vec![0.0; columns.len()],
        }
    }

    /// Fills the next `x.nrows()` rows (fewer if the windows run out: the rest is left as is).
    fn fill(&mut self, x: &mut ndarray::ArrayViewMut2<f32>) {
        let n = self.windows.len();
        let nf = self.columns.len();
        let columns = self.columns;
        let value = |w: &TextureWindow, j: usize| -> f64 {
            let v = w.values.get(columns[j]).copied().unwrap_or(0.0);
            if v.is_finite() { v as f64 } else { 0.0 }
        };
        // Running sums over a sliding window keep this O(n * features).
        for mut row in x.rows_mut() {
            let t = self.t;
            if t >= n {
                break;
            }
            let want_lo = t.saturating_sub(self.context);
            let want_hi = (t + self.context + 1).min(n);
            while self.hi < want_hi {
                for (j, s) in self.sum.iter_mut().enumerate() {
                    *s += value(&self.windows[self.hi], j);
                }
                self.hi += 1;
            }
            while self.lo < want_lo {
                for (j, s) in self.sum.iter_mut().enumerate() {
                    *s -= value(&self.windows[self.lo], j);
                }
                self.lo += 1;
            }
            let count = (self.hi - self.lo).max(1) as f64;
            for j in 0..nf {
                row[j] = value(&self.windows[t], j) as f32;
                row[nf + j] = (self.sum[j] / count) as f32;
            }
            self.t += 1;
        }
    }
}

/// Feature-name prefixes the shipped model leaves out. The mean MFCCs describe the timbre of
/// whoever sings (and of the band): with a few dozen voices to learn from they let the model
/// recognise the training singers rather than singing, and grouped cross-validation scores better
/// without them (see models/README.md). Their spread and deltas stay.
pub const DEFAULT_DROPPED_FEATURES: &[&str] = &["mfcc_mean_"];

/// Everything `stemscope train` needs.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Labelled folders (see [`dataset`] for the layout).
    pub folders: Vec<PathBuf>,
    pub dataset: dataset::DatasetOptions,
    pub train: train::TrainConfig,
    pub context_windows: usize,
    pub name: String,
    /// The command line, recorded in the model file.
    pub command: String,
    /// Run grouped cross-validation first (its figures go into the model file).
    pub cross_validate: bool,
    /// Also write the dataset (examples, features) under this prefix ([`dataset::dump`]).
    pub dump: Option<PathBuf>,
    /// Texture features left out of the model: those whose name starts with one of these.
    pub drop_features: Vec<String>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            folders: Vec::new(),
            dataset: dataset::DatasetOptions::default(),
            train: train::TrainConfig::default(),
            context_windows: 4,
            name: "vocal-v1".into(),
            command: String::new(),
            cross_validate: true,
            dump: None,
            drop_features: DEFAULT_DROPPED_FEATURES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// A trained model and what was measured on the way.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub model: VocalModel,
    pub cross_validation: Option<eval::EvalReport>,
    /// Files that could not be read (skipped), with the reason.
    pub skipped: Vec<String>,
}

fn data_sources(ds: &dataset::Dataset, allow_restricted: bool) -> Vec<DataSource> {
    use std::collections::BTreeMap;
    let mut out: BTreeMap<(String, bool), DataSource> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for e in &ds.examples {
        for &i in &e.items {
            if !seen.insert(i) {
                continue;
            }
            let it = &ds.items[i];
            let restricted = it.is_restricted();
            let d = out.entry((it.folder.clone(), restricted)).or_default();
            d.name = if restricted {
                format!("{} (non-commercial / research-only items)", it.folder)
            } else {
                it.folder.clone()
            };
            d.used = !restricted || allow_restricted;
            d.files += 1;
            if !d.licence.split("; ").any(|l| l == it.licence) {
                if !d.licence.is_empty() {
                    d.licence.push_str("; ");
                }
                d.licence.push_str(&it.licence);
            }
        }
    }
    for t in &ds.tallies {
        if let Some(d) = out.get_mut(&(t.folder.clone(), false)) {
            d.seconds = t.seconds;
        }
    }
    out.into_values().collect()
}

/// Reads the labelled folders, builds the examples, cross-validates (grouped by recording) and
/// trains the final model on every trainable example. Seeded: the same data and options give the
/// same model.
pub fn train_from_folders(opts: &TrainOptions) -> crate::Result<TrainOutcome> {
    let mut items = Vec::new();
    for f in &opts.folders {
        items.extend(dataset::read_folder(f)?);
    }
    // A dump also carries each frame's log-mel (for screening spectrogram models outside
    // stemscope); training itself never reads it, so it is kept only then.
    let dataset_opts = dataset::DatasetOptions {
        keep_mel: opts.dataset.keep_mel || opts.dump.is_some(),
        ..opts.dataset.clone()
    };
    let ds = dataset::build(items, &dataset_opts)?;
    if let Some(prefix) = &opts.dump {
        dataset::dump(&ds, prefix)?;
    }
    if TEXTURE_FEATURES.is_empty() {
        return Err(crate::Error::Other(
            "the feature engine of this build computes no texture features: nothing to train on"
                .into(),
        ));
    }
    let trainable: Vec<&dataset::Example> = ds.examples.iter().filter(|e| e.trainable).collect();
    let base = VocalModel {
        format: MODEL_FORMAT.into(),
        format_version: FORMAT_VERSION,
        name: opts.name.clone(),
        features: TEXTURE_FEATURES
            .iter()
            .filter(|f| !opts.drop_features.iter().any(|d| f.starts_with(d.as_str())))
            .map(|s| s.to_string())
            .collect(),
        context_windows: opts.context_windows,
        normalisation: Normalisation {
            mean: Vec::new(),
            scale: Vec::new(),
        },
        layers: Vec::new(),
        smoothing: Smoothing::default(),
        cue_rule: CueRule::default(),
        training: TrainingInfo {
            command: opts.command.clone(),
            seed: opts.train.seed,
            data: data_sources(&ds, opts.dataset.allow_restricted),
            augmentation: format!(
                "each item at {} random levels (-50..-14 dBFS RMS); each isolated voice laid {} times \
                 (each speech clip {} times) over accompaniments / instrumental music of the same \
                 fold at a vocal-to-accompaniment ratio of -9..+3 dB, voice EQ (high-pass 60-250 Hz, \
                 low-pass 4.5-7.8 kHz, +-6 dB peak at 0.3-4 kHz), Schroeder reverb (RT60 0.3-1.5 s, \
                 wet -14..-4 dB) on half, accompaniment EQ on half; plus {} training-only mixtures per \
                 isolated voice with the voice pitch-shifted by up to +-{} semitones (pitch and formants \
                 together, like a tape played faster or slower)",
                opts.dataset.levels,
                opts.dataset.mixes_per_voice,
                opts.dataset.mixes_per_speech,
                opts.dataset.shifted_mixes_per_voice,
                opts.dataset.max_shift_st
            ),
            examples: trainable.len(),
            windows: trainable.iter().map(|e| e.windows.len()).sum(),
            epochs: opts.train.epochs,
        },
        accuracy: MeasuredAccuracy::default(),
    };
    let cross_validation = if opts.cross_validate {
        Some(eval::cross_validate(&ds, &opts.train, &base)?)
    } else {
        None
    };
    let mut model = train::fit_model(&trainable, ds.texture_len_s, &opts.train, &base);
    if let Some(cv) = &cross_validation {
        model.accuracy = MeasuredAccuracy {
            protocol: format!(
                "{}-fold cross-validation grouped by source recording (a song's mix, voice and \
                 accompaniment in one group; mixtures made within a fold); held-out examples include \
                 the non-commercial / research-only items, which are never trained on unless allowed",
                ds.folds
            ),
            frame_accuracy: cv.frames.accuracy(),
            frame_f1: cv.frames.f1(),
            frame_precision: cv.frames.precision(),
            frame_recall: cv.frames.recall(),
            cue_accuracy: cv.cue_accuracy(),
            cues: cv.cues.len(),
            notes: String::new(),
        };
    }
    Ok(TrainOutcome {
        model,
        cross_validation,
        skipped: ds.skipped,
    })
}

/// `stemscope eval`: the model on a labelled folder, each file one cue at its own level (plus
/// `mixes_per_voice` mixtures per isolated voice when asked).
pub fn evaluate_folder(
    model: &VocalModel,
    folder: &Path,
    opts: &dataset::DatasetOptions,
) -> crate::Result<(eval::EvalReport, Vec<String>)> {
    model.check_features(TEXTURE_FEATURES, Path::new(&model.name))?;
    let items = dataset::read_folder(folder)?;
    let ds = dataset::build(items, opts)?;
    let mut report = eval::EvalReport::default();
    let all: Vec<&dataset::Example> = ds.examples.iter().collect();
    eval::evaluate_into(model, &all, ds.texture_len_s, &mut report)?;
    Ok((report, ds.skipped))
}

/// Where a model came from, for reports: the embedded one or a file.
pub fn describe(model: &VocalModel, path: Option<&PathBuf>) -> String {
    match path {
        Some(p) => format!("{} ({})", model.name, p.display()),
        None => format!("{} (embedded {EMBEDDED_MODEL_PATH})", model.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_model(features: &[&str]) -> VocalModel {
        let n = 2 * features.len();
        VocalModel {
            format: MODEL_FORMAT.into(),
            format_version: FORMAT_VERSION,
            name: "tiny".into(),
            features: features.iter().map(|s| s.to_string()).collect(),
            context_windows: 1,
            normalisation: Normalisation {
                mean: vec![0.0; n],
                scale: vec![1.0; n],
            },
            layers: vec![Layer {
                inputs: n,
                outputs: 1,
                weights: vec![1.0; n],
                bias: vec![0.0],
                activation: Activation::Sigmoid,
            }],
            smoothing: Smoothing::default(),
            cue_rule: CueRule::default(),
            training: TrainingInfo::default(),
            accuracy: MeasuredAccuracy::default(),
        }
    }

    fn window(start_s: f64, values: Vec<f32>) -> TextureWindow {
        TextureWindow { start_s, values }
    }

    #[test]
    fn a_cue_rule_without_window_p_keeps_the_smoothed_segment_rule() {
        // What a model file written before `window_p` existed holds.
        let old: CueRule = serde_json::from_str(
            r#"{"min_vocal_s": 4.0, "min_vocal_ratio": 0.2, "sure_vocal_s": 15.0}"#,
        )
        .unwrap();
        assert_eq!(old, CueRule::smoothed_segments());
        assert!(CueRule::default().window_p > 0.0);
    }

    #[test]
    fn smoothing_without_the_session_17_fields_gets_their_defaults() {
        // What the shipped model file (written before `song_prior` and `end_pad_s`) holds.
        let old: Smoothing = serde_json::from_str(
            r#"{"switch_prob": 0.02, "prior": 0.5, "min_gap_s": 0.6, "min_segment_s": 0.75}"#,
        )
        .unwrap();
        assert_eq!(old, Smoothing::default());
        assert!(old.song_prior < old.prior && old.end_pad_s > 0.0);
    }

    #[test]
    fn a_model_file_round_trips() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("m.json");
        let m = tiny_model(&["a", "b"]);
        m.save(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(VocalModel::load(&path).ok(), Some(m));
    }

    #[test]
    fn a_model_reading_a_feature_the_build_lacks_is_refused_with_a_clear_message() {
        let m = tiny_model(&["a", "b"]);
        assert!(m.check_features(&["a", "b"], Path::new("m.json")).is_ok());
        assert_eq!(
            m.feature_columns(&["c", "b", "a"], Path::new("m.json"))
                .ok(),
            Some(vec![2, 1]),
            "a subset of the build's features, in any order, is found by name"
        );
        let err = m
            .check_features(&["a", "c"], Path::new("m.json"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("m.json") && err.contains("\"b\""), "{err}");
        let err = m
            .check_features(&["a"], Path::new("m.json"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("retrain"), "{err}");
    }

    #[test]
    fn broken_model_files_are_refused_naming_the_file() {
        let mut m = tiny_model(&["a"]);
        m.layers[0].weights.pop();
        let text = serde_json::to_string(&m).unwrap_or_default();
        let err = VocalModel::from_json(&text, Path::new("bad.json"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("bad.json") && err.contains("layer 0"), "{err}");
        let err = VocalModel::from_json("{\"format\": 3}", Path::new("x.json"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("x.json") && err.contains("not a vocal model"),
            "{err}"
        );
    }

    #[test]
    fn input_rows_in_batches_equal_the_whole_matrix() {
        let ws: Vec<TextureWindow> = (0..50)
            .map(|k| window(k as f64 * 0.25, vec![(k as f32).sin(), k as f32 * 0.1]))
            .collect();
        let whole = model_inputs(&ws, &[0, 1], 4);
        for batch in [1, 7, 50] {
            let mut rows = InputRows::new(&ws, &[0, 1], 4);
            let mut x = Array2::<f32>::zeros((batch, 4));
            let mut got = Vec::new();
            for _ in (0..ws.len()).step_by(batch) {
                x.fill(f32::NAN);
                rows.fill(&mut x.view_mut());
                got.extend(x.rows().into_iter().map(|r| r.to_vec()));
            }
            for (t, row) in whole.rows().into_iter().enumerate() {
                assert_eq!(row.to_vec(), got[t], "batch {batch}, row {t}");
            }
        }
    }

    #[test]
    fn inputs_carry_the_window_and_its_context_mean() {
        let ws: Vec<TextureWindow> = (0..5)
            .map(|i| window(i as f64 * 0.25, vec![i as f32]))
            .collect();
        let x = model_inputs(&ws, &[0], 1);
        assert_eq!(x.column(0).to_vec(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(x.column(1).to_vec(), vec![0.5, 1.0, 2.0, 3.0, 3.5]);
    }

    #[test]
    fn prediction_is_the_sigmoid_of_the_standardised_inputs() {
        let m = tiny_model(&["a"]);
        let p = m
            .predict_with_layout(&[window(0.0, vec![0.0]), window(0.25, vec![4.0])], &["a"])
            .unwrap_or_default();
        // Row 0: 0 + mean(0, 4) = 2; row 1: 4 + 2 = 6.
        assert!(
            (p[0] - sigmoid(2.0)).abs() < 1e-6 && (p[1] - sigmoid(6.0)).abs() < 1e-6,
            "{p:?}"
        );
        assert!(
            m.predict_with_layout(&[window(0.0, vec![1.0, 2.0])], &["a"])
                .is_err(),
            "wrong window width refused"
        );
        // Reading a subset: the model's one feature is the second of the layout.
        let p2 = m
            .predict_with_layout(
                &[window(0.0, vec![9.0, 0.0]), window(0.25, vec![9.0, 4.0])],
                &["z", "a"],
            )
            .unwrap_or_default();
        assert_eq!(p, p2);
    }
}
