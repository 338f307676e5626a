//! The whole mix: a loudness meter on the sum of the DX, MX and FX stems, fed block by block from the
//! lockstep pass (the printmaster, when given, is metered as a stem and used instead), and the
//! mix-level figures of the report: dialogue-gated loudness and the dialogue-to-music ratio.
//!
//! Summing needs one channel layout: the stem with the most channels sets it, and every other stem's
//! channels go to the channel of the same role. A mono stem goes to the centre, or to left and right
//! at -3 dB when there is no centre (the usual pan law). When the stems' sample rates differ they
//! cannot be summed sample by sample; the mix is then estimated from the stems' traces as a sum of
//! energies (exact for uncorrelated stems, which DME stems mostly are), without peaks, with a warning.

use crate::decode::ChannelRole;
use crate::discover::StemKind;
use crate::report::MixReport;
use crate::timeline::Span;
use crate::timeline::spans::{intersect, subtract, union};

use super::{LoudnessMeter, LoudnessStats, LoudnessTrace};

/// -3 dB, for a mono stem spread over left and right.
const MINUS_3_DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Where one source channel goes in the mix: `(target channel, gain)` pairs.
type Route = Vec<(usize, f32)>;

/// What the lockstep pass produces for the mix.
#[derive(Debug, Clone, Default)]
pub struct MixAnalysis {
    /// "sum of stems" or "sum of stem energies (sample rates differ)".
    pub source: String,
    /// The mix's trace, when the stems could be summed.
    pub trace: Option<LoudnessTrace>,
    pub warnings: Vec<String>,
}

/// Sums aligned blocks of several stems into one layout and meters the sum.
pub struct MixMeter {
    /// Per stem, per source channel: where it goes.
    routes: Vec<Vec<Route>>,
    channels: usize,
    meter: Option<LoudnessMeter>,
    sum: Vec<f32>,
    warnings: Vec<String>,
}

impl MixMeter {
    /// `stems`: each stem's channel roles and sample rate, in the order of the blocks given to
    /// [`MixMeter::push`].
    pub fn new(stems: &[(&[ChannelRole], u32)], true_peak: bool) -> crate::Result<MixMeter> {
        let mut warnings = Vec::new();
        let rates_agree = stems.windows(2).all(|w| w[0].1 == w[1].1);
        let target = stems
            .iter()
            .max_by_key(|(roles, _)| roles.len())
            .map(|(roles, rate)| (roles.to_vec(), *rate));
        let (meter, routes, channels) = match target {
            Some((layout, rate)) if rates_agree && !layout.is_empty() => {
                let routes = stems
                    .iter()
                    .map(|(roles, _)| route_stem(roles, &layout))
                    .collect();
                let meter = LoudnessMeter::new(&layout, rate, true_peak)?;
                (Some(meter), routes, layout.len())
            }
            Some(_) => {
                warnings.push(
                    "mix loudness: the stems' sample rates differ, so they cannot be summed sample \
                     by sample; the mix is estimated as the sum of the stems' energies, without peaks"
                        .to_string(),
                );
                (None, Vec::new(), 0)
            }
            None => (None, Vec::new(), 0),
        };
        Ok(MixMeter {
            routes,
            channels,
            meter,
            sum: Vec::new(),
            warnings,
        })
    }

    /// The mix meter of a title's stems (kind, channel roles, rate), in the order their blocks will
    /// be given to [`MixMeter::push_stems`]; `None` when there is a printmaster (it is the mix) or
    /// fewer than two stems to sum.
    pub fn for_stems(
        stems: &[(StemKind, Vec<ChannelRole>, u32)],
        true_peak: bool,
    ) -> crate::Result<Option<MixMeter>> {
        if stems.iter().any(|s| s.0 == StemKind::Printmaster) {
            return Ok(None);
        }
        let layouts: Vec<(&[ChannelRole], u32)> =
            stems.iter().map(|s| (s.1.as_slice(), s.2)).collect();
        if layouts.len() < 2 {
            return Ok(None);
        }
        MixMeter::new(&layouts, true_peak).map(Some)
    }

    /// Adds the blocks of one lockstep step (the printmaster, if any, is left out).
    pub fn push_stems<'a>(
        &mut self,
        blocks: impl Iterator<Item = (StemKind, &'a [f32])>,
    ) -> crate::Result<()> {
        // A few pointers per block of half a second: not worth a reusable buffer.
        let v: Vec<&[f32]> = blocks
            .filter(|(k, _)| *k != StemKind::Printmaster)
            .map(|(_, b)| b)
            .collect();
        self.push(&v)
    }

    /// Adds one aligned block per stem (interleaved, the same duration; a stem that has ended gives
    /// a shorter or empty block and counts as silence).
    pub fn push(&mut self, blocks: &[&[f32]]) -> crate::Result<()> {
        let Some(meter) = self.meter.as_mut() else {
            return Ok(());
        };
        let ch = self.channels;
        let frames = blocks
            .iter()
            .zip(&self.routes)
            .map(|(b, r)| b.len() / r.len().max(1))
            .max()
            .unwrap_or(0);
        self.sum.clear();
        self.sum.resize(frames * ch, 0.0);
        for (block, routes) in blocks.iter().zip(&self.routes) {
            let src_ch = routes.len();
            if src_ch == 0 {
                continue;
            }
            let identity = src_ch == ch
                && routes
                    .iter()
                    .enumerate()
                    .all(|(c, r)| r.as_slice() == [(c, 1.0)]);
            if identity {
                // Same layout: a plain vectorisable sum.
                for (o, &x) in self.sum.iter_mut().zip(block.iter()) {
                    *o += x;
                }
                continue;
            }
            for (frame, out) in block
                .chunks_exact(src_ch)
                .zip(self.sum.chunks_exact_mut(ch))
            {
                for (&x, route) in frame.iter().zip(routes) {
                    for &(t, g) in route {
                        out[t] += g * x;
                    }
                }
            }
        }
        meter.push(&self.sum)
    }

    pub fn finish(self) -> MixAnalysis {
        match self.meter {
            Some(m) => MixAnalysis {
                source: "sum of stems".to_string(),
                trace: Some(m.finish()),
                warnings: self.warnings,
            },
            None => MixAnalysis {
                source: "sum of stem energies (sample rates differ)".to_string(),
                trace: None,
                warnings: self.warnings,
            },
        }
    }
}

/// Routes of a stem's channels into `layout`.
fn route_stem(roles: &[ChannelRole], layout: &[ChannelRole]) -> Vec<Route> {
    if roles == layout {
        return (0..roles.len()).map(|c| vec![(c, 1.0)]).collect();
    }
    let find = |r: ChannelRole| layout.iter().position(|&l| l == r);
    let mono = roles.len() == 1;
    roles
        .iter()
        .enumerate()
        .map(|(i, &role)| {
            if let Some(t) = find(role).filter(|_| role != ChannelRole::Unknown) {
                return vec![(t, 1.0)];
            }
            let centre = find(ChannelRole::Centre).or_else(|| find(ChannelRole::Mono));
            let (left, right) = (find(ChannelRole::Left), find(ChannelRole::Right));
            let centre_like = mono || matches!(role, ChannelRole::Centre | ChannelRole::Mono);
            match role {
                _ if centre_like => match (centre, left, right) {
                    (Some(c), _, _) => vec![(c, 1.0)],
                    (None, Some(l), Some(r)) => vec![(l, MINUS_3_DB), (r, MINUS_3_DB)],
                    _ => vec![(i.min(layout.len() - 1), 1.0)],
                },
                // Surrounds into a layout without them: fold into the front side at -3 dB.
                ChannelRole::LeftSurround | ChannelRole::LeftRearSurround => {
                    left.map(|l| vec![(l, MINUS_3_DB)]).unwrap_or_default()
                }
                ChannelRole::RightSurround | ChannelRole::RightRearSurround => {
                    right.map(|r| vec![(r, MINUS_3_DB)]).unwrap_or_default()
                }
                // No LFE in the target: the LFE does not count for loudness anyway.
                ChannelRole::Lfe => Vec::new(),
                // Unknown roles: by position.
                _ => vec![(i.min(layout.len() - 1), 1.0)],
            }
        })
        .collect()
}

/// A trace whose energies are the sums of the given traces' energies (peaks unknown): the mix of
/// uncorrelated stems when they cannot be summed sample by sample.
pub fn energy_sum(traces: &[&LoudnessTrace]) -> LoudnessTrace {
    let n = traces.iter().map(|t| t.len()).max().unwrap_or(0);
    let mut out = LoudnessTrace {
        step_s: traces.first().map(|t| t.step_s).unwrap_or(0.1),
        momentary: vec![0.0; n],
        short_term: vec![0.0; n],
        sample_peak: Vec::new(),
        true_peak: None,
    };
    for t in traces {
        for (o, v) in out.momentary.iter_mut().zip(&t.momentary) {
            *o += v;
        }
        for (o, v) in out.short_term.iter_mut().zip(&t.short_term) {
            *o += v;
        }
    }
    out
}

/// What [`mix_report`] reads.
pub struct MixInputs<'a> {
    /// The printmaster's trace, when one was given.
    pub printmaster: Option<&'a LoudnessTrace>,
    /// What the lockstep pass measured on the sum of the stems.
    pub mix: Option<&'a MixAnalysis>,
    /// Traces of the DX, MX and FX stems present.
    pub stems: Vec<&'a LoudnessTrace>,
    pub dx: Option<&'a LoudnessTrace>,
    pub mx: Option<&'a LoudnessTrace>,
    /// Where dialogue is active.
    pub dialogue: &'a [Span],
    /// Where music plays (cues; may overlap).
    pub music: &'a [Span],
    /// Spans left out of the whole-mix figures: the reel's leader (sync pops, line-up tone).
    pub leave_out: &'a [Span],
}

/// [`LoudnessTrace::whole`] without `leave_out` (gating blocks that touch it are not counted).
pub fn whole_but(trace: &LoudnessTrace, leave_out: &[Span]) -> LoudnessStats {
    if leave_out.is_empty() {
        return trace.whole();
    }
    trace.spans(&subtract(&[Span::new(0.0, f64::INFINITY)], leave_out))
}

/// The mix figures of the report: whole-mix loudness, loudness over the dialogue, and the
/// dialogue-to-music ratio over the stretches where both play. `None` when there is nothing to mix.
pub fn mix_report(inp: &MixInputs<'_>) -> Option<MixReport> {
    let estimated;
    let (source, trace) = if let Some(pm) = inp.printmaster {
        ("printmaster".to_string(), pm)
    } else if let Some(t) = inp.mix.and_then(|m| m.trace.as_ref()) {
        (inp.mix.map(|m| m.source.clone()).unwrap_or_default(), t)
    } else if let [only] = inp.stems.as_slice() {
        ("single stem".to_string(), *only)
    } else if !inp.stems.is_empty() {
        estimated = energy_sum(&inp.stems);
        (
            inp.mix
                .map(|m| m.source.clone())
                .unwrap_or_else(|| "sum of stem energies".to_string()),
            &estimated,
        )
    } else {
        return None;
    };
    let dialogue = union(inp.dialogue);
    let overlap = intersect(&dialogue, inp.music);
    let dialogue_to_music_lu = match (inp.dx, inp.mx) {
        (Some(dx), Some(mx)) if !overlap.is_empty() => {
            let d = dx.spans(&overlap).integrated_lufs;
            let m = mx.spans(&overlap).integrated_lufs;
            d.zip(m).map(|(d, m)| d - m)
        }
        _ => None,
    };
    Some(MixReport {
        source,
        loudness: whole_but(trace, inp.leave_out),
        dialogue_gated_lufs: if dialogue.is_empty() {
            None
        } else {
            trace.spans(&dialogue).integrated_lufs
        },
        dialogue_to_music_lu,
    })
}
