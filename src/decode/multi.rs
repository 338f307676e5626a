//! One multichannel stem made of several mono files (one file per channel).

use std::path::PathBuf;

use super::{AudioSource, DecodeDiagnostics, DecodeError, StreamInfo};

pub struct MultiMonoSource {
    info: StreamInfo,
}

impl MultiMonoSource {
    pub fn open(paths: &[PathBuf]) -> Result<Self, crate::Error> {
        let _ = paths;
        Err(crate::Error::Other(
            "per-channel stems not implemented yet".into(),
        ))
    }
}

impl AudioSource for MultiMonoSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }
    fn read(&mut self, out: &mut Vec<f32>, _max_frames: usize) -> Result<usize, DecodeError> {
        out.clear();
        Ok(0)
    }
    fn diagnostics(&self) -> DecodeDiagnostics {
        DecodeDiagnostics::default()
    }
}
