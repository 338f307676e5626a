//! Symphonia-backed decoding for FLAC, AIFF, Ogg Vorbis, MP3 and the rest.
//!
//! Symphonia demuxes and decodes packet by packet; this source hands out the decoded frames in the
//! sizes the caller asks for (keeping the rest of a packet for the next call). A packet that fails to
//! decode (a corrupt FLAC frame, a damaged MP3 frame) is skipped and counted, and decoding carries on
//! with the next one: a few milliseconds of a stem missing is better than no analysis. A stream that
//! ends early (the file was cut) ends the stem and, when the container told the length, is reported
//! as truncated.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_ALAC, CODEC_ID_FLAC, CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3,
    CODEC_ID_OPUS, CODEC_ID_VORBIS,
};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{AudioSource, ChannelRole, DecodeDiagnostics, DecodeError, StreamInfo, limits};

/// Consecutive unreadable packets after which the stream is given up as garbage.
const MAX_CONSECUTIVE_ERRORS: u32 = 1_000;

pub struct SymphoniaSource {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: StreamInfo,
    /// Decoded samples not yet handed out, from `pending_pos` on.
    pending: Vec<f32>,
    pending_pos: usize,
    diagnostics: DecodeDiagnostics,
    frames_out: u64,
    ended: bool,
    /// Packet timestamps count frames (FLAC, time base 1/rate), so a jump reveals lost packets.
    frame_timestamps: bool,
    /// Where the next packet should start, in frames, when timestamps count frames.
    next_pts: Option<i64>,
    /// Frames of silence owed for packets that a container reader skipped while resyncing.
    silence_left: u64,
    /// Frames per packet seen so far (for counting how many packets a gap held).
    packet_frames: u64,
}

/// Longest gap (seconds) filled with silence to keep the timeline; longer jumps are counted only.
const MAX_GAP_FILL_S: u64 = 60;

fn map_error(e: SymError) -> DecodeError {
    match e {
        SymError::IoError(io) => DecodeError::Io(io),
        SymError::Unsupported(what) => DecodeError::Unsupported(what.to_string()),
        SymError::DecodeError(what) => DecodeError::Stream(what.to_string()),
        SymError::LimitError(what) => DecodeError::Stream(format!("limit reached: {what}")),
        other => DecodeError::Stream(other.to_string()),
    }
}

/// Roles for symphonia's channel description (positioned channels use the WAVE mask bit order).
fn roles(channels: &Channels) -> Vec<ChannelRole> {
    if channels.count() == 1 {
        return vec![ChannelRole::Mono];
    }
    match channels {
        Channels::Positioned(pos) => match u32::try_from(pos.bits()) {
            Ok(mask) => super::riff::roles_from_mask(mask),
            Err(_) => super::default_roles(channels.count()),
        },
        other => super::default_roles(other.count()),
    }
}

impl SymphoniaSource {
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Err(DecodeError::Empty);
        }
        let ext = path.extension().and_then(|e| e.to_str());
        Self::from_media(Box::new(file), ext)
    }

    /// Decodes an in-memory file (`ext` is a hint for the prober, e.g. "flac").
    pub fn from_bytes(bytes: Vec<u8>, ext: Option<&str>) -> Result<Self, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        Self::from_media(Box::new(std::io::Cursor::new(bytes)), ext)
    }

    fn from_media(
        media: Box<dyn symphonia::core::io::MediaSource>,
        ext: Option<&str>,
    ) -> Result<Self, DecodeError> {
        let mss = MediaSourceStream::new(media, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = ext {
            hint.with_extension(&ext.to_ascii_lowercase());
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::IoError(io) if io.kind() != std::io::ErrorKind::UnexpectedEof => {
                    DecodeError::Io(io)
                }
                SymError::Unsupported(_) | SymError::IoError(_) => {
                    DecodeError::NotAudio("no known audio container found".into())
                }
                other => DecodeError::NotAudio(other.to_string()),
            })?;
        Self::from_format(format)
    }

    fn from_format(format: Box<dyn FormatReader>) -> Result<Self, DecodeError> {
        let container = format.format_info().short_name.to_string();
        let track = format.default_track(TrackType::Audio).ok_or_else(|| {
            DecodeError::NotAudio(format!("{container} file without an audio track"))
        })?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| DecodeError::Unsupported(format!("{container} track of unknown codec")))?
            .clone();
        let track_id = track.id;
        let frames = track.num_frames;
        let time_base = track.time_base;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                // Say which stream and why: symphonia reads AAC-LC only up to two channels, so
                // a 5.1 AAC file fails here while a stereo one of the same codec decodes.
                SymError::Unsupported(why) => DecodeError::Unsupported(format!(
                    "codec {} in {container}{} ({why}); convert it to WAV or FLAC, e.g. \
                     `ffmpeg -i IN -c:a pcm_s24le OUT.wav`",
                    codec_label(params.codec),
                    params
                        .channels
                        .as_ref()
                        .map(|c| format!(", {} channels", c.count()))
                        .unwrap_or_default(),
                )),
                other => map_error(other),
            })?;
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| DecodeError::Unsupported("stream without a sample rate".into()))?;
        if !(limits::MIN_SAMPLE_RATE..=limits::MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(DecodeError::Unsupported(format!(
                "sample rate {sample_rate} Hz (supported {}..{} Hz)",
                limits::MIN_SAMPLE_RATE,
                limits::MAX_SAMPLE_RATE
            )));
        }
        let channels =
            params.channels.as_ref().map(roles).ok_or_else(|| {
                DecodeError::Unsupported("stream without a channel layout".into())
            })?;
        if channels.is_empty() || channels.len() > limits::MAX_CHANNELS {
            return Err(DecodeError::Unsupported(format!(
                "{} channels (1..{} supported)",
                channels.len(),
                limits::MAX_CHANNELS
            )));
        }
        let format_name = describe(&container, params.codec, params.bits_per_sample);
        // FLAC frames carry their sample number, and the reader skips damaged frames by
        // resynchronising, so a timestamp jump is the only sign of loss. (Vorbis and MP3 packet
        // timestamps are derived by the readers; damage there shows up as decode errors.)
        let frame_timestamps = params.codec == CODEC_ID_FLAC
            && time_base.is_some_and(|tb| tb.numer.get() == 1 && tb.denom.get() == sample_rate);
        Ok(SymphoniaSource {
            format,
            decoder,
            track_id,
            info: StreamInfo {
                sample_rate,
                channels,
                frames,
                format: format_name,
                time_reference: None,
            },
            pending: Vec::new(),
            pending_pos: 0,
            diagnostics: DecodeDiagnostics::default(),
            frames_out: 0,
            ended: false,
            frame_timestamps,
            next_pts: None,
            silence_left: 0,
            packet_frames: 0,
        })
    }

    /// Decodes the next good packet into `pending`; false at the end of the stream.
    fn refill(&mut self) -> Result<bool, DecodeError> {
        let mut consecutive = 0u32;
        let ch = self.info.channel_count();
        loop {
            if self.ended {
                return Ok(false);
            }
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.ended = true;
                    return Ok(false);
                }
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.end_early();
                    return Ok(false);
                }
                Err(SymError::ResetRequired) => {
                    // A chained Ogg stream (a new logical stream): this tool reads the first.
                    self.ended = true;
                    return Ok(false);
                }
                Err(SymError::DecodeError(_)) => {
                    self.diagnostics.skipped_packets += 1;
                    consecutive += 1;
                    if consecutive > MAX_CONSECUTIVE_ERRORS {
                        return Err(DecodeError::Stream(format!(
                            "{consecutive} unreadable packets in a row"
                        )));
                    }
                    continue;
                }
                Err(e) => return Err(map_error(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            if self.frame_timestamps {
                let pts = packet.pts.get();
                if let Some(expected) = self.next_pts
                    && pts > expected
                {
                    // The reader resynchronised past damaged data: count the lost packets and
                    // owe their length as silence so the stem stays aligned with the others.
                    let gap = (pts - expected) as u64;
                    let per = self.packet_frames.max(1);
                    self.diagnostics.skipped_packets += gap.div_ceil(per);
                    if gap <= MAX_GAP_FILL_S * u64::from(self.info.sample_rate) {
                        self.silence_left += gap;
                    }
                }
                self.next_pts = Some(pts.saturating_add(packet.dur.get() as i64));
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    if buf.frames() == 0 {
                        continue;
                    }
                    if buf.spec().channels().count() != ch {
                        return Err(DecodeError::Stream(format!(
                            "the channel count changed mid-stream ({} -> {})",
                            ch,
                            buf.spec().channels().count()
                        )));
                    }
                    self.packet_frames = self.packet_frames.max(buf.frames() as u64);
                    buf.copy_to_vec_interleaved(&mut self.pending);
                    self.pending_pos = 0;
                    return Ok(true);
                }
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                    self.diagnostics.skipped_packets += 1;
                    consecutive += 1;
                    if consecutive > MAX_CONSECUTIVE_ERRORS {
                        return Err(DecodeError::Stream(format!(
                            "{consecutive} undecodable packets in a row"
                        )));
                    }
                }
                Err(e) => return Err(map_error(e)),
            }
        }
    }

    fn end_early(&mut self) {
        self.ended = true;
        if let Some(expected) = self.info.frames
            && self.frames_out < expected
        {
            self.diagnostics.truncated = Some((expected, self.frames_out));
        }
    }
}

impl AudioSource for SymphoniaSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, DecodeError> {
        out.clear();
        let ch = self.info.channel_count();
        if self.pending_pos >= self.pending.len() && self.silence_left == 0 && !self.refill()? {
            return Ok(0);
        }
        if self.silence_left > 0 {
            // Silence owed for a gap comes before the packet that revealed it.
            let n = self.silence_left.min(max_frames.max(1) as u64) as usize;
            self.silence_left -= n as u64;
            out.resize(n * ch, 0.0);
            self.frames_out += n as u64;
            return Ok(n);
        }
        let avail = (self.pending.len() - self.pending_pos) / ch;
        let n = avail.min(max_frames.max(1));
        out.extend_from_slice(&self.pending[self.pending_pos..self.pending_pos + n * ch]);
        self.pending_pos += n * ch;
        self.frames_out += n as u64;
        Ok(n)
    }

    fn diagnostics(&self) -> DecodeDiagnostics {
        self.diagnostics.clone()
    }
}

fn codec_label(codec: symphonia::core::codecs::audio::AudioCodecId) -> String {
    match codec {
        CODEC_ID_FLAC => "FLAC".into(),
        CODEC_ID_VORBIS => "Vorbis".into(),
        CODEC_ID_MP3 => "MP3".into(),
        CODEC_ID_MP2 => "MP2".into(),
        CODEC_ID_MP1 => "MP1".into(),
        CODEC_ID_AAC => "AAC".into(),
        CODEC_ID_ALAC => "ALAC".into(),
        CODEC_ID_OPUS => "Opus".into(),
        other => format!("{other:?}"),
    }
}

/// "FLAC 24-bit", "Ogg Vorbis", "MP3", "AIFF PCM 16-bit", ...
fn describe(
    container: &str,
    codec: symphonia::core::codecs::audio::AudioCodecId,
    bits: Option<u32>,
) -> String {
    let bits = bits.map(|b| format!(" {b}-bit")).unwrap_or_default();
    let upper = container.to_ascii_uppercase();
    match codec {
        CODEC_ID_FLAC => format!("FLAC{bits}"),
        CODEC_ID_VORBIS => "Ogg Vorbis".into(),
        CODEC_ID_OPUS => "Ogg Opus".into(),
        CODEC_ID_MP3 => "MP3".into(),
        CODEC_ID_MP2 => "MP2".into(),
        CODEC_ID_MP1 => "MP1".into(),
        CODEC_ID_AAC => format!("{upper} AAC"),
        CODEC_ID_ALAC => format!("{upper} ALAC{bits}"),
        _ if upper.contains("AIFF") => format!("AIFF PCM{bits}"),
        _ => format!("{upper} {}{bits}", codec_label(codec)),
    }
}
