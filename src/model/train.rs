//! Seeded training of the vocal classifier: standardisation fitted on the training rows, then a small
//! multilayer perceptron (or, with no hidden layer, logistic regression) fitted by mini-batch Adam on
//! a weighted binary cross-entropy with L2 weight decay. The same seed and data give the same model.

use ndarray::{Array1, Array2, Axis};

use super::dataset::Example;
use super::{Activation, Layer, Normalisation, VocalModel, model_inputs};
use crate::features::TEXTURE_FEATURES;

/// Optimiser and architecture settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Units per hidden layer; empty = logistic regression.
    pub hidden: Vec<usize>,
    pub hidden_activation: Activation,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            hidden: vec![64],
            hidden_activation: Activation::Relu,
            epochs: 30,
            batch_size: 256,
            learning_rate: 2e-3,
            l2: 1e-3,
            seed: 1,
        }
    }
}

pub use crate::rng::Rng;

/// Weighted mean and standard deviation per column; constant columns get scale 1.
pub fn fit_normalisation(x: &Array2<f32>, weight: &[f32]) -> Normalisation {
    let d = x.ncols();
    let mut sw = 0.0f64;
    let mut mean = vec![0.0f64; d];
    for (row, &w) in x.rows().into_iter().zip(weight) {
        sw += w as f64;
        for (m, v) in mean.iter_mut().zip(row) {
            *m += w as f64 * *v as f64;
        }
    }
    let sw = sw.max(1e-12);
    mean.iter_mut().for_each(|m| *m /= sw);
    let mut var = vec![0.0f64; d];
    for (row, &w) in x.rows().into_iter().zip(weight) {
        for ((s, m), v) in var.iter_mut().zip(&mean).zip(row) {
            *s += w as f64 * (*v as f64 - m).powi(2);
        }
    }
    Normalisation {
        mean: mean.iter().map(|&m| m as f32).collect(),
        scale: var
            .iter()
            .map(|&v| {
                let s = (v / sw).sqrt();
                if s > 1e-6 { s as f32 } else { 1.0 }
            })
            .collect(),
    }
}

struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    fn new(n: usize) -> Self {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }
    fn step(&mut self, params: &mut [f32], grad: &[f32], lr: f32, t: i32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        let c1 = 1.0 - B1.powi(t);
        let c2 = 1.0 - B2.powi(t);
        for i in 0..params.len() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * grad[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * grad[i] * grad[i];
            params[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

fn weights_of(layer: &Layer) -> Array2<f32> {
    // Layers are built with consistent shapes here; zeros only guard against an impossible mismatch.
    Array2::from_shape_vec((layer.outputs, layer.inputs), layer.weights.clone())
        .unwrap_or_else(|_| Array2::zeros((layer.outputs, layer.inputs)))
}

/// Fits the network on standardised inputs `x` (rows), targets `y` in [0, 1], sample weights `w`.
pub fn fit_network(x: &Array2<f32>, y: &[f32], w: &[f32], cfg: &TrainConfig) -> Vec<Layer> {
    let mut rng = Rng::new(cfg.seed);
    let mut layers = Vec::new();
    let mut inputs = x.ncols();
    let sizes: Vec<usize> = cfg.hidden.iter().copied().chain([1]).collect();
    for (i, &outputs) in sizes.iter().enumerate() {
        let last = i + 1 == sizes.len();
        // He initialisation for ReLU, Glorot-like otherwise.
        let std = if !last && cfg.hidden_activation == Activation::Relu {
            (2.0 / inputs as f64).sqrt()
        } else {
            (1.0 / inputs as f64).sqrt()
        };
        layers.push(Layer {
            inputs,
            outputs,
            weights: (0..inputs * outputs)
                .map(|_| (rng.gauss() * std) as f32)
                .collect(),
            bias: vec![0.0; outputs],
            activation: if last {
                Activation::Sigmoid
            } else {
                cfg.hidden_activation
            },
        });
        inputs = outputs;
    }
    let mut opt: Vec<(Adam, Adam)> = layers
        .iter()
        .map(|l| (Adam::new(l.weights.len()), Adam::new(l.bias.len())))
        .collect();
    let n = x.nrows();
    if n == 0 {
        return layers;
    }
    let mean_w = (w.iter().map(|&v| v as f64).sum::<f64>() / n as f64).max(1e-12) as f32;
    let mut order: Vec<usize> = (0..n).collect();
    let mut t = 0;
    for _epoch in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for batch in order.chunks(cfg.batch_size.max(1)) {
            t += 1;
            let xb = x.select(Axis(0), batch);
            let yb: Array1<f32> = batch.iter().map(|&i| y[i]).collect();
            let wb: Array1<f32> = batch.iter().map(|&i| w[i] / mean_w).collect();
            // Forward, keeping each layer's output.
            let mut acts = vec![xb];
            for layer in &layers {
                let mut z = acts[acts.len() - 1].dot(&weights_of(layer).t());
                z += &Array1::from(layer.bias.clone()).insert_axis(Axis(0));
                z.mapv_inplace(|v| layer.activation.apply(v));
                acts.push(z);
            }
            // Output delta of sigmoid + cross-entropy: p - y, weighted, averaged over the batch.
            let b = batch.len() as f32;
            let p = acts[layers.len()].column(0).to_owned();
            let mut delta: Array2<f32> = ((&p - &yb) * &wb / b).insert_axis(Axis(1));
            for li in (0..layers.len()).rev() {
                let input = &acts[li];
                let wl = weights_of(&layers[li]);
                let mut gw = delta.t().dot(input); // outputs x inputs
                gw.zip_mut_with(&wl, |g, &wv| *g += cfg.l2 * wv);
                let gb = delta.sum_axis(Axis(0));
                let next_delta = if li > 0 {
                    let mut d = delta.dot(&wl);
                    let act = layers[li - 1].activation;
                    d.zip_mut_with(input, |dv, &a| {
                        *dv *= match act {
                            Activation::Relu => {
                                if a > 0.0 {
                                    1.0
                                } else {
                                    0.0
                                }
                            }
                            Activation::Tanh => 1.0 - a * a,
                            Activation::Sigmoid => a * (1.0 - a),
                        }
                    });
                    Some(d)
                } else {
                    None
                };
                let (ow, ob) = &mut opt[li];
                let gw: Vec<f32> = gw.iter().copied().collect();
                ow.step(&mut layers[li].weights, &gw, cfg.learning_rate, t);
                ob.step(&mut layers[li].bias, &gb.to_vec(), cfg.learning_rate, t);
                if let Some(d) = next_delta {
                    delta = d;
                }
            }
        }
    }
    layers
}

/// Training rows of a set of examples: model inputs, soft targets (the fraction of each window
/// covered by voice) and weights that give voice and no-voice equal total weight. Examples whose
/// voice times are unknown are left out.
pub fn training_rows(
    examples: &[&Example],
    texture_len_s: f64,
    columns: &[usize],
    context: usize,
) -> (Array2<f32>, Vec<f32>, Vec<f32>) {
    let n_features = columns.len();
    let usable: Vec<&&Example> = examples
        .iter()
        .filter(|e| e.vocals.is_some() && !e.windows.is_empty())
        .collect();
    let rows: usize = usable.iter().map(|e| e.windows.len()).sum();
    let mut x = Array2::<f32>::zeros((rows, 2 * n_features));
    let mut y = Vec::with_capacity(rows);
    let mut at = 0;
    for e in usable {
        let xi = model_inputs(&e.windows, columns, context);
        let n = xi.nrows();
        x.slice_mut(ndarray::s![at..at + n, ..]).assign(&xi);
        y.extend(e.window_targets(texture_len_s));
        at += n;
    }
    let pos: f64 = y.iter().map(|&v| v as f64).sum();
    let neg = y.len() as f64 - pos;
    let n = y.len() as f64;
    let w = y
        .iter()
        .map(|&v| {
            let v = v as f64;
            (0.5 * n * (v / pos.max(1.0) + (1.0 - v) / neg.max(1.0))) as f32
        })
        .collect();
    (x, y, w)
}

/// Fits normalisation and network on `examples`; everything else is taken from `base`.
pub fn fit_model(
    examples: &[&Example],
    texture_len_s: f64,
    cfg: &TrainConfig,
    base: &VocalModel,
) -> VocalModel {
    // The base model's features are names from this build's list (see `train_from_folders`).
    let columns: Vec<usize> = base
        .features
        .iter()
        .filter_map(|f| TEXTURE_FEATURES.iter().position(|n| n == f))
        .collect();
    let (mut x, y, w) = training_rows(examples, texture_len_s, &columns, base.context_windows);
    let normalisation = fit_normalisation(&x, &w);
    let mut model = VocalModel {
        normalisation,
        layers: Vec::new(),
        ..base.clone()
    };
    model.standardise(&mut x);
    model.layers = fit_network(&x, &y, &w, cfg);
    model
}

/// Weighted mean binary cross-entropy of probabilities `p` against targets `y`.
pub fn cross_entropy(p: &[f32], y: &[f32], w: &[f32]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for ((&p, &y), &w) in p.iter().zip(y).zip(w) {
        let p = (p as f64).clamp(1e-7, 1.0 - 1e-7);
        num -= w as f64 * (y as f64 * p.ln() + (1.0 - y as f64) * (1.0 - p).ln());
        den += w as f64;
    }
    num / den.max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xor_like(rng: &mut Rng, n: usize) -> (Array2<f32>, Vec<f32>) {
        let mut x = Array2::zeros((n, 2));
        let mut y = Vec::new();
        for i in 0..n {
            let (a, b) = (rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
            x[[i, 0]] = a as f32;
            x[[i, 1]] = b as f32;
            y.push(if a * b > 0.0 { 1.0 } else { 0.0 });
        }
        (x, y)
    }

    #[test]
    fn rng_is_reproducible_and_uniform() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f64> = (0..1000).map(|_| a.uniform()).collect();
        assert!(
            xs.iter()
                .zip((0..1000).map(|_| b.uniform()))
                .all(|(x, y)| *x == y)
        );
        let mean = xs.iter().sum::<f64>() / 1000.0;
        assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
    }

    #[test]
    fn mlp_learns_a_problem_logistic_regression_cannot() {
        let mut rng = Rng::new(3);
        let (x, y) = xor_like(&mut rng, 2000);
        let w = vec![1.0; y.len()];
        let cfg = TrainConfig {
            hidden: vec![12],
            epochs: 60,
            batch_size: 64,
            learning_rate: 1e-2,
            ..TrainConfig::default()
        };
        let model = |layers: Vec<Layer>| super::super::VocalModel {
            format: super::super::MODEL_FORMAT.into(),
            format_version: super::super::FORMAT_VERSION,
            name: "t".into(),
            features: vec!["a".into()],
            context_windows: 0,
            normalisation: Normalisation {
                mean: vec![0.0; 2],
                scale: vec![1.0; 2],
            },
            layers,
            smoothing: Default::default(),
            cue_rule: Default::default(),
            training: Default::default(),
            accuracy: Default::default(),
        };
        let acc = |layers: Vec<Layer>| {
            let p = model(layers).forward(x.view());
            p.iter()
                .zip(&y)
                .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
                .count() as f64
                / y.len() as f64
        };
        let mlp = acc(fit_network(&x, &y, &w, &cfg));
        let logreg = acc(fit_network(
            &x,
            &y,
            &w,
            &TrainConfig {
                hidden: vec![],
                ..cfg.clone()
            },
        ));
        assert!(mlp > 0.9, "MLP accuracy {mlp}");
        assert!(logreg < 0.7, "logistic regression accuracy {logreg}");
    }

    #[test]
    fn training_is_reproducible_with_a_seed() {
        let mut rng = Rng::new(5);
        let (x, y) = xor_like(&mut rng, 300);
        let w = vec![1.0; y.len()];
        let cfg = TrainConfig {
            epochs: 3,
            ..TrainConfig::default()
        };
        assert_eq!(fit_network(&x, &y, &w, &cfg), fit_network(&x, &y, &w, &cfg));
        let other = TrainConfig {
            seed: 2,
            ..cfg.clone()
        };
        assert_ne!(
            fit_network(&x, &y, &w, &cfg),
            fit_network(&x, &y, &w, &other)
        );
    }

    #[test]
    fn normalisation_centres_and_scales_weighted_columns() {
        let x = Array2::from_shape_vec((4, 2), vec![1.0, 5.0, 3.0, 5.0, 5.0, 5.0, 100.0, 5.0])
            .unwrap_or_default();
        let n = fit_normalisation(&x, &[1.0, 1.0, 1.0, 0.0]);
        assert!((n.mean[0] - 3.0).abs() < 1e-6);
        assert!((n.scale[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-5);
        assert_eq!(n.scale[1], 1.0, "constant column keeps scale 1");
    }
}
