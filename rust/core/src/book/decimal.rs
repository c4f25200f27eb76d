//! Exact decimal strings to integer units (SPEC 0: prices and sizes are integer ticks and lots
//! inside the book). No f64 on the way in: `"0.1"` is exactly 1 unit at one decimal.

use super::BookError;

/// The most decimals a [`Scale`] may have: 10^18 still fits an i64, so a value of up to 18
/// significant digits converts without overflow checks in the digit loop.
pub const MAX_DECIMALS: u32 = 18;

const POW10: [i64; 19] = [
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
    pub fn new(decimals: u32) -> crate::Result<Self> {
        if decimals > MAX_DECIMALS {
            return Err(crate::Error::invalid(
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

    /// Parses an unsigned decimal string such as `"105055.0"`, `"0.014"` or `"3"` into units,
    /// exactly. Digits beyond `decimals` must be zeros.
    ///
    /// # Errors
    /// [`BookError::Field`] naming `field` when the text is not `digits[.digits]`, carries a
    /// non-zero digit finer than the scale, or has more than 18 significant digits.
    #[inline]
    pub fn parse(self, field: &'static str, s: &[u8]) -> Result<i64, BookError> {
        parse_units(s, self.decimals).map_err(|reason| BookError::field(field, s, reason))
    }
}

/// A decimal string already scanned by the frame parser: its text, and its digits as an
/// integer mantissa with `frac` digits after the point, so that conversion to units needs no
/// second pass. With more than 19 digits the mantissa is not exact and [`Scale::units`] falls
/// back to [`parse_units`] on the text (which also words the error). Word-sized fields only:
/// the parser moves these around a lot, and odd-sized copies stall store forwarding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dec<'a> {
    pub text: &'a str,
    pub mant: u64,
    pub frac: u32,
    /// Digits before the point, leading zeros excluded.
    pub int_digits: u32,
}

impl Scale {
    /// As [`Scale::parse`], from a pre-scanned decimal.
    #[inline(always)]
    pub(crate) fn units(self, field: &'static str, d: Dec<'_>) -> Result<i64, BookError> {
        let dec = self.decimals;
        let exact = d.int_digits + d.frac <= 19;
        if exact && d.int_digits + dec <= MAX_DECIMALS {
            if d.frac <= dec {
                // mant < 10^(int_digits + frac), so the product is below 10^18.
                return Ok(d.mant as i64 * POW10[(dec - d.frac) as usize]);
            }
            let excess = (d.frac - dec) as usize;
            if excess <= MAX_DECIMALS as usize {
                let p = POW10[excess] as u64;
                if d.mant % p == 0 {
                    return Ok((d.mant / p) as i64);
                }
            }
        }
        self.parse(field, d.text.as_bytes())
    }
}

/// Checks the decimal grammar the venues use for prices and sizes: `digits[.digits]` (the
/// scanner's fused check in `parse.rs` is tested against this).
#[cfg(test)]
pub(crate) fn is_decimal(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if i == 0 {
        return false;
    }
    if i == s.len() {
        return true;
    }
    if s[i] != b'.' || i + 1 == s.len() {
        return false;
    }
    s[i + 1..].iter().all(u8::is_ascii_digit)
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn hand_values() {
        assert_eq!(parse_units(b"105055.0", 1), Ok(1_050_550));
        assert_eq!(parse_units(b"105055", 1), Ok(1_050_550));
        assert_eq!(parse_units(b"0.014", 3), Ok(14));
        assert_eq!(parse_units(b"0.014", 8), Ok(1_400_000));
        assert_eq!(parse_units(b"0.000", 3), Ok(0));
        assert_eq!(parse_units(b"0", 0), Ok(0));
        assert_eq!(parse_units(b"007.50", 2), Ok(750));
        assert_eq!(parse_units(b"61800.20", 1), Ok(618_002));
        assert_eq!(
            parse_units(b"1.2345", 3),
            Err("more decimals than the tick or lot allows")
        );
        for bad in [
            &b""[..],
            b".",
            b"1.",
            b".5",
            b"-1",
            b"1e3",
            b"1.2.3",
            b" 1",
            b"1 ",
            b"+1",
        ] {
            assert!(
                parse_units(bad, 4).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            assert!(!is_decimal(bad), "{bad:?}");
        }
        assert_eq!(
            parse_units(b"999999999999999999", 0),
            Ok(999_999_999_999_999_999)
        );
        assert!(parse_units(b"9999999999999999999", 0).is_err());
        assert!(parse_units(b"100000000000", 8).is_err());
        assert_eq!(Scale::new(1).unwrap().to_f64(1_050_550), 105055.0);
        assert_eq!(Scale::new(3).unwrap().to_f64(14), 0.014);
        assert!(Scale::new(19).is_err());
        let e = Scale::new(2).unwrap().parse("px", b"1.234").unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed frame: field px = \"1.234\": more decimals than the tick or lot allows"
        );
    }

    proptest! {
        // Units -> text with any number of trailing zeros -> units is the identity, and the f64
        // view equals Rust's own correctly rounded parse of the same text.
        #[test]
        fn round_trip(units in 0i64..1_000_000_000_000_000, decimals in 0u32..=8, pad in 0usize..4) {
            prop_assume!(units < 10i64.pow(18 - decimals));
            let one = 10i64.pow(decimals);
            let mut text = format!("{}", units / one);
            if decimals > 0 || pad > 0 {
                text.push('.');
                text.push_str(&format!("{:0width$}", units % one, width = decimals as usize));
                text.push_str(&"0".repeat(pad.max(usize::from(decimals == 0))));
            }
            prop_assert!(is_decimal(text.as_bytes()));
            prop_assert_eq!(parse_units(text.as_bytes(), decimals), Ok(units));
            let s = Scale::new(decimals).unwrap();
            prop_assert_eq!(s.to_f64(units), text.parse::<f64>().unwrap());
        }

        // The scanner's fused decimal (grammar and digits in one pass) converts exactly as
        // the two-pass parse does, and refuses exactly what the grammar refuses.
        #[test]
        fn fused_scan_agrees(s in "[0-9]{0,22}(\\.[0-9]{0,22})?|[0-9.x]{0,6}", decimals in 0u32..=18) {
            let quoted = format!("\"{s}\"");
            let mut c = super::super::parse::Cursor::new(quoted.as_bytes());
            let sc = Scale::new(decimals).unwrap();
            match c.dec("v") {
                Ok(d) => {
                    prop_assert!(is_decimal(s.as_bytes()));
                    prop_assert_eq!(d.text, s.as_str());
                    prop_assert_eq!(sc.units("v", d), sc.parse("v", s.as_bytes()));
                }
                Err(_) => prop_assert!(!is_decimal(s.as_bytes())),
            }
        }

        #[test]
        fn grammar_agrees(s in "[0-9.]{0,6}") {
            // Six characters cannot exceed the digit budget at 12 decimals: the grammar alone
            // decides.
            let b = s.as_bytes();
            prop_assert_eq!(is_decimal(b), parse_units(b, 12).is_ok());
        }
    }
}
