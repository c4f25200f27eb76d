//! The binary cache of decoded recordings: a recording is parsed from gzipped JSON once, and
//! later runs read its typed records ([`super::events`]) back from
//! `<dir>/<key>.mmbt`, where the key hashes the recording's path, size and modification time
//! with the format version (a changed file or a new format is a new key).
//!
//! Layout (little endian): magic `MMFBT\0\0\0`, version u32, venue u8, 3 zero bytes, name
//! length u32 and bytes, first mid f64, record count u64, the records (32 bytes each: t_ms u64,
//! a i64, b i64, n u32, kind u8, flag u8, 2 zero bytes), then a 64-bit checksum of everything
//! before it. A file that is short, long, of another version, or whose checksum or any field
//! does not check is never trusted: it is decoded again and rewritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::events::{decode, Decoded, Kind, Rec, Venue};
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"MMFBT\0\0\0";
/// Bump when the records or their meaning change.
pub const VERSION: u32 = 2;
const REC: usize = 32;

/// How a recording was obtained, for the speed report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Read back from a valid cache file.
    Cache,
    /// Decoded from the recording (no cache dir, or the cache was missing or invalid and has
    /// been written).
    Decoded,
}

/// 64-bit FNV-1a over 8-byte words (the tail zero-padded): catches truncation and corruption;
/// not a defence against a forger, who could as well edit the recording.
fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h ^= u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = h.wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h ^= u64::from_le_bytes(tail) ^ bytes.len() as u64;
    h.wrapping_mul(0x0000_0100_0000_01b3)
}

/// The file's bytes.
pub fn encode(d: &Decoded) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + d.name.len() + d.recs.len() * REC);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&[d.venue as u8, 0, 0, 0]);
    out.extend_from_slice(&(d.name.len() as u32).to_le_bytes());
    out.extend_from_slice(d.name.as_bytes());
    out.extend_from_slice(&d.first_mid.to_le_bytes());
    out.extend_from_slice(&(d.recs.len() as u64).to_le_bytes());
    for r in &d.recs {
        out.extend_from_slice(&r.t_ms.to_le_bytes());
        out.extend_from_slice(&r.a.to_le_bytes());
        out.extend_from_slice(&r.b.to_le_bytes());
        out.extend_from_slice(&r.n.to_le_bytes());
        out.extend_from_slice(&[r.kind as u8, u8::from(r.flag), 0, 0]);
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Reads a file's bytes back; `None` for anything that does not check.
pub fn parse(bytes: &[u8]) -> Option<Decoded> {
    let body_len = bytes.len().checked_sub(8)?;
    let (body, sum) = bytes.split_at(body_len);
    if checksum(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = body.get(at..at.checked_add(n)?)?;
        at += n;
        Some(s)
    };
    if take(8)? != MAGIC {
        return None;
    }
    let u32_at = |s: &[u8]| u32::from_le_bytes(s.try_into().expect("4 bytes"));
    if u32_at(take(4)?) != VERSION {
        return None;
    }
    let venue = match take(4)?[0] {
        1 => Venue::Hyperliquid,
        2 => Venue::Binance,
        _ => return None,
    };
    let name_len = u32_at(take(4)?) as usize;
    let name = String::from_utf8(take(name_len)?.to_vec()).ok()?;
    let first_mid = f64::from_le_bytes(take(8)?.try_into().ok()?);
    let count = usize::try_from(u64::from_le_bytes(take(8)?.try_into().ok()?)).ok()?;
    let recs_bytes = take(count.checked_mul(REC)?)?;
    if take(1).is_some() {
        return None;
    }
    let mut recs = Vec::with_capacity(count);
    let mut last_t = 0;
    for c in recs_bytes.chunks_exact(REC) {
        let i64_at = |o: usize| i64::from_le_bytes(c[o..o + 8].try_into().expect("8 bytes"));
        let r = Rec {
            t_ms: u64::from_le_bytes(c[0..8].try_into().expect("8 bytes")),
            a: i64_at(8),
            b: i64_at(16),
            n: u32_at(&c[24..28]),
            kind: Kind::from_u8(c[28])?,
            flag: match c[29] {
                0 => false,
                1 => true,
                _ => return None,
            },
        };
        if r.t_ms < last_t {
            return None;
        }
        last_t = r.t_ms;
        recs.push(r);
    }
    Some(Decoded {
        venue,
        name,
        first_mid,
        recs,
    })
}

/// The cache file of `path` in `dir`: its key hashes the canonical path, size, mtime and the
/// format version.
///
/// # Errors
/// The recording cannot be read (its metadata).
pub fn cache_file(dir: &Path, path: &str) -> Result<PathBuf> {
    let io =
        |e: std::io::Error| Error::invalid("recording", format!("{path} ({e})"), "cannot be read");
    let canon = std::fs::canonicalize(path).map_err(io)?;
    let meta = std::fs::metadata(&canon).map_err(io)?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let key = format!(
        "{}\n{}\n{}\n{}",
        canon.display(),
        meta.len(),
        mtime,
        VERSION
    );
    let stem = canon
        .file_name()
        .map(|s| s.to_string_lossy().replace(['.', ' '], "_"))
        .unwrap_or_default();
    Ok(dir.join(format!("{stem}-{:016x}.mmbt", checksum(key.as_bytes()))))
}

/// The decoded recording at `path`, through the cache in `dir` when given: read back if valid,
/// else decoded and (re)written atomically. A cache that cannot be written is only a slower
/// next run, never an error.
///
/// # Errors
/// The recording cannot be read or decoded.
pub fn load(path: &str, dir: Option<&Path>) -> Result<(Decoded, Source)> {
    let Some(dir) = dir else {
        return Ok((decode(path)?, Source::Decoded));
    };
    let file = cache_file(dir, path)?;
    if let Ok(bytes) = std::fs::read(&file) {
        if let Some(d) = parse(&bytes) {
            return Ok((d, Source::Cache));
        }
    }
    let d = decode(path)?;
    let _ = write_atomic(&file, &encode(&d));
    Ok((d, Source::Decoded))
}

fn write_atomic(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, file)
}

/// What a recording holds (see `mmfast._core.recording_info`), decoding it through the cache.
///
/// # Errors
/// As [`load`].
pub fn info(path: &str, dir: Option<&Path>) -> Result<serde_json::Value> {
    let (d, src) = load(path, dir)?;
    let (venue, coin) = match d.venue {
        Venue::Hyperliquid => ("hyperliquid", d.name.clone()),
        Venue::Binance => ("binance", super::replay::coin_of_symbol(&d.name)),
    };
    Ok(serde_json::json!({
        "venue": venue,
        "name": d.name,
        "coin": coin,
        "first_mid": d.first_mid,
        "market_events": d.market_events(),
        "source": src.as_str(),
    }))
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cache => "cache",
            Source::Decoded => "decoded",
        }
    }
}
