//! Titles: finds every folder of stems under a root, and splits them into shards that several
//! machines can process independently.

use std::path::{Path, PathBuf};

/// Extensions of the audio files that make a folder a title.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "bwf", "rf64", "w64", "flac", "aif", "aiff", "ogg", "mp3", "m4a", "caf",
];

/// One title: a folder that directly holds audio files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    /// Path relative to the batch root, `/`-separated (the root's own name when the root itself
    /// holds the stems). Names the title's output folder and decides its shard.
    pub key: String,
    pub dir: PathBuf,
}

pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// Every folder under `root` (itself included) holding at least one audio file, in key order.
/// Hidden folders, symbolic links to folders and the folders in `exclude` (the output folder) are
/// not entered.
pub fn find_titles(root: &Path, exclude: &[PathBuf]) -> crate::Result<Vec<Title>> {
    let meta = std::fs::metadata(root).map_err(|e| crate::Error::io(root, e))?;
    if !meta.is_dir() {
        return Err(crate::Error::Input {
            path: root.to_path_buf(),
            message: "not a folder".into(),
        });
    }
    let exclude: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let root_name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "title".into());
    let mut titles = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        if dir.canonicalize().is_ok_and(|c| exclude.contains(&c)) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| crate::Error::io(&dir, e))?;
        let mut has_audio = false;
        for entry in entries {
            let entry = entry.map_err(|e| crate::Error::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let ft = entry
                .file_type()
                .map_err(|e| crate::Error::io(entry.path(), e))?;
            if ft.is_dir() {
                let child = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                stack.push((entry.path(), child));
            } else if is_audio(&entry.path()) {
                has_audio = true;
            }
        }
        if has_audio {
            let key = if rel.is_empty() {
                root_name.clone()
            } else {
                rel
            };
            titles.push(Title { key, dir });
        }
    }
    titles.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(titles)
}

/// FNV-1a, 64-bit: a fixed hash, the same on every machine and every build (std's hasher is not
/// guaranteed to be).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// One of `count` disjoint parts of the titles (`index` from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }

    /// Whether the title with this key belongs to the shard: a hash of the key, so the split is the
    /// same wherever and whenever it is computed, and adding titles never moves the others.
    pub fn contains(&self, key: &str) -> bool {
        fnv1a64(key.as_bytes()) % self.count as u64 == self.index as u64
    }

    /// `I/N`, `auto` (Slurm job arrays) or `auto/N` (Kubernetes Indexed Jobs, or Slurm with N given).
    pub fn parse(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (i, n) = spec.split_once('/').unwrap_or((spec, ""));
        let parse_n = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("--shard {spec}: '{s}' is not a number"))
        };
        if i.trim() != "auto" {
            return Shard::new(parse_n(i)?, parse_n(n)?);
        }
        let given = if n.is_empty() {
            None
        } else {
            Some(parse_n(n)?)
        };
        if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
            let id: u32 = id
                .trim()
                .parse()
                .map_err(|_| format!("SLURM_ARRAY_TASK_ID={id} is not a number"))?;
            let min: u32 = env("SLURM_ARRAY_TASK_MIN")
                .and_then(|m| m.trim().parse().ok())
                .unwrap_or(0);
            let count = match given {
                Some(n) => n,
                None => env("SLURM_ARRAY_TASK_COUNT")
                    .and_then(|c| c.trim().parse().ok())
                    .ok_or("--shard auto: SLURM_ARRAY_TASK_COUNT is not set; give the count as --shard auto/N")?,
            };
            let index = id
                .checked_sub(min)
                .ok_or("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?;
            return Shard::new(index, count);
        }
        if let Some(idx) = env("JOB_COMPLETION_INDEX") {
            let idx: u32 = idx
                .trim()
                .parse()
                .map_err(|_| format!("JOB_COMPLETION_INDEX={idx} is not a number"))?;
            let count = given.ok_or(
                "--shard auto: a Kubernetes Indexed Job does not tell the number of shards; give it as --shard auto/N (spec.completions)",
            )?;
            return Shard::new(idx, count);
        }
        Err("--shard auto: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set".into())
    }

    /// Suffix of this shard's summary files, e.g. `shard-003-of-016`.
    pub fn label(&self) -> String {
        format!("shard-{:03}-of-{:03}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_folders_holding_audio_are_titles_and_the_output_folder_is_not() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for (dir, file) in [
            ("A", "A_DX.wav"),
            ("studio/B", "B_MX.flac"),
            ("studio/B/extras", "x.wav"),
            ("docs", "notes.txt"),
            (".hidden", "h.wav"),
            ("out/A", "copy.wav"),
        ] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
            std::fs::write(r.join(dir).join(file), b"x").unwrap();
        }
        let t = find_titles(r, &[r.join("out")]).unwrap();
        let keys: Vec<&str> = t.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["A", "studio/B", "studio/B/extras"]);
        assert_eq!(t[1].dir, r.join("studio/B"));
    }

    #[test]
    fn a_root_holding_stems_is_one_title_named_after_it() {
        let root = tempfile::tempdir().unwrap();
        let title = root.path().join("Film");
        std::fs::create_dir(&title).unwrap();
        std::fs::write(title.join("Film_DX.wav"), b"x").unwrap();
        let t = find_titles(&title, &[]).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].key, "Film");
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let e = find_titles(Path::new("/no/such/root"), &[]).unwrap_err();
        assert!(e.to_string().contains("/no/such/root"), "{e}");
    }

    #[test]
    fn n_shards_together_cover_every_title_exactly_once() {
        let keys: Vec<String> = (0..500)
            .map(|i| format!("studio{}/Title {i}", i % 7))
            .collect();
        for n in [1, 2, 3, 8, 16] {
            let mut seen = vec![0; keys.len()];
            let mut sizes = vec![0; n as usize];
            for i in 0..n {
                let s = Shard::new(i, n).unwrap();
                for (k, key) in keys.iter().enumerate() {
                    if s.contains(key) {
                        seen[k] += 1;
                        sizes[i as usize] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "n={n}");
            // Roughly balanced: no shard more than twice its fair share.
            assert!(
                sizes.iter().all(|&s| s <= 2 * keys.len() / n as usize + 5),
                "n={n}: {sizes:?}"
            );
        }
    }

    #[test]
    fn the_shard_of_a_title_is_fixed_across_machines() {
        // Values of the fixed hash: a change here would re-split every existing batch.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn shard_specs_read_slurm_and_kubernetes_variables() {
        let none = |_: &str| None;
        assert_eq!(
            Shard::parse("2/5", &none).unwrap(),
            Shard { index: 2, count: 5 }
        );
        assert!(Shard::parse("5/5", &none).is_err());
        assert!(Shard::parse("x/5", &none).is_err());
        assert!(Shard::parse("auto", &none).is_err());
        let slurm = |k: &str| match k {
            "SLURM_ARRAY_TASK_ID" => Some("4".to_string()),
            "SLURM_ARRAY_TASK_MIN" => Some("1".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("8".to_string()),
            _ => None,
        };
        assert_eq!(
            Shard::parse("auto", &slurm).unwrap(),
            Shard { index: 3, count: 8 }
        );
        let k8s = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "7".to_string());
        assert!(Shard::parse("auto", &k8s).is_err());
        assert_eq!(
            Shard::parse("auto/10", &k8s).unwrap(),
            Shard {
                index: 7,
                count: 10
            }
        );
    }
}
