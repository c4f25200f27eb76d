//! Reader for the recording format of shared/data (SPEC 11, data/README.md): one
//! `<receive time, ns since epoch> <raw frame>` line per frame, gzip-compressed or plain.
//!
//! Frames are handed out as raw bytes, never decoded here: the books and parsers take them as
//! they would take a websocket message.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read},
    path::Path,
};

use flate2::read::MultiGzDecoder;

/// A recording that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{path}:{line}: {reason}")]
    Format {
        path: String,
        line: u64,
        reason: &'static str,
    },
}

/// Streams `(receive_ns, frame)` pairs from a recording, reusing one line buffer.
pub struct ReplayReader {
    inner: Box<dyn BufRead + Send + Sync>,
    line: Vec<u8>,
    path: String,
    line_no: u64,
}

impl std::fmt::Debug for ReplayReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayReader")
            .field("path", &self.path)
            .field("line", &self.line_no)
            .finish()
    }
}

impl ReplayReader {
    /// Opens a recording; gzip is recognised by its magic bytes, anything else is read as text.
    ///
    /// # Errors
    /// [`ReplayError::Io`] if the file cannot be opened or read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReplayError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |e: std::io::Error| ReplayError::Io {
            path: name.clone(),
            reason: e.to_string(),
        };
        let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
        let gz = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
        let inner: Box<dyn BufRead + Send + Sync> = if gz {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        Ok(Self::from_reader(inner, name))
    }

    /// Reads an already decompressed stream; `name` appears in errors.
    pub fn from_reader(
        inner: impl BufRead + Send + Sync + 'static,
        name: impl Into<String>,
    ) -> Self {
        Self {
            inner: Box::new(inner),
            line: Vec::with_capacity(1 << 16),
            path: name.into(),
            line_no: 0,
        }
    }

    /// Convenience for in-memory text.
    pub fn from_bytes(data: Vec<u8>, name: impl Into<String>) -> Self {
        Self::from_reader(std::io::Cursor::new(data), name)
    }

    /// Returns the next frame, or `None` at the end. Blank lines are skipped.
    ///
    /// # Errors
    /// [`ReplayError::Io`] on a read or decompression error, [`ReplayError::Format`] for a line
    /// that is not `<digits> <frame>`.
    pub fn next_frame(&mut self) -> Result<Option<(u64, &[u8])>, ReplayError> {
        loop {
            self.line.clear();
            let n = self
                .inner
                .read_until(b'\n', &mut self.line)
                .map_err(|e| ReplayError::Io {
                    path: self.path.clone(),
                    reason: e.to_string(),
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let mut end = self.line.len();
            while end > 0 && matches!(self.line[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if end == 0 {
                continue;
            }
            let line = &self.line[..end];
            let format = |reason| ReplayError::Format {
                path: self.path.clone(),
                line: self.line_no,
                reason,
            };
            let sp = line
                .iter()
                .position(|&c| c == b' ')
                .ok_or_else(|| format("expected '<ns> <frame>'"))?;
            let digits = &line[..sp];
            if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
                return Err(format("the receive time must be an integer of ns"));
            }
            let ns = digits
                .iter()
                .fold(0u64, |acc, &c| acc * 10 + (c - b'0') as u64);
            return Ok(Some((ns, &line[sp + 1..])));
        }
    }

    /// The number of lines read so far.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Reads everything that is left into `(ns, frame)` pairs.
    ///
    /// # Errors
    /// As [`Self::next_frame`].
    pub fn read_all(mut self) -> Result<Vec<(u64, Vec<u8>)>, ReplayError> {
        let mut out = Vec::new();
        while let Some((ns, f)) = self.next_frame()? {
            out.push((ns, f.to_vec()));
        }
        Ok(out)
    }
}

/// Reads a whole file (any `Read`) into memory: handy for tests and benchmarks.
pub fn read_to_vec(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_errors() {
        let text = b"1 {\"a\":1}\r\n\n22 hello world\n".to_vec();
        let mut r = ReplayReader::from_bytes(text, "mem");
        assert_eq!(r.next_frame().unwrap(), Some((1, &b"{\"a\":1}"[..])));
        assert_eq!(r.next_frame().unwrap(), Some((22, &b"hello world"[..])));
        assert_eq!(r.next_frame().unwrap(), None);
        let mut r = ReplayReader::from_bytes(b"x1 {}\n".to_vec(), "mem");
        assert_eq!(
            r.next_frame().unwrap_err().to_string(),
            "mem:1: the receive time must be an integer of ns"
        );
        let mut r = ReplayReader::from_bytes(b"123\n".to_vec(), "mem");
        assert!(r.next_frame().is_err());
        assert!(ReplayReader::open("/nonexistent/file.gz")
            .unwrap_err()
            .to_string()
            .starts_with("/nonexistent/file.gz: "));
    }
}
