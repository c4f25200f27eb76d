//! The book's side of the protocol decimals ([`crate::protocol::decimal`]): parsing a field of a
//! frame into units with the book's error, and the scanner's pre-scanned decimal.

use super::BookError;
use crate::protocol::decimal::{parse_units, POW10};
pub use crate::protocol::decimal::{Scale, MAX_DECIMALS};

impl Scale {
    /// Parses an unsigned decimal string such as `"105055.0"`, `"0.014"` or `"3"` into units,
    /// exactly. Digits beyond `decimals` must be zeros.
    ///
    /// # Errors
    /// [`BookError::Field`] naming `field` when the text is not `digits[.digits]`, carries a
    /// non-zero digit finer than the scale, or has more than 18 significant digits.
    #[inline]
    pub fn parse(self, field: &'static str, s: &[u8]) -> Result<i64, BookError> {
        parse_units(s, self.decimals()).map_err(|reason| BookError::field(field, s, reason))
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
        let dec = self.decimals();
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
