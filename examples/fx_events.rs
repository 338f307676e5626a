//! Development aid: meters one stem file and prints the effects detector's events and the stem's
//! loudness as JSON, for `tools/reference/fx_eval.py` (scores events against a dev reel's
//! `fx_hits`). Decodes whole files with symphonia; the product streams through `decode`.
//!
//!     cargo run --example fx_events -- /tmp/dev-reels/DEV1/DEV1_FX.wav

use std::path::Path;

use stemscope::decode::ChannelRole::{self, *};
use stemscope::detect::effects;
use stemscope::features::FeatureTrack;
use stemscope::loudness::LoudnessMeter;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: fx_events FILE"))?;
    let (rate, channels, x) = decode(Path::new(&path))?;
    let roles: Vec<ChannelRole> = match channels {
        1 => vec![Mono],
        2 => vec![Left, Right],
        6 => vec![Left, Right, Centre, Lfe, LeftSurround, RightSurround],
        n => vec![Unknown; n],
    };
    let mut m = LoudnessMeter::new(&roles, rate, false)?;
    for block in x.chunks(channels * rate as usize / 2) {
        m.push(block)?;
    }
    let trace = m.finish();
    let fx = effects::detect(&FeatureTrack::default(), &trace);
    let out = serde_json::json!({
        "file": path,
        "loudness": trace.whole(),
        "effects_events": fx.events,
        "effects_activity": fx.activity,
        "noise_floor_lufs": fx.noise_floor_lufs,
        "effects_bed": fx.bed,
        "sample_peak": trace.sample_peak,
        "momentary_lufs": (0..trace.len()).map(|i| trace.momentary_lufs(i)).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

fn decode(path: &Path) -> anyhow::Result<(u32, usize, Vec<f32>)> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let mss = MediaSourceStream::new(Box::new(std::fs::File::open(path)?), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe().probe(
        &hint,
        mss,
        FormatOptions::default(),
        MetadataOptions::default(),
    )?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| anyhow::anyhow!("no audio track"))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| anyhow::anyhow!("no audio parameters"))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())?;
    let (mut rate, mut channels) = (0, 0);
    let (mut out, mut buf) = (Vec::new(), Vec::<f32>::new());
    while let Some(packet) = format.next_packet()? {
        if packet.track_id != track_id {
            continue;
        }
        let audio = decoder.decode(&packet)?;
        rate = audio.spec().rate();
        channels = audio.spec().channels().count();
        audio.copy_to_vec_interleaved(&mut buf);
        out.extend_from_slice(&buf);
    }
    Ok((rate, channels, out))
}
