//! Exact decimal strings to integer units (SPEC 0: prices and sizes are integer ticks and lots
//! inside the book and the simulator). No f64 on the way in: `"0.1"` is exactly 1 unit at one
//! decimal. The book's frame parser ([`crate::book`]) and the simulator's order rules
//! ([`crate::sim`]) both count in these units.

/// The most decimals a [`Scale`] may have: 10^18 still fits an i64, so a value of up to 18
/// significant digits converts without overflow checks in the digit loop.
pub const MAX_DECIMALS: u32 = 18;

pub(crate) const POW10: [i64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// A fixed-point scale: one unit is `10^-decimals`. A Hyperliquid perp with `szDecimals = 5`
/// has sizes at `Scale::new(5)` and prices at `Scale::new(6 - 5)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scale {
    decimals: u32,
}

impl Scale {
    /// Returns the scale with `decimals` digits after the point.
    ///
    /// # Errors
    /// `decimals` above [`MAX_DECIMALS`].
    pub fn new(decimals: u32) -> crate::check::Result<Self> {
        if decimals > MAX_DECIMALS {
            return Err(crate::check::Invalid::new(
                "decimals",
                decimals,
                "must be at most 18",
            ));
        }
        Ok(Self { decimals })
    }

    pub fn decimals(self) -> u32 {
        self.decimals
    }

    /// Returns `10^decimals`, the number of units in 1.
    pub fn one(self) -> i64 {
        POW10[self.decimals as usize]
    }

    /// Converts a count of units to f64: the nearest double to the exact decimal (one correctly
    /// rounded division of two exactly representable numbers below 2^53).
    #[inline]
    pub fn to_f64(self, units: i64) -> f64 {
        units as f64 / POW10[self.decimals as usize] as f64
    }

    /// Converts f64 ticks (a mid or microprice between two ticks) to a price.
    #[inline]
    pub fn ticks_f64_to_f64(self, ticks: f64) -> f64 {
        ticks / POW10[self.decimals as usize] as f64
    }
}

/// Parses `digits[.digits]` into a count of `10^-decimals` units.
#[inline]
pub(crate) fn parse_units(s: &[u8], decimals: u32) -> Result<i64, &'static str> {
    let n = s.len();
    let mut i = 0;
    let mut acc: i64 = 0;
    // Leading zeros carry no magnitude; skipping them keeps the digit budget honest.
    while i < n && s[i] == b'0' {
        i += 1;
    }
    let int_start = i;
    while i < n && s[i].is_ascii_digit() {
        acc = acc.wrapping_mul(10).wrapping_add((s[i] - b'0') as i64);
        i += 1;
    }
    let int_digits = i - int_start;
    if i == 0 {
        return Err("not a decimal number");
    }
    if int_digits + decimals as usize > MAX_DECIMALS as usize {
        return Err("too many digits for an i64 at this scale");
    }
    let mut frac = 0u32;
    if i < n {
        if s[i] != b'.' || i + 1 == n {
            return Err("not a decimal number");
        }
        i += 1;
        while i < n {
            let c = s[i];
            if !c.is_ascii_digit() {
                return Err("not a decimal number");
            }
            if frac < decimals {
                acc = acc * 10 + (c - b'0') as i64;
                frac += 1;
            } else if c != b'0' {
                return Err("more decimals than the tick or lot allows");
            }
            i += 1;
        }
    }
    Ok(acc * POW10[(decimals - frac) as usize])
}

// ---- decimal strings of the simulator (the venue's side of an order's `p` and `s`) ----

/// Why a decimal string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a plain non-negative decimal (sign, exponent, letters, empty, overflow).
    Malformed,
    /// More non-zero decimals than the grid allows.
    TooPrecise,
}

/// Parses a plain decimal string into an integer count of `10^-decimals` units, exactly.
///
/// # Errors
/// `Malformed` for anything but digits with at most one dot, `TooPrecise` when a non-zero digit
/// falls beyond `decimals`.
pub fn parse_scaled(s: &str, decimals: u32) -> Result<i64, DecimalError> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(DecimalError::Malformed);
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::Malformed);
    }
    let mut v: i64 = 0;
    for b in int.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or(DecimalError::Malformed)?;
    }
    let fb = frac.as_bytes();
    for i in 0..decimals as usize {
        let d = fb.get(i).map_or(0, |b| i64::from(b - b'0'));
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or(DecimalError::Malformed)?;
    }
    if fb.len() > decimals as usize && fb[decimals as usize..].iter().any(|&b| b != b'0') {
        return Err(DecimalError::TooPrecise);
    }
    Ok(v)
}

/// Formats `v * 10^-decimals` the way the wire does: no exponent, no trailing zeros, no dot.
pub fn fmt_scaled(v: i64, decimals: u32) -> String {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let p = 10u64.pow(decimals);
    let (i, mut f) = (a / p, a % p);
    let mut s = if neg { format!("-{i}") } else { i.to_string() };
    if f != 0 {
        let mut width = decimals as usize;
        while f % 10 == 0 {
            f /= 10;
            width -= 1;
        }
        s.push('.');
        s.push_str(&format!("{f:0width$}"));
    }
    s
}

/// Formats a float with at most `decimals` decimals and no trailing zeros ("-0" becomes "0").
pub fn fmt_f64(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}
