//! Cost of the vocal detector after feature extraction: MLP inference on every texture window plus
//! the Viterbi smoothing, for one hour of music stem (14 400 windows). The model is synthetic (random
//! weights) with the shipped architecture: 40 features x 2 (context) inputs, 24 hidden units. Divide
//! 3600 s by the time per iteration for the real-time factor of this stage alone.

use criterion::{Criterion, criterion_group, criterion_main};
use stemscope::detect::vocals::detect;
use stemscope::features::{FeatureTrack, TextureWindow};
use stemscope::model::{
    Activation, CueRule, FORMAT_VERSION, Layer, MODEL_FORMAT, MeasuredAccuracy, Normalisation,
    Smoothing, TrainingInfo, VocalModel, train::Rng,
};

const FEATURES: usize = 40;
const HIDDEN: usize = 24;

fn model(rng: &mut Rng) -> VocalModel {
    let n = 2 * FEATURES;
    let mut w = |k: usize| {
        (0..k)
            .map(|_| rng.gauss() as f32 * 0.1)
            .collect::<Vec<f32>>()
    };
    VocalModel {
        format: MODEL_FORMAT.into(),
        format_version: FORMAT_VERSION,
        name: "bench".into(),
        features: (0..FEATURES).map(|i| format!("f{i}")).collect(),
        context_windows: 4,
        normalisation: Normalisation {
            mean: vec![0.0; n],
            scale: vec![1.0; n],
        },
        layers: vec![
            Layer {
                inputs: n,
                outputs: HIDDEN,
                weights: w(n * HIDDEN),
                bias: vec![0.0; HIDDEN],
                activation: Activation::Relu,
            },
            Layer {
                inputs: HIDDEN,
                outputs: 1,
                weights: w(HIDDEN),
                bias: vec![0.0],
                activation: Activation::Sigmoid,
            },
        ],
        smoothing: Smoothing::default(),
        cue_rule: CueRule::default(),
        training: TrainingInfo::default(),
        accuracy: MeasuredAccuracy::default(),
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let m = model(&mut rng);
    let track = FeatureTrack {
        frame_hop_s: 0.01,
        texture_len_s: 1.0,
        texture_hop_s: 0.25,
        frames: Vec::new(),
        windows: (0..14_400)
            .map(|i| TextureWindow {
                start_s: i as f64 * 0.25,
                values: (0..FEATURES).map(|_| rng.gauss() as f32).collect(),
            })
            .collect(),
    };
    let mut g = c.benchmark_group("vocal_detect_1h");
    g.sample_size(10);
    g.bench_function("mlp_and_viterbi", |b| {
        b.iter(|| detect(&track, None, None, &m))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
