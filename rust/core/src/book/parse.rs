//! A strict, zero-copy JSON scanner for venue frames (PROTOCOL 1.4, 6.2).
//!
//! Why not serde: the book's hot path needs one pass over the bytes that converts levels as it
//! meets them, with nothing allocated. The scanner accepts exactly what `serde_json::from_slice`
//! into borrowed structs accepts (differential tests in `book/tests.rs`), with one documented
//! difference: string values it skips are not checked for UTF-8 (websocket text frames already
//! are UTF-8), while every string it returns is.

use super::{decimal::Dec, BookError};

/// serde_json's default nesting limit; deeper input is an error, never a stack overflow.
const MAX_DEPTH: u32 = 128;

pub(crate) type PResult<T> = Result<T, BookError>;

/// An object key: borrowed when it has no escapes, decoded into a small buffer otherwise (an
/// escaped key longer than any key we look for matches none).
pub(crate) enum Key<'a> {
    Raw(&'a [u8]),
    Decoded([u8; 16], usize),
    Long,
}

impl Key<'_> {
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match self {
            Key::Raw(b) => b,
            Key::Decoded(buf, n) => &buf[..*n],
            Key::Long => b"\0",
        }
    }
}

pub(crate) struct Cursor<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }

    #[inline]
    pub fn err(&self, reason: &'static str) -> BookError {
        BookError::Malformed { at: self.i, reason }
    }

    /// Skips JSON whitespace and returns the next byte, if any.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if c > b' ' || !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    #[inline(always)]
    pub fn expect(&mut self, c: u8, reason: &'static str) -> PResult<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    /// After a value inside an object: true if another member follows, false at `}`.
    #[inline(always)]
    pub fn next_member(&mut self) -> PResult<bool> {
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(self.err("expected ',' or '}'")),
        }
    }

    /// After a value inside an array: true if another element follows, false at `]`.
    #[inline(always)]
    pub fn next_element(&mut self) -> PResult<bool> {
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(b']') => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(self.err("expected ',' or ']'")),
        }
    }

    /// Consumes `{`; returns false if the object is empty (and consumes its `}`).
    #[inline(always)]
    pub fn begin_object(&mut self) -> PResult<bool> {
        self.expect(b'{', "expected an object")?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// Consumes `[`; returns false if the array is empty (and consumes its `]`).
    #[inline(always)]
    pub fn begin_array(&mut self) -> PResult<bool> {
        self.expect(b'[', "expected an array")?;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// Only whitespace may follow the top-level value.
    pub fn end(&mut self) -> PResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.err("trailing characters after the JSON value")),
        }
    }

    /// Reads a string starting at the current `"`: its raw bytes and whether it has escapes.
    #[inline(always)]
    fn raw_string(&mut self) -> PResult<(&'a [u8], bool)> {
        let b = self.b;
        let start = self.i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            let Some(&c) = b.get(j) else {
                self.i = j;
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    j = self.escape_end(j + 1)?;
                }
                0..=0x1f => {
                    self.i = j;
                    return Err(self.err("control character in a string"));
                }
                _ => j += 1,
            }
        }
        self.i = j + 1;
        Ok((&b[start..j], escaped))
    }

    /// Validates the escape whose letter is at `j`; returns the index after it.
    fn escape_end(&mut self, j: usize) -> PResult<usize> {
        match self.b.get(j) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(j + 1),
            Some(b'u') => {
                let hex = self.b.get(j + 1..j + 5);
                if hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    Ok(j + 5)
                } else {
                    self.i = j;
                    Err(self.err("invalid \\u escape"))
                }
            }
            _ => {
                self.i = j;
                Err(self.err("invalid escape"))
            }
        }
    }

    /// Reads an object key and its `:`.
    #[inline(always)]
    pub fn key(&mut self) -> PResult<Key<'a>> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a string key"));
        }
        let (raw, escaped) = self.raw_string()?;
        let key = if escaped {
            decode_key(raw).map_err(|r| self.err(r))?
        } else {
            Key::Raw(raw)
        };
        self.expect(b':', "expected ':' after a key")?;
        Ok(key)
    }

    /// A string value returned to the caller: no escapes (a borrowed `&str` cannot hold one,
    /// as with serde's borrowed strings), valid UTF-8.
    #[inline(always)]
    pub fn str_value(&mut self, field: &'static str) -> PResult<&'a str> {
        if self.peek() != Some(b'"') {
            return Err(self.type_error(field, "expected a string"));
        }
        let (raw, escaped) = self.raw_string()?;
        if escaped {
            return Err(BookError::field(
                field,
                raw,
                "escaped strings are not accepted here",
            ));
        }
        std::str::from_utf8(raw).map_err(|_| BookError::field(field, raw, "invalid UTF-8"))
    }

    /// A price or size string (`digits[.digits]`); the caller converts it at its own scale.
    #[inline]
    pub fn dec_value(&mut self, field: &'static str) -> PResult<&'a str> {
        self.dec(field).map(|d| d.text)
    }

    /// A price or size string, scanned once: grammar checked and digits accumulated.
    #[inline(always)]
    pub fn dec(&mut self, field: &'static str) -> PResult<Dec<'a>> {
        if self.peek() != Some(b'"') {
            return Err(self.type_error(field, "expected a decimal string"));
        }
        let b = self.b;
        let start = self.i + 1;
        let mut j = start;
        let mut mant: u64 = 0;
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let int_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            mant = mant.wrapping_mul(10).wrapping_add((b[j] - b'0') as u64);
            j += 1;
        }
        let int_digits = (j - int_start) as u32;
        let mut frac = 0u32;
        let mut ok = j > start;
        if ok && b.get(j) == Some(&b'.') {
            j += 1;
            let f0 = j;
            while j < b.len() && b[j].is_ascii_digit() {
                mant = mant.wrapping_mul(10).wrapping_add((b[j] - b'0') as u64);
                j += 1;
            }
            frac = (j - f0) as u32;
            ok = frac > 0;
        }
        if !ok || b.get(j) != Some(&b'"') {
            // Not a plain decimal: let the general string reader report what it is.
            let (raw, _) = self.raw_string()?;
            return Err(BookError::field(field, raw, "not a decimal number"));
        }
        self.i = j + 1;
        // SAFETY: the loops above admitted only ASCII digits and one '.' into b[start..j].
        let text = unsafe { std::str::from_utf8_unchecked(&b[start..j]) };
        Ok(Dec {
            text,
            mant,
            frac,
            int_digits,
        })
    }

    /// An unsigned integer, as serde reads a `u64` (no fraction, exponent or sign).
    #[inline(always)]
    pub fn u64_value(&mut self, field: &'static str) -> PResult<u64> {
        // Fast path: up to 19 plain digits (no leading zero) followed by a delimiter.
        if let Some(c @ b'1'..=b'9') = self.peek() {
            let b = self.b;
            let mut j = self.i + 1;
            let mut v = (c - b'0') as u64;
            while j < b.len() && b[j].is_ascii_digit() && j - self.i < 19 {
                v = v * 10 + (b[j] - b'0') as u64;
                j += 1;
            }
            if !matches!(b.get(j), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
                self.i = j;
                return Ok(v);
            }
        }
        let start = match self.peek() {
            Some(b'0'..=b'9' | b'-') => self.i,
            _ => return Err(self.type_error(field, "expected an integer")),
        };
        self.skip_number()?;
        let text = &self.b[start..self.i];
        let digits = text.strip_prefix(b"-").unwrap_or(text);
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(BookError::field(field, text, "expected an integer"));
        }
        if text[0] == b'-' {
            // Even "-0": serde_json reads it as a float, which no integer field accepts.
            return Err(BookError::field(field, text, "must not be negative"));
        }
        let mut v: u64 = 0;
        for &c in digits {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add((c - b'0') as u64))
                .ok_or_else(|| BookError::field(field, text, "out of range for u64"))?;
        }
        Ok(v)
    }

    #[inline]
    pub fn bool_value(&mut self, field: &'static str) -> PResult<bool> {
        self.peek();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Ok(false)
        } else {
            Err(self.type_error(field, "expected true or false"))
        }
    }

    /// True (and consumed) if the next value is `null`.
    #[inline]
    pub fn null(&mut self) -> PResult<bool> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            Ok(true)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    /// A wrong-typed value: the message shows what was there.
    fn type_error(&mut self, field: &'static str, reason: &'static str) -> BookError {
        let start = self.i;
        if start >= self.b.len() {
            return self.err("unexpected end of input");
        }
        // Validate first, so that syntax errors win over type errors as they do in serde.
        match self.skip_value() {
            Ok(()) => BookError::field(field, &self.b[start..self.i], reason),
            Err(e) => e,
        }
    }

    /// Skips one JSON value of any kind, validating its syntax; returns its raw bytes.
    pub fn raw_value(&mut self) -> PResult<&'a [u8]> {
        self.peek();
        let start = self.i;
        self.skip_value()?;
        Ok(&self.b[start..self.i])
    }

    pub fn skip_value(&mut self) -> PResult<()> {
        self.skip_depth(0)
    }

    fn skip_depth(&mut self, depth: u32) -> PResult<()> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'"') => self.raw_string().map(|_| ()),
            Some(b'{') => {
                if depth + 1 >= MAX_DEPTH {
                    return Err(self.err("nesting too deep"));
                }
                if self.begin_object()? {
                    loop {
                        self.key()?;
                        self.skip_depth(depth + 1)?;
                        if !self.next_member()? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Some(b'[') => {
                if depth + 1 >= MAX_DEPTH {
                    return Err(self.err("nesting too deep"));
                }
                if self.begin_array()? {
                    loop {
                        self.skip_depth(depth + 1)?;
                        if !self.next_element()? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.skip_number(),
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> PResult<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn skip_number(&mut self) -> PResult<()> {
        let b = self.b;
        let mut j = self.i;
        let digits = |j: &mut usize| {
            let s = *j;
            while *j < b.len() && b[*j].is_ascii_digit() {
                *j += 1;
            }
            *j - s
        };
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        match b.get(j) {
            Some(b'0') => j += 1,
            Some(b'1'..=b'9') => {
                digits(&mut j);
            }
            _ => {
                self.i = j;
                return Err(self.err("invalid number"));
            }
        }
        if b.get(j) == Some(&b'.') {
            j += 1;
            if digits(&mut j) == 0 {
                self.i = j;
                return Err(self.err("invalid number"));
            }
        }
        if matches!(b.get(j), Some(b'e' | b'E')) {
            j += 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if digits(&mut j) == 0 {
                self.i = j;
                return Err(self.err("invalid number"));
            }
        }
        // A number directly followed by a digit ("01") is invalid, as in serde_json.
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            self.i = j;
            return Err(self.err("invalid number"));
        }
        self.i = j;
        Ok(())
    }
}

/// Decodes an escaped key (rare: venues never escape keys) so that it compares as serde would.
fn decode_key(raw: &[u8]) -> Result<Key<'static>, &'static str> {
    let mut out = [0u8; 16];
    let mut n = 0usize;
    let mut long = false;
    let mut push = |bytes: &[u8]| {
        if n + bytes.len() > out.len() {
            long = true;
        } else {
            out[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        }
    };
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            push(&[c]);
            i += 1;
            continue;
        }
        let e = raw[i + 1];
        i += 2;
        let simple = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            _ => 0,
        };
        if e != b'u' {
            push(&[simple]);
            continue;
        }
        let hex = |s: &[u8]| u16::from_str_radix(std::str::from_utf8(s).unwrap_or("x"), 16);
        let hi = hex(&raw[i..i + 4]).map_err(|_| "invalid \\u escape")?;
        i += 4;
        let cp = if (0xD800..0xDC00).contains(&hi) {
            if raw.get(i..i + 2) != Some(b"\\u") {
                return Err("lone leading surrogate in a key");
            }
            let lo = raw
                .get(i + 2..i + 6)
                .and_then(|s| hex(s).ok())
                .ok_or("invalid \\u escape")?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err("lone leading surrogate in a key");
            }
            i += 6;
            0x10000 + (((hi as u32) - 0xD800) << 10) + ((lo as u32) - 0xDC00)
        } else if (0xDC00..0xE000).contains(&hi) {
            return Err("lone trailing surrogate in a key");
        } else {
            hi as u32
        };
        let ch = char::from_u32(cp).ok_or("invalid \\u escape")?;
        let mut buf = [0u8; 4];
        push(ch.encode_utf8(&mut buf).as_bytes());
    }
    Ok(if long {
        Key::Long
    } else {
        Key::Decoded(out, n)
    })
}

/// Iterates the `len` items of a JSON array that was validated when its frame was parsed (`raw`
/// starts at its `[`), each read by `item`: the lazy decoding behind the public level and trade
/// arrays, generic so that each use compiles to its own loop.
#[inline]
pub(crate) fn array_items<'a, T: 'a>(
    raw: &'a [u8],
    len: usize,
    mut item: impl FnMut(&mut Cursor<'a>) -> PResult<T> + 'a,
) -> impl Iterator<Item = T> + 'a {
    let mut c = Cursor::new(raw);
    let mut left = len;
    let mut first = true;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        left -= 1;
        let step = if first {
            first = false;
            c.expect(b'[', "")
        } else {
            c.expect(b',', "")
        };
        step.and_then(|_| item(&mut c)).ok()
    })
}
