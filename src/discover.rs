//! Discover: finds the stems of a title in a folder by the tokens in their names (DX, MX, FX, PM, reels,
//! per-channel suffixes) and groups them into one [`StemSet`] per reel.
//!
//! A file name (without extension) is split into tokens on `_`, `-`, `.` and spaces and compared
//! case-insensitively:
//!
//! | stem | tokens |
//! |---|---|
//! | dialogue | DX, DIA, DIAL, DIALOG, DIALOGUE |
//! | music | MX, MUS, MUSIC |
//! | effects | FX, SFX, EFX, EFFECTS |
//! | printmaster | PM, PRINTMASTER, MIX, FULLMIX |
//!
//! When a name holds several stem tokens, the last DX/MX/FX token wins (titles come first in
//! names), and the printmaster words count only when no DX/MX/FX token is present, so
//! `Film_Dialogue_Mix.wav` is dialogue. Reels are `R1`, `R01`, `REEL1`, `Reel_2`. A trailing channel
//! token (`L R C LFE Ls Rs Lrs Rrs` and common synonyms) marks one mono file per channel; the files
//! of one stem and reel are then grouped into one [`StemFiles`] in the order L R C LFE Ls Rs Lrs Rrs.
//! Only audio extensions are considered (wav, wave, bwf, rf64, w64, flac, aif, aiff, ogg, oga, mp3,
//! m4a) and hidden files (`.` prefix, e.g. macOS `._` resource forks) are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::decode::ChannelRole;

/// What a stem carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StemKind {
    Dialogue,
    Music,
    Effects,
    Printmaster,
}

impl StemKind {
    pub const ALL: [StemKind; 4] = [
        StemKind::Dialogue,
        StemKind::Music,
        StemKind::Effects,
        StemKind::Printmaster,
    ];
    /// The key used in report.json (`stems.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            StemKind::Dialogue => "dialogue",
            StemKind::Music => "music",
            StemKind::Effects => "effects",
            StemKind::Printmaster => "printmaster",
        }
    }

    /// The kind whose report.json key is `name` (the inverse of [`StemKind::name`]).
    pub fn from_name(name: &str) -> Option<StemKind> {
        StemKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The files of one stem: one file, or one mono file per channel (in channel order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StemFiles {
    pub kind: StemKind,
    pub paths: Vec<PathBuf>,
}

/// The stems of one timeline (one reel, or the whole title with `--join-reels`).
///
/// With joined reels, `joined_reels` holds each reel's stems in reel order and `stems` lists every
/// kind once with the files of all reels in order (for reporting); open such a stem through
/// [`crate::decode::open_set_stem`], which plays the reels one after another.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StemSet {
    /// Title name (the folder's name unless told otherwise).
    pub title: String,
    /// Reel label (e.g. "R1") when the files name one.
    pub reel: Option<String>,
    pub stems: Vec<StemFiles>,
    /// With `--join-reels`: the reels to play one after another, each a list of stems.
    pub joined_reels: Vec<Vec<StemFiles>>,
}

impl StemSet {
    pub fn get(&self, kind: StemKind) -> Option<&StemFiles> {
        self.stems.iter().find(|s| s.kind == kind)
    }

    /// The kinds present in the set, in [`StemKind`] order.
    pub fn kinds(&self) -> Vec<StemKind> {
        let mut k: Vec<StemKind> = self.stems.iter().map(|s| s.kind).collect();
        k.sort();
        k.dedup();
        k
    }
}

#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    pub join_reels: bool,
    pub allow_missing: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{path}: no such file or folder")]
    NotFound { path: PathBuf },
    #[error("{path}: is a file, not a folder (give the folder of stems, or --dx/--mx/--fx files)")]
    NotAFolder { path: PathBuf },
    #[error("{path}: cannot read the folder: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the folder is empty")]
    EmptyFolder { path: PathBuf },
    #[error(
        "{path}: no stems recognised (name files with DX/MX/FX tokens, e.g. Title_DX.wav, or pass --dx/--mx/--fx)"
    )]
    NoStems { path: PathBuf },
    #[error(
        "{path}: no music stem{reel} (found {found}); pass --allow-missing to analyse the other stems alone"
    )]
    MissingMusic {
        path: PathBuf,
        reel: String,
        found: String,
    },
    #[error("{path}: more than one {kind} stem{reel}: {files}; keep one or pass --dx/--mx/--fx")]
    Ambiguous {
        path: PathBuf,
        kind: &'static str,
        reel: String,
        files: String,
    },
}

/// Audio file extensions considered (lower case).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "bwf", "rf64", "w64", "flac", "aif", "aiff", "ogg", "oga", "mp3", "m4a",
];

/// What a file name tells about a stem file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameInfo {
    pub kind: StemKind,
    /// Reel number, when the name has one.
    pub reel: Option<u32>,
    /// Channel carried, when the name ends with a channel token.
    pub channel: Option<ChannelRole>,
}

fn tokens(name: &str) -> Vec<String> {
    name.split(['_', '-', '.', ' '])
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn kind_token(t: &str) -> Option<StemKind> {
    match t {
        "dx" | "dia" | "dial" | "dialog" | "dialogue" => Some(StemKind::Dialogue),
        "mx" | "mus" | "music" => Some(StemKind::Music),
        "fx" | "sfx" | "efx" | "effects" => Some(StemKind::Effects),
        "pm" | "printmaster" | "mix" | "fullmix" => Some(StemKind::Printmaster),
        _ => None,
    }
}

/// `r1`, `r01`, `reel1`, `reel01` (at most three digits).
fn reel_token(t: &str) -> Option<u32> {
    let digits = t.strip_prefix("reel").or_else(|| t.strip_prefix('r'))?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn channel_token(t: &str) -> Option<ChannelRole> {
    use ChannelRole::*;
    Some(match t {
        "l" | "left" => Left,
        "r" | "right" => Right,
        "c" | "ctr" | "center" | "centre" => Centre,
        "lfe" | "sub" | "boom" => Lfe,
        "ls" | "lss" | "lsurr" => LeftSurround,
        "rs" | "rss" | "rsurr" => RightSurround,
        "lrs" | "lsr" | "lb" | "lbs" => LeftRearSurround,
        "rrs" | "rsr" | "rb" | "rbs" => RightRearSurround,
        _ => return None,
    })
}

/// Position of a role in the film channel order L R C LFE Ls Rs Lrs Rrs.
pub fn channel_rank(role: ChannelRole) -> usize {
    use ChannelRole::*;
    match role {
        Left => 0,
        Right => 1,
        Centre | Mono => 2,
        Lfe => 3,
        LeftSurround => 4,
        RightSurround => 5,
        LeftRearSurround => 6,
        RightRearSurround => 7,
        Unknown => 8,
    }
}

/// Reads the stem kind, reel and channel from a file name (`None` when it names no stem).
pub fn parse_name(path: &Path) -> Option<NameInfo> {
    let stem = path.file_stem()?.to_str()?;
    let toks = tokens(stem);
    let mut kind = None;
    let mut pm = None;
    let mut reel = None;
    for (i, t) in toks.iter().enumerate() {
        match kind_token(t) {
            Some(StemKind::Printmaster) => pm = Some(StemKind::Printmaster),
            Some(k) => kind = Some(k),
            None => {}
        }
        if let Some(r) = reel_token(t) {
            reel = Some(r);
        } else if t == "reel"
            && let Some(r) = toks.get(i + 1).and_then(|n| n.parse::<u32>().ok())
        {
            reel = Some(r);
        }
    }
    let kind = kind.or(pm)?;
    // The channel token is the last token, or the one before a trailing reel token; it must not be
    // the stem token itself.
    let mut last = toks.len().checked_sub(1)?;
    if last > 0 && (reel_token(&toks[last]).is_some() || toks[last].parse::<u32>().is_ok()) {
        last -= 1;
    }
    let channel = if last > 0 && kind_token(&toks[last]).is_none() {
        channel_token(&toks[last])
    } else {
        None
    };
    Some(NameInfo {
        kind,
        reel,
        channel,
    })
}

/// The channel a per-channel file carries, from its name's suffix.
pub fn channel_role_of(path: &Path) -> Option<ChannelRole> {
    parse_name(path).and_then(|n| n.channel).or_else(|| {
        let stem = path.file_stem()?.to_str()?;
        channel_token(tokens(stem).last()?)
    })
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

fn reel_label(reel: Option<u32>) -> Option<String> {
    reel.map(|r| format!("R{r}"))
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file and the channel its name says it carries.
type ChannelFile = (Option<ChannelRole>, PathBuf);

/// Finds the stem sets (one per reel unless joined) in `dir`.
pub fn discover(dir: &Path, opts: &DiscoverOptions) -> Result<Vec<StemSet>, DiscoverError> {
    let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DiscoverError::NotFound {
            path: dir.to_path_buf(),
        },
        _ => DiscoverError::Unreadable {
            path: dir.to_path_buf(),
            source: e,
        },
    })?;
    if !meta.is_dir() {
        return Err(DiscoverError::NotAFolder {
            path: dir.to_path_buf(),
        });
    }
    let unreadable = |source| DiscoverError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut visible = 0usize;
    // reel -> kind -> files (with their channel token)
    let mut found: BTreeMap<Option<u32>, BTreeMap<StemKind, Vec<ChannelFile>>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        visible += 1;
        if !path.is_file() || !is_audio(&path) {
            continue;
        }
        if let Some(n) = parse_name(&path) {
            found
                .entry(n.reel)
                .or_default()
                .entry(n.kind)
                .or_default()
                .push((n.channel, path));
        }
    }
    if visible == 0 {
        return Err(DiscoverError::EmptyFolder {
            path: dir.to_path_buf(),
        });
    }
    if found.is_empty() {
        return Err(DiscoverError::NoStems {
            path: dir.to_path_buf(),
        });
    }
    let title = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "title".into());

    let mut reels: Vec<(Option<u32>, Vec<StemFiles>)> = Vec::new();
    for (reel, kinds) in found {
        let reel_note = reel.map(|r| format!(" in reel R{r}")).unwrap_or_default();
        let mut stems = Vec::new();
        for (kind, mut files) in kinds {
            files.sort_by(|a, b| a.1.cmp(&b.1));
            let per_channel = files.len() > 1
                && files.iter().all(|(c, _)| c.is_some())
                && files
                    .iter()
                    .enumerate()
                    .all(|(i, (c, _))| !files[..i].iter().any(|(d, _)| d == c));
            if files.len() > 1 && !per_channel {
                let paths: Vec<PathBuf> = files.into_iter().map(|(_, p)| p).collect();
                return Err(DiscoverError::Ambiguous {
                    path: dir.to_path_buf(),
                    kind: kind.name(),
                    reel: reel_note,
                    files: list(&paths),
                });
            }
            files.sort_by_key(|(c, _)| c.map(channel_rank).unwrap_or(0));
            stems.push(StemFiles {
                kind,
                paths: files.into_iter().map(|(_, p)| p).collect(),
            });
        }
        if !opts.allow_missing && !stems.iter().any(|s| s.kind == StemKind::Music) {
            let found = stems
                .iter()
                .map(|s| format!("{} ({})", s.kind.name(), list(&s.paths)))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(DiscoverError::MissingMusic {
                path: dir.to_path_buf(),
                reel: reel_note,
                found,
            });
        }
        reels.push((reel, stems));
    }

    if opts.join_reels && reels.len() > 1 {
        let mut stems: Vec<StemFiles> = Vec::new();
        for (_, reel_stems) in &reels {
            for s in reel_stems {
                match stems.iter_mut().find(|t| t.kind == s.kind) {
                    Some(t) => t.paths.extend(s.paths.iter().cloned()),
                    None => stems.push(s.clone()),
                }
            }
        }
        stems.sort_by_key(|s| s.kind);
        return Ok(vec![StemSet {
            title,
            reel: None,
            stems,
            joined_reels: reels.into_iter().map(|(_, s)| s).collect(),
        }]);
    }
    Ok(reels
        .into_iter()
        .map(|(reel, stems)| StemSet {
            title: title.clone(),
            reel: reel_label(reel),
            stems,
            joined_reels: Vec::new(),
        })
        .collect())
}
