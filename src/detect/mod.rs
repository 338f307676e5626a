//! Detect: turns each stem's feature and loudness summaries into activity over time: music cues,
//! sung vocals, speech, effects events, and music heard on the dialogue or effects stems; and the
//! reel's leader (sync pops, line-up tone), which the others must not report.

pub mod dialogue;
pub mod effects;
pub mod leader;
pub mod music;
pub mod source_music;
pub mod vocals;

/// Pearson correlation of two equally long series (the shorter length is used); `None` when either
/// is (nearly) constant. Shared by the dialogue-bleed test (speech-band trajectories) and the
/// same-piece veto (pitch-class profiles).
pub(crate) fn pearson(a: &[f32], b: &[f32]) -> Option<f32> {
    let n = a.len().min(b.len());
    if n == 0 {
        return None;
    }
    let (ma, mb) = (
        a[..n].iter().sum::<f32>() / n as f32,
        b[..n].iter().sum::<f32>() / n as f32,
    );
    let (mut sab, mut saa, mut sbb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a[..n].iter().zip(&b[..n]) {
        let (x, y) = (x - ma, y - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    (saa > 1e-6 && sbb > 1e-6).then(|| sab / (saa * sbb).sqrt())
}
