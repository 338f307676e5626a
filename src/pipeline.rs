//! Pipeline: runs the stages for one title. One streaming pass reads every stem in lockstep (blocks of
//! the same duration), conditions it, extracts features and meters loudness, stems in parallel; the
//! detectors then read the per-stem summaries, the timeline is assembled and the report built.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::condition::{ANALYSIS_RATE, Conditioner};
use crate::decode::read_ahead::ReadAhead;
use crate::decode::{BlockReader, DecodeDiagnostics, StreamInfo};
use crate::detect;
use crate::detect::leader::{Leader, ToneProbe, ToneTrack};
use crate::discover::{StemKind, StemSet};
use crate::features::image::{FrontImage, FrontImageMeter};
use crate::features::{FeatureConfig, FeatureExtractor, FeatureTrack};
use crate::loudness::{self, LoudnessMeter, LoudnessTrace, MixAnalysis, MixMeter};
use crate::report::{AnalysisInfo, Report, SCHEMA_VERSION, StemReport};
use crate::timeline::{CueSegue, MusicCue, Span};

/// Settings of one analysis.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Measure true peak (4x oversampling) on every stem, not only the sample peak.
    pub true_peak: bool,
    pub features: FeatureConfig,
    /// Seconds of audio read per block and per stem.
    pub block_s: f64,
    /// Scenes (given or segmented) and the frame rate of timecodes.
    pub scenes: crate::timeline::scenes::SceneOptions,
    /// Settings of the music cue detector.
    pub cues: detect::music::CueConfig,
    /// When set, the streaming pass adds the milliseconds of audio it has processed (batch progress
    /// bars read it).
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            true_peak: false,
            features: FeatureConfig::default(),
            block_s: 0.5,
            scenes: Default::default(),
            cues: Default::default(),
            progress: None,
        }
    }
}

/// What the streaming pass keeps of one stem.
#[derive(Debug, Clone)]
pub struct StemAnalysis {
    pub kind: StemKind,
    pub files: Vec<PathBuf>,
    pub info: StreamInfo,
    pub frames_read: u64,
    pub features: FeatureTrack,
    pub loudness: LoudnessTrace,
    /// What leader detection needs beyond the frame summaries (see [`detect::leader`]).
    pub tone: ToneTrack,
    /// The front pair's mid/side speech-band balance (music stems with a Left and a Right channel).
    pub front_image: Option<FrontImage>,
    pub diagnostics: DecodeDiagnostics,
}

impl StemAnalysis {
    pub fn duration_s(&self) -> f64 {
        self.frames_read as f64 / self.info.sample_rate.max(1) as f64
    }
}

/// The summaries of every stem of one title.
#[derive(Debug, Clone, Default)]
pub struct TitleAnalysis {
    pub stems: BTreeMap<StemKind, StemAnalysis>,
    /// The sum of the DX, MX and FX stems, metered in the same pass (none with a printmaster).
    pub mix: Option<MixAnalysis>,
    pub warnings: Vec<String>,
}

impl TitleAnalysis {
    pub fn get(&self, kind: StemKind) -> Option<&StemAnalysis> {
        self.stems.get(&kind)
    }
}

struct StemWorker {
    kind: StemKind,
    files: Vec<PathBuf>,
    /// Decodes the next block while this one is analysed.
    ahead: ReadAhead,
    conditioner: Conditioner,
    extractor: FeatureExtractor,
    meter: LoudnessMeter,
    image: Option<FrontImageMeter>,
    track: FeatureTrack,
    probe: ToneProbe,
    block: Vec<f32>,
    analysis_block: Vec<f32>,
    frames_read: u64,
}

impl StemWorker {
    fn open(
        set: &StemSet,
        kind: StemKind,
        files: &[PathBuf],
        opts: &AnalyzeOptions,
    ) -> crate::Result<StemWorker> {
        let source = crate::decode::open_set_stem(set, kind)?;
        let info = source.info().clone();
        let frames = ((info.sample_rate as f64 * opts.block_s).round() as usize).max(1);
        let path = files.first().cloned().unwrap_or_default();
        Ok(StemWorker {
            kind,
            files: files.to_vec(),
            ahead: ReadAhead::new(BlockReader::new(source), path, frames)?,
            conditioner: Conditioner::new(kind, &info.channels, info.sample_rate)?,
            extractor: FeatureExtractor::new(opts.features.clone()),
            // True peak only when asked, printmaster included: at ~100x real time per 5.1 stem it
            // alone would eat the whole speed budget (see docs/schema/loudness.md).
            meter: LoudnessMeter::new(&info.channels, info.sample_rate, opts.true_peak)?,
            // Only the vocal detector reads the image, and only on the music stem.
            image: if kind == StemKind::Music {
                FrontImageMeter::new(&info.channels, info.sample_rate)
            } else {
                None
            },
            track: FeatureTrack::default(),
            probe: ToneProbe::new(&opts.features),
            block: Vec::new(),
            analysis_block: Vec::new(),
            frames_read: 0,
        })
    }

    /// Analyses the stem's next block while its reader decodes the one after; returns false, with
    /// `block` empty, once the stem has ended (the mix meter then reads silence for it).
    fn step(&mut self) -> crate::Result<bool> {
        // Loudness reads the original channels, the features the conditioned signal: independent,
        // so they run side by side (the meter's K-weighting is the largest serial part of a stem).
        let StemWorker {
            ahead,
            meter,
            image,
            conditioner,
            extractor,
            track,
            probe,
            block,
            analysis_block,
            ..
        } = self;
        let stepped = ahead.next_with(block, |block| {
            let (metered, featured) = rayon::join(
                || {
                    if let Some(image) = image.as_mut() {
                        image.push(block);
                    }
                    meter.push(block)
                },
                || -> crate::Result<()> {
                    analysis_block.clear();
                    conditioner.push(block, analysis_block)?;
                    extractor.push_observed(analysis_block, track, &mut |v| probe.observe(v));
                    probe.push_samples(analysis_block);
                    Ok(())
                },
            );
            metered?;
            featured
        })?;
        let channels = self.ahead.reader().info().channel_count().max(1);
        self.frames_read += (self.block.len() / channels) as u64;
        Ok(stepped.is_some())
    }

    fn finish(mut self) -> crate::Result<StemAnalysis> {
        self.analysis_block.clear();
        self.conditioner.finish(&mut self.analysis_block)?;
        let probe = &mut self.probe;
        self.extractor
            .push_observed(&self.analysis_block, &mut self.track, &mut |v| {
                probe.observe(v)
            });
        self.extractor
            .finish_observed(&mut self.track, &mut |v| probe.observe(v));
        self.probe.push_samples(&self.analysis_block);
        Ok(StemAnalysis {
            kind: self.kind,
            files: self.files,
            info: self.ahead.reader().info().clone(),
            frames_read: self.frames_read,
            features: self.track,
            loudness: self.meter.finish(),
            tone: self.probe.finish(),
            front_image: self.image.map(FrontImageMeter::finish),
            diagnostics: self.ahead.reader().diagnostics(),
        })
    }
}

/// The streaming pass: decode, condition, features and loudness for every stem of the set.
pub fn analyze_stems(set: &StemSet, opts: &AnalyzeOptions) -> crate::Result<TitleAnalysis> {
    let mut workers = set
        .stems
        .par_iter()
        .map(|s| StemWorker::open(set, s.kind, &s.paths, opts))
        .collect::<crate::Result<Vec<_>>>()?;
    let layouts: Vec<_> = workers
        .iter()
        .map(|w| {
            (
                w.kind,
                w.ahead.reader().info().channels.clone(),
                w.ahead.reader().info().sample_rate,
            )
        })
        .collect();
    let mut mix = MixMeter::for_stems(&layouts, opts.true_peak)?;
    // The mix is metered one step behind, on the blocks of the previous step, while the stems
    // read and analyse the next: metering the sum is serial work that would otherwise leave
    // threads idle at every step. The blocks are swapped, not copied.
    let kinds: Vec<StemKind> = workers.iter().map(|w| w.kind).collect();
    let mut mix_blocks: Vec<Vec<f32>> = vec![Vec::new(); workers.len()];
    let mut mix_pending = false;
    loop {
        let (metered, stepped) = rayon::join(
            || match mix.as_mut() {
                Some(m) if mix_pending => m.push_stems(
                    kinds
                        .iter()
                        .copied()
                        .zip(mix_blocks.iter().map(Vec::as_slice)),
                ),
                _ => Ok(()),
            },
            || {
                workers
                    .par_iter_mut()
                    .map(StemWorker::step)
                    .collect::<crate::Result<Vec<bool>>>()
            },
        );
        metered?;
        if !stepped?.contains(&true) {
            // Every stem has ended; this step metered the mix of the last blocks.
            break;
        }
        if let Some(p) = &opts.progress {
            let ms = (opts.block_s * 1000.0).round() as u64;
            p.fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
        }
        for (w, b) in workers.iter_mut().zip(mix_blocks.iter_mut()) {
            std::mem::swap(&mut w.block, b);
        }
        mix_pending = true;
    }
    let mut title = TitleAnalysis {
        mix: mix.map(MixMeter::finish),
        ..Default::default()
    };
    if let Some(m) = &title.mix {
        title.warnings.extend(m.warnings.iter().cloned());
    }
    for w in workers {
        let a = w.finish()?;
        title.stems.insert(a.kind, a);
    }
    title.warnings.extend(check_set(&title));
    Ok(title)
}

/// Warnings about a stem set whose members disagree (length, rate, start time) or decoded badly.
fn check_set(title: &TitleAnalysis) -> Vec<String> {
    let mut w = Vec::new();
    for a in title.stems.values() {
        let name = a
            .files
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if let Some((expected, found)) = a.diagnostics.truncated {
            w.push(format!(
                "{name}: truncated: the header claims {expected} frames, the file holds {found}; analysed what is there"
            ));
        }
        if a.diagnostics.skipped_packets > 0 {
            w.push(format!(
                "{name}: skipped {} corrupt packet(s)",
                a.diagnostics.skipped_packets
            ));
        }
    }
    let stems: Vec<&StemAnalysis> = title.stems.values().collect();
    if let Some(first) = stems.first() {
        for other in &stems[1..] {
            if other.info.sample_rate != first.info.sample_rate {
                w.push(format!(
                    "sample rates differ: {} is {} Hz, {} is {} Hz",
                    first.kind.name(),
                    first.info.sample_rate,
                    other.kind.name(),
                    other.info.sample_rate
                ));
            }
            // One video frame at 24 fps.
            if (other.duration_s() - first.duration_s()).abs() > 1.0 / 24.0 {
                w.push(format!(
                    "lengths differ by more than one frame: {} is {:.3} s, {} is {:.3} s",
                    first.kind.name(),
                    first.duration_s(),
                    other.kind.name(),
                    other.duration_s()
                ));
            }
            let start = |a: &StemAnalysis| {
                a.info
                    .time_reference
                    .map(|t| t as f64 / f64::from(a.info.sample_rate.max(1)))
            };
            match (start(first), start(other)) {
                // Half a millisecond: well under a frame, above rounding between rates.
                (Some(a), Some(b)) if (a - b).abs() > 0.0005 => w.push(format!(
                    "start timecodes differ: {} starts at {a:.3} s, {} at {b:.3} s after midnight",
                    first.kind.name(),
                    other.kind.name()
                )),
                (Some(_), None) | (None, Some(_)) => w.push(format!(
                    "start timecodes differ: only one of {} and {} has a BWF time reference",
                    first.kind.name(),
                    other.kind.name()
                )),
                _ => {}
            }
        }
    }
    w
}

/// Runs the whole analysis of one stem set and builds its report.
pub fn analyze(set: &StemSet, opts: &AnalyzeOptions) -> crate::Result<Report> {
    let started = Instant::now();
    let title = analyze_stems(set, opts)?;
    let mut report = build_report(set, &title, opts);
    report.analysis.elapsed_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What the detectors find on the stems' summaries, before the leader's marks cut it.
struct Detections {
    dialogue: Option<Vec<Span>>,
    vocal_model: crate::Result<&'static crate::model::VocalModel>,
    /// With a music stem and a vocal model.
    vocals: Option<detect::vocals::VocalActivity>,
    music: Option<detect::music::MusicCues>,
    effects: Option<detect::effects::EffectsActivity>,
    /// Per stem (dialogue, then effects).
    source_music: Vec<(StemKind, Vec<crate::timeline::SourceMusic>)>,
}

impl Detections {
    /// Runs the detectors side by side: each reads only the summaries, and together they are the
    /// serial tail of an analysis, which a second thread would otherwise watch idle.
    fn of(title: &TitleAnalysis, cues: &detect::music::CueConfig) -> Detections {
        let dx = title.get(StemKind::Dialogue);
        let mx = title.get(StemKind::Music);
        let fx = title.get(StemKind::Effects);
        // Loaded once per process (parsed on first use), before the detectors fan out.
        let vocal_model = crate::model::VocalModel::embedded();
        let (mut dialogue, mut vocals, mut music, mut effects, mut source_music) =
            (None, None, None, None, Vec::new());
        rayon::scope(|s| {
            s.spawn(|_| dialogue = dx.map(|a| detect::dialogue::detect(&a.features)));
            s.spawn(|_| {
                if let (Some(a), Ok(model)) = (mx, &vocal_model) {
                    let dx_features = dx.map(|d| &d.features);
                    vocals = Some(detect::vocals::detect(
                        &a.features,
                        dx_features,
                        a.front_image.as_ref(),
                        model,
                    ));
                }
            });
            s.spawn(|_| {
                music = mx.map(|a| detect::music::detect_music(&a.features, &a.loudness, cues));
            });
            s.spawn(|_| effects = fx.map(|a| detect::effects::detect(&a.features, &a.loudness)));
            s.spawn(|_| {
                source_music = [dx, fx]
                    .into_iter()
                    .flatten()
                    .map(|a| (a.kind, detect::source_music::detect(&a.features, a.kind)))
                    .collect();
            });
        });
        Detections {
            dialogue,
            vocal_model,
            vocals,
            music,
            effects,
            source_music,
        }
    }
}

/// Detectors, timeline and report from the per-stem summaries.
pub fn build_report(set: &StemSet, title: &TitleAnalysis, opts: &AnalyzeOptions) -> Report {
    let dx = title.get(StemKind::Dialogue);
    let mx = title.get(StemKind::Music);
    let fx = title.get(StemKind::Effects);

    // The leader first: every detector's spans on a stem are cut by its marks' guards.
    let leader_inputs: Vec<detect::leader::StemInput<'_>> = title
        .stems
        .values()
        .map(|a| detect::leader::StemInput {
            kind: a.kind,
            frames: &a.features.frames,
            frame_hop_s: a.features.frame_hop_s,
            tone: &a.tone,
            loudness: &a.loudness,
        })
        .collect();
    let (mut leader, found) = rayon::join(
        || Leader::detect(&leader_inputs),
        || Detections::of(title, &opts.cues),
    );
    let Detections {
        dialogue,
        vocal_model,
        mut vocals,
        music,
        effects,
        source_music: found_source_music,
    } = found;
    let dialogue = dialogue
        .map(|spans| leader.clip(StemKind::Dialogue, spans))
        .unwrap_or_default();
    let mut warnings = title.warnings.clone();
    warnings.extend(leader.sync_warnings(opts.scenes.fps));
    match (&vocals, &vocal_model) {
        (Some(v), _) => warnings.extend(v.warnings.iter().cloned()),
        (None, Err(e)) if mx.is_some() => warnings.push(format!("vocal detection skipped: {e}")),
        _ => {}
    }
    let (cues, segues): (Vec<MusicCue>, Vec<CueSegue>) = mx
        .zip(music)
        .map(|(a, music)| {
            let spans = leader.clip(StemKind::Music, music.cues);
            // Deciding the kinds re-reads the vocal segments in the song cues (detect::vocals).
            let decided = match vocals.as_mut() {
                Some(v) => detect::vocals::classify_cues(&spans, v),
                None => vec![
                    detect::vocals::CueVocals {
                        kind: crate::timeline::CueKind::Score,
                        vocal_s: 0.0,
                        vocal_ratio: 0.0,
                        confidence: 0.0,
                    };
                    spans.len()
                ],
            };
            let mut cues: Vec<MusicCue> = spans
                .iter()
                .zip(decided)
                .enumerate()
                .map(|(i, (span, v))| MusicCue {
                    number: i + 1,
                    start_s: span.start_s,
                    end_s: span.end_s,
                    duration_s: span.duration_s(),
                    kind: v.kind,
                    vocal_s: v.vocal_s,
                    vocal_ratio: v.vocal_ratio,
                    confidence: v.confidence,
                    segue_in: false,
                    segue_out: false,
                    loudness: a.loudness.segment(span.start_s, span.end_s),
                })
                .collect();
            let segues = crate::timeline::link_segues(&mut cues, &music.segues);
            (cues, segues)
        })
        .unwrap_or_default();
    let mut effects = effects.unwrap_or_default();
    effects.activity = leader.clip(StemKind::Effects, std::mem::take(&mut effects.activity));
    effects.events = leader.clip_with(
        StemKind::Effects,
        std::mem::take(&mut effects.events),
        |e| Span::new(e.start_s, e.end_s),
        |e, s| crate::timeline::EffectsEvent {
            start_s: s.start_s,
            end_s: s.end_s,
            ..e
        },
    );
    let music_spans: Vec<Span> = cues.iter().map(MusicCue::span).collect();
    let mix = loudness::mix::mix_report(&loudness::mix::MixInputs {
        printmaster: title.get(StemKind::Printmaster).map(|a| &a.loudness),
        mix: title.mix.as_ref(),
        stems: [dx, mx, fx]
            .into_iter()
            .flatten()
            .map(|a| &a.loudness)
            .collect(),
        dx: dx.map(|a| &a.loudness),
        mx: mx.map(|a| &a.loudness),
        dialogue: &dialogue,
        music: &music_spans,
        leave_out: &leader.loudness_exclusion(None),
    });
    let mut source_music = Vec::new();
    for (kind, found) in found_source_music {
        source_music.extend(leader.clip_with(
            kind,
            found,
            |m| Span::new(m.start_s, m.end_s),
            |m, s| crate::timeline::SourceMusic {
                start_s: s.start_s,
                end_s: s.end_s,
                ..m
            },
        ));
    }

    let duration_s = title
        .stems
        .values()
        .map(StemAnalysis::duration_s)
        .fold(0.0, f64::max);
    let stems = title
        .stems
        .values()
        .map(|a| {
            (
                a.kind.name().to_string(),
                StemReport {
                    files: a.files.clone(),
                    format: a.info.format.clone(),
                    sample_rate: a.info.sample_rate,
                    channels: a.info.channel_count(),
                    channel_layout: a.info.channels.iter().map(|c| format!("{c:?}")).collect(),
                    duration_s: a.duration_s(),
                    // Without the leader: a -20 dBFS tone would lift a quiet stem's figures.
                    loudness: loudness::mix::whole_but(
                        &a.loudness,
                        &leader.loudness_exclusion(Some(a.kind)),
                    ),
                },
            )
        })
        .collect();

    let mut report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        title: set.title.clone(),
        reel: set.reel.clone(),
        duration_s,
        // Filled by `scene_analysis::fill_report` below, which knows the frame rate.
        start_timecode: None,
        stems,
        mix,
        cues,
        segues,
        vocals: vocals
            .map(|v| leader.clip(StemKind::Music, v.segments))
            .unwrap_or_default(),
        dialogue,
        effects_activity: effects.activity,
        effects_events: effects.events,
        effects_bed: fx.map(|_| effects.bed),
        source_music,
        scenes: Vec::new(),
        loudness_curves: BTreeMap::new(),
        leader: BTreeMap::new(),
        warnings,
        analysis: AnalysisInfo {
            stemscope_version: env!("CARGO_PKG_VERSION").to_string(),
            analysis_rate_hz: ANALYSIS_RATE,
            vocal_model: vocal_model
                .as_ref()
                .ok()
                .map(|m| crate::model::describe(m, None)),
            elapsed_s: 0.0,
        },
    };
    let programme = crate::timeline::scene_analysis::Programme {
        span: leader.programme(duration_s),
        leave_out: title
            .stems
            .keys()
            .map(|&k| (k, leader.loudness_exclusion(Some(k))))
            .filter(|(_, out)| !out.is_empty())
            .collect(),
    };
    crate::timeline::scene_analysis::fill_report(&mut report, title, &opts.scenes, programme);
    leader.label(&crate::timeline::timecode::Clock::new(
        report.start_timecode.as_ref().map_or(0.0, |t| t.seconds),
        opts.scenes.fps,
    ));
    report.warnings.extend(leader.missing_pop_warnings());
    report.warnings.extend(leader.missing_tone_warnings());
    report.leader = leader
        .marks
        .into_iter()
        .map(|(k, marks)| (k.name().to_string(), marks))
        .collect();
    report
}
