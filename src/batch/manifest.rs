//! Manifest: what a title's report was computed from (each input file's size, modification time and
//! a hash of its first 64 KiB, the options and the stemscope version), stored next to the report so
//! that a later run can skip titles whose inputs have not changed.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::summary::TitleSummary;
use super::titles::{fnv1a64, is_audio};

pub const MANIFEST_NAME: &str = "stemscope-manifest.json";
const HEAD_BYTES: u64 = 64 * 1024;

/// The fingerprint of one input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub name: String,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when the file system does not say).
    pub mtime_ns: u128,
    /// FNV-1a 64 of the first 64 KiB, hex.
    pub head_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub stemscope_version: String,
    /// The analysis and discovery options, as text: any change re-runs the title.
    pub options: String,
    pub inputs: Vec<InputFile>,
    pub summary: TitleSummary,
}

/// Fingerprints of the audio files directly inside `dir`, in name order.
pub fn fingerprint(dir: &Path) -> crate::Result<Vec<InputFile>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| crate::Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| crate::Error::io(dir, e))?;
        let path = entry.path();
        if !is_audio(&path) || entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| crate::Error::io(&path, e))?;
        if !meta.is_file() {
            continue;
        }
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut head = Vec::with_capacity(HEAD_BYTES as usize);
        std::fs::File::open(&path)
            .and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut head))
            .map_err(|e| crate::Error::io(&path, e))?;
        out.push(InputFile {
            name: entry.file_name().to_string_lossy().into_owned(),
            size: meta.len(),
            mtime_ns,
            head_hash: format!("{:016x}", fnv1a64(&head)),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The manifest in `dir`, if there is a readable one.
pub fn load(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST_NAME)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes the manifest through a temporary file and a rename: it appears only once complete, after
/// the reports it vouches for.
pub fn store(dir: &Path, manifest: &Manifest) -> crate::Result<()> {
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| crate::Error::Other(format!("cannot serialise the manifest: {e}")))?;
    write_atomic(&dir.join(MANIFEST_NAME), text.as_bytes())
}

/// Writes `path` through `.<name>.tmp` and a rename, so a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> crate::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| crate::Error::io(parent, e))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| crate::Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| crate::Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_in_content_size_or_time_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("T_DX.wav");
        std::fs::write(&f, vec![1u8; 1000]).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
        let a = fingerprint(dir.path()).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a, fingerprint(dir.path()).unwrap());

        let mut bytes = vec![1u8; 1000];
        bytes[10] = 2; // same size, other header bytes
        std::fs::write(&f, &bytes).unwrap();
        let file = std::fs::File::options().write(true).open(&f).unwrap();
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1))
            .unwrap();
        let b = fingerprint(dir.path()).unwrap();
        assert_ne!(a[0].head_hash, b[0].head_hash);
        assert_ne!(a[0].mtime_ns, b[0].mtime_ns);
    }

    #[test]
    fn an_atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/x.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }
}
