//! Read-ahead: a [`BlockReader`] kept one block ahead of the work done on its blocks, so that the
//! decoding of block `t + 1` runs on another thread while block `t` is analysed.
//!
//! The pipeline reads every stem in lockstep and waits for all stems at the end of each step.
//! When a stem first decodes its block and only then analyses it, the decode is a serial link in
//! that stem's chain and the second thread idles behind it at every step; with the next block
//! already decoded, decode and analysis are independent tasks that the threads can share. The
//! blocks are handed out exactly as [`BlockReader::read_block`] returns them, in order, so the
//! results do not change; memory grows by one block.

use std::path::PathBuf;

use super::BlockReader;

/// A block reader that decodes the next block while the caller works on the current one.
pub struct ReadAhead {
    reader: BlockReader,
    /// The file named in read errors.
    path: PathBuf,
    /// Frames per block.
    frames: usize,
    /// The block read ahead, handed out by the next [`ReadAhead::next_with`].
    ahead: Vec<f32>,
    /// The reader returned 0 frames: nothing more to read.
    ended: bool,
}

impl ReadAhead {
    /// Reads the first block of `frames` frames (at least 1); read errors name `path`.
    pub fn new(reader: BlockReader, path: PathBuf, frames: usize) -> crate::Result<Self> {
        let mut r = ReadAhead {
            reader,
            path,
            frames: frames.max(1),
            ahead: Vec::new(),
            ended: false,
        };
        r.fetch()?;
        Ok(r)
    }

    pub fn reader(&self) -> &BlockReader {
        &self.reader
    }

    /// Moves the next block into `block` and runs `work` on it while the following block is read
    /// (side by side on the rayon pool). Returns `None`, with `block` empty, at the end of the
    /// stream. `block`'s previous buffer is reused for the read, so a caller that swaps blocks
    /// out (to keep them one more step) does not allocate.
    ///
    /// An error of `work` comes first (its block precedes the one being read); a read error names
    /// the file.
    pub fn next_with<R: Send>(
        &mut self,
        block: &mut Vec<f32>,
        work: impl FnOnce(&[f32]) -> crate::Result<R> + Send,
    ) -> crate::Result<Option<R>> {
        if self.ahead.is_empty() {
            // Only an ended reader leaves `ahead` empty.
            block.clear();
            return Ok(None);
        }
        std::mem::swap(block, &mut self.ahead);
        let (fetched, worked) = rayon::join(|| self.fetch(), || work(block));
        let r = worked?;
        fetched?;
        Ok(Some(r))
    }

    /// Reads the next block into `ahead` (empty once the stream has ended).
    fn fetch(&mut self) -> crate::Result<()> {
        self.ahead.clear();
        if self.ended {
            return Ok(());
        }
        let n = self
            .reader
            .read_block(&mut self.ahead, self.frames)
            .map_err(|source| crate::Error::Decode {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            self.ended = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{AudioSource, ChannelRole, DecodeDiagnostics, DecodeError, StreamInfo};

    /// A stereo source counting up from 0 (frame `i` is `[i, -i]`), in packets of `packet`
    /// frames, that fails with a stream error once `fail_at` frames have been read.
    struct Counter {
        info: StreamInfo,
        next: usize,
        total: usize,
        packet: usize,
        fail_at: Option<usize>,
    }

    impl Counter {
        fn new(total: usize, packet: usize, fail_at: Option<usize>) -> Self {
            Counter {
                info: StreamInfo {
                    sample_rate: 8000,
                    channels: vec![ChannelRole::Left, ChannelRole::Right],
                    frames: Some(total as u64),
                    format: "test".into(),
                    time_reference: None,
                },
                next: 0,
                total,
                packet,
                fail_at,
            }
        }
    }

    impl AudioSource for Counter {
        fn info(&self) -> &StreamInfo {
            &self.info
        }
        fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, DecodeError> {
            if self.fail_at.is_some_and(|f| self.next >= f) {
                return Err(DecodeError::Stream("bad packet".into()));
            }
            out.clear();
            let n = self.packet.min(max_frames).min(self.total - self.next);
            for i in self.next..self.next + n {
                out.extend([i as f32, -(i as f32)]);
            }
            self.next += n;
            Ok(n)
        }
        fn diagnostics(&self) -> DecodeDiagnostics {
            DecodeDiagnostics::default()
        }
    }

    fn read_ahead(source: Counter, frames: usize) -> crate::Result<ReadAhead> {
        let reader = BlockReader::new(Box::new(source));
        ReadAhead::new(reader, PathBuf::from("reel1/DX.wav"), frames)
    }

    /// Every block `next_with` hands out, read in a rayon pool of `threads`.
    fn blocks_of(mut r: ReadAhead, threads: usize) -> crate::Result<Vec<Vec<f32>>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| crate::Error::Other(e.to_string()))?;
        pool.install(|| {
            let mut out = Vec::new();
            let mut block = Vec::new();
            while let Some(b) = r.next_with(&mut block, |b| Ok(b.to_vec()))? {
                assert_eq!(b, block, "work sees the block handed out");
                out.push(b);
            }
            assert!(block.is_empty(), "the end leaves an empty block");
            block.push(1.0);
            assert!(
                r.next_with(&mut block, |_| Ok(()))?.is_none(),
                "and stays the end"
            );
            assert!(block.is_empty());
            Ok(out)
        })
    }

    #[test]
    fn hands_out_the_blocks_of_a_block_reader_in_order() {
        // 1000 frames in packets of 37, blocks of 64: the last block is short.
        let mut plain = BlockReader::new(Box::new(Counter::new(1000, 37, None)));
        let mut expected = Vec::new();
        let mut b = Vec::new();
        while plain.read_block(&mut b, 64).unwrap() > 0 {
            expected.push(b.clone());
        }
        assert_eq!(expected.len(), 16);
        for threads in [1, 2] {
            let got = blocks_of(
                read_ahead(Counter::new(1000, 37, None), 64).unwrap(),
                threads,
            )
            .unwrap();
            assert_eq!(got, expected, "{threads} thread(s)");
        }
    }

    #[test]
    fn an_empty_stream_gives_no_block() {
        let got = blocks_of(read_ahead(Counter::new(0, 37, None), 64).unwrap(), 2).unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn a_read_error_names_the_file() {
        // The first block reads; the second fails while the first is being worked on.
        let r = read_ahead(Counter::new(1000, 64, Some(64)), 64).unwrap();
        let err = blocks_of(r, 2).unwrap_err();
        assert!(
            matches!(&err, crate::Error::Decode { path, .. } if path.ends_with("reel1/DX.wav")),
            "{err:?}"
        );
        assert!(err.to_string().contains("bad packet"), "{err}");
        // A failure on the very first block surfaces when the reader is made.
        let err = read_ahead(Counter::new(1000, 64, Some(0)), 64)
            .err()
            .expect("the first read fails");
        assert!(err.to_string().starts_with("reel1/DX.wav: "), "{err}");
    }

    #[test]
    fn an_error_of_the_work_comes_before_a_read_error() {
        let mut r = read_ahead(Counter::new(1000, 64, Some(64)), 64).unwrap();
        let mut block = Vec::new();
        let err = r
            .next_with(&mut block, |_| -> crate::Result<()> {
                Err(crate::Error::Other("work failed".into()))
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "work failed");
    }
}
