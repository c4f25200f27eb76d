//! Wire scalars of Hyperliquid actions (PROTOCOL 3.2, 4.2): decimal strings exactly as the
//! official SDK's `float_to_wire` writes them, client order ids and addresses.

use std::fmt::{self, Write as _};

use super::{Result, SigningError};
use sha3::{Digest, Keccak256};

/// Longest `format!("{:.8}", f64)`: sign, 309 integer digits, point, 8 decimals.
const FMT_CAP: usize = 330;
/// `decimal.Decimal.normalize()` rounds to the default context's 28 significant digits.
const DECIMAL_PRECISION: usize = 28;
/// Inline capacity of a [`Decimal`]: far more than any price or size (the SDK itself caps
/// nothing, but a 40-character price is not a price).
const DECIMAL_CAP: usize = 40;

/// Keccak-256 (Ethereum's, not NIST SHA3-256).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// A decimal number in the exchange's canonical wire form ("1670.1", "0.001", "60000"): no
/// exponent, no trailing zeros, no trailing point. Stored inline so that building an order on
/// the hot path does not allocate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    buf: [u8; DECIMAL_CAP],
    len: u8,
}

impl Decimal {
    /// Converts a float the way the SDK's `float_to_wire` does: rounds to 8 decimals, refuses
    /// a float that this rounding changes by 1e-12 or more, then strips trailing zeros.
    ///
    /// # Errors
    /// [`SigningError::FloatToWire`] when rounding would change the value, `Invalid` for a
    /// non-finite value or one too long for a wire decimal.
    pub fn from_f64(x: f64) -> Result<Self> {
        let mut buf = [0u8; FMT_CAP];
        let n = float_to_wire_buf(x, &mut buf)?;
        Self::from_ascii(&buf[..n]).ok_or_else(|| {
            SigningError::invalid("decimal", x, "too many digits for a wire decimal")
        })
    }

    /// Builds `units / 10^decimals` (an integer count of ticks or lots) without going through
    /// a float: `from_scaled(123450, 2)` is "1234.5".
    ///
    /// # Errors
    /// `Invalid` when `decimals > 18`.
    pub fn from_scaled(units: u64, decimals: u8) -> Result<Self> {
        if decimals > 18 {
            return Err(SigningError::invalid("decimals", decimals, "must be <= 18"));
        }
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(units).as_bytes();
        let d = decimals as usize;
        let mut out = [0u8; DECIMAL_CAP];
        let mut n = 0;
        if digits.len() > d {
            let (int, frac) = digits.split_at(digits.len() - d);
            out[..int.len()].copy_from_slice(int);
            n = int.len();
            n = push_frac(&mut out, n, frac);
        } else {
            out[0] = b'0';
            n += 1;
            let mut frac = [b'0'; 18];
            frac[d - digits.len()..d].copy_from_slice(digits);
            n = push_frac(&mut out, n, &frac[..d]);
        }
        Ok(Decimal {
            buf: out,
            len: n as u8,
        })
    }

    /// Accepts a decimal string only if it is already in canonical wire form, so that what is
    /// hashed is what the exchange hashes ("100.0" or "1e2" would sign a different action).
    ///
    /// # Errors
    /// `Invalid` naming `field` and the string.
    pub fn parse(field: &'static str, s: &str) -> Result<Self> {
        if !is_canonical(s.as_bytes()) {
            return Err(SigningError::invalid(
                field,
                s,
                "not a canonical wire decimal (digits, optional point, no trailing zeros)",
            ));
        }
        Self::from_ascii(s.as_bytes())
            .ok_or_else(|| SigningError::invalid(field, s, "too many digits for a wire decimal"))
    }

    /// A decimal string as a request carries it, kept verbatim for the receiver to validate
    /// (the simulator applies the exchange's tick and lot rules to it, with the exchange's
    /// per-order error). Text that is not short ASCII is kept as the empty string, which no
    /// rule accepts.
    pub fn from_text(s: &str) -> Self {
        Self::from_ascii(s.as_bytes())
            .filter(|_| s.is_ascii())
            .unwrap_or(Decimal {
                buf: [0u8; DECIMAL_CAP],
                len: 0,
            })
    }

    fn from_ascii(s: &[u8]) -> Option<Self> {
        if s.len() > DECIMAL_CAP {
            return None;
        }
        let mut buf = [0u8; DECIMAL_CAP];
        buf[..s.len()].copy_from_slice(s);
        Some(Decimal {
            buf,
            len: s.len() as u8,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits, '-' and '.' are ever stored.
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or_default()
    }

    /// True if the value is > 0 (the string form has a non-zero digit and no sign).
    pub fn is_positive(&self) -> bool {
        let b = &self.buf[..self.len as usize];
        b.first() != Some(&b'-') && b.iter().any(|c| (b'1'..=b'9').contains(c))
    }
}

fn push_frac(out: &mut [u8; DECIMAL_CAP], mut n: usize, frac: &[u8]) -> usize {
    let keep = frac.len() - frac.iter().rev().take_while(|&&c| c == b'0').count();
    if keep > 0 {
        out[n] = b'.';
        out[n + 1..n + 1 + keep].copy_from_slice(&frac[..keep]);
        n += 1 + keep;
    }
    n
}

fn is_canonical(s: &[u8]) -> bool {
    let (int, frac) = match s.iter().position(|&c| c == b'.') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |p: &[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    digits(int)
        && (int.len() == 1 || int[0] != b'0')
        && frac.is_none_or(|f| digits(f) && f.last() != Some(&b'0'))
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.as_str())
    }
}

/// The official SDK's `float_to_wire`, byte for byte, for finite floats: `f"{x:.8f}"`, the
/// `abs(float(rounded) - x) >= 1e-12` refusal, then `Decimal(rounded).normalize()` printed
/// with `f` (which also rounds to 28 significant digits, visible only above 1e28). Like the
/// SDK, -0.0 gives "-0" (its `-0` guard never fires).
///
/// # Errors
/// [`SigningError::FloatToWire`] as the SDK raises it; `Invalid` for NaN and infinities,
/// which the SDK turns into "NaN" / "Infinity" and the exchange cannot parse.
pub fn float_to_wire(x: f64) -> Result<String> {
    let mut buf = [0u8; FMT_CAP];
    let n = float_to_wire_buf(x, &mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

struct StackWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for StackWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn float_to_wire_buf(x: f64, buf: &mut [u8; FMT_CAP]) -> Result<usize> {
    if !x.is_finite() {
        return Err(SigningError::invalid("float", x, "must be finite"));
    }
    let mut w = StackWriter {
        buf: &mut buf[..],
        len: 0,
    };
    write!(w, "{x:.8}").map_err(|_| SigningError::invalid("float", x, "cannot be formatted"))?;
    let len = w.len;
    let text = std::str::from_utf8(&buf[..len]).unwrap_or_default();
    let back: f64 = text
        .parse()
        .map_err(|_| SigningError::invalid("float", x, "cannot be formatted"))?;
    if (back - x).abs() >= 1e-12 {
        return Err(SigningError::FloatToWire { value: x });
    }
    Ok(normalize(buf, len))
}

/// `Decimal(s).normalize()` formatted with `f`, in place, for `s` = `[-]digits.8digits`.
fn normalize(buf: &mut [u8; FMT_CAP], len: usize) -> usize {
    let neg = buf[0] == b'-';
    let start = usize::from(neg);
    let point = len - 9;
    // Integer part as Rust prints it: no leading zeros except a lone "0".
    let mut end = len;
    while end > point + 1 && buf[end - 1] == b'0' {
        end -= 1;
    }
    if end == point + 1 {
        end = point; // no fraction left: drop the point too
        let int = &mut buf[start..point];
        let coeff_len = int.len() - int.iter().rev().take_while(|&&c| c == b'0').count();
        if coeff_len > DECIMAL_PRECISION {
            return round_integer(buf, start, point);
        }
    }
    end
}

/// Rounds the integer digits `buf[start..end]` half-even to 28 significant digits, the rest
/// becoming zeros (with one more digit if the carry runs off the front); returns the length.
fn round_integer(buf: &mut [u8; FMT_CAP], start: usize, end: usize) -> usize {
    let cut = start + DECIMAL_PRECISION;
    let first_dropped = buf[cut];
    let rest_nonzero = buf[cut + 1..end].iter().any(|&c| c != b'0');
    let last_kept_odd = (buf[cut - 1] - b'0') % 2 == 1;
    let round_up =
        first_dropped > b'5' || (first_dropped == b'5' && (rest_nonzero || last_kept_odd));
    buf[cut..end].fill(b'0');
    if !round_up {
        return end;
    }
    let mut i = cut;
    while i > start {
        i -= 1;
        if buf[i] == b'9' {
            buf[i] = b'0';
        } else {
            buf[i] += 1;
            return end;
        }
    }
    // All nines: 999...9 -> 1000...0, one digit longer.
    buf.copy_within(start..end, start + 1);
    buf[start] = b'1';
    end + 1
}

/// A client order id: 16 bytes, on the wire `"0x"` + 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cloid(pub [u8; 16]);

impl Cloid {
    pub fn from_u128(v: u128) -> Self {
        Cloid(v.to_be_bytes())
    }

    /// Parses `"0x"` + 32 hex digits (either case).
    ///
    /// # Errors
    /// `Invalid` naming the field and the string.
    pub fn parse(field: &'static str, s: &str) -> Result<Self> {
        let mut out = [0u8; 16];
        parse_hex_exact(s, &mut out).ok_or_else(|| {
            SigningError::invalid(field, s, "must be 0x followed by 32 hex digits")
        })?;
        Ok(Cloid(out))
    }

    pub fn as_u128(&self) -> u128 {
        u128::from_be_bytes(self.0)
    }

    /// `"0x"` + 32 lowercase hex digits.
    pub fn to_hex(&self) -> [u8; 34] {
        let mut out = [0u8; 34];
        write_0x_hex(&self.0, &mut out);
        out
    }
}

impl fmt::Display for Cloid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.to_hex()).unwrap_or_default())
    }
}

impl fmt::Debug for Cloid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cloid({self})")
    }
}

/// A 20-byte account address (user, agent or vault).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// Parses 40 hex digits, `0x` optional as in the SDK's `address_to_bytes` (either case;
    /// the EIP-55 checksum is not enforced, as the exchange lowercases addresses).
    ///
    /// # Errors
    /// `Invalid` naming the field and the string.
    pub fn parse(field: &'static str, s: &str) -> Result<Self> {
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        let mut out = [0u8; 20];
        hex::decode_to_slice(digits, &mut out)
            .map_err(|_| SigningError::invalid(field, s, "must be 40 hex digits, 0x optional"))?;
        Ok(Address(out))
    }

    /// The address of an uncompressed public key's 64 coordinate bytes: the last 20 bytes of
    /// their keccak-256.
    pub fn from_public_key(xy: &[u8; 64]) -> Self {
        let h = keccak256(xy);
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[12..]);
        Address(a)
    }

    /// `"0x"` + 40 lowercase hex digits.
    pub fn to_lower_hex(&self) -> [u8; 42] {
        let mut out = [0u8; 42];
        write_0x_hex(&self.0, &mut out);
        out
    }

    /// EIP-55 mixed-case checksum form, as `eth_account` prints addresses.
    pub fn to_checksum(&self) -> String {
        let lower = self.to_lower_hex();
        let h = keccak256(&lower[2..]);
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, &c) in lower[2..].iter().enumerate() {
            let nibble = (h[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out.push(if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase() as char
            } else {
                c as char
            });
        }
        out
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

/// Parses `0x` + exactly `2 * out.len()` hex digits.
fn parse_hex_exact(s: &str, out: &mut [u8]) -> Option<()> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    hex::decode_to_slice(digits, out).ok()
}

/// Writes `"0x"` + lowercase hex of `bytes` into `out` (length `2 + 2 * bytes.len()`).
pub(crate) fn write_0x_hex(bytes: &[u8], out: &mut [u8]) {
    out[0] = b'0';
    out[1] = b'x';
    // The lengths match by construction; encode_to_slice only fails on a length mismatch.
    let _ = hex::encode_to_slice(bytes, &mut out[2..]);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn float_to_wire_matches_the_sdk_examples() {
        for (x, want) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (100.0, "100"),
            (1670.1, "1670.1"),
            (0.0147, "0.0147"),
            (60000.0, "60000"),
            (0.00076, "0.00076"),
            (123456.0, "123456"),
            (1e-8, "0.00000001"),
            (12345.6, "12345.6"),
            (87654321.12345678, "87654321.12345678"),
            (-1670.1, "-1670.1"),
            (-1e-13, "-0"),
            (1e-13, "0"),
            // Decimal.normalize() keeps 28 significant digits, half-even.
            (1e30, "1000000000000000019884624839000"),
            (1e22, "10000000000000000000000"),
        ] {
            assert_eq!(float_to_wire(x).unwrap(), want, "{x}");
        }
        for x in [0.123456789, 1.000000001, 5e-9, 1.0 / 512.0] {
            assert_eq!(
                float_to_wire(x),
                Err(SigningError::FloatToWire { value: x }),
                "{x}"
            );
        }
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                float_to_wire(x),
                Err(SigningError::Invalid { .. })
            ));
        }
        let huge = float_to_wire(f64::MAX).unwrap();
        assert_eq!(huge.len(), 309);
        assert!(huge.starts_with("1797693134862315708145274237"));
        assert!(huge[28..].bytes().all(|c| c == b'0'));
    }

    #[test]
    fn round_integer_carries_and_ties_to_even() {
        let run = |digits: &str| {
            let mut buf = [0u8; FMT_CAP];
            buf[..digits.len()].copy_from_slice(digits.as_bytes());
            let n = round_integer(&mut buf, 0, digits.len());
            String::from_utf8(buf[..n].to_vec()).unwrap()
        };
        let nines = "9".repeat(30);
        assert_eq!(run(&nines), format!("1{}", "0".repeat(30)));
        // 28 digits ending in an even digit, then exactly half: stays.
        let even = format!("{}2{}", "1".repeat(27), "50");
        assert_eq!(run(&even), format!("{}2{}", "1".repeat(27), "00"));
        let odd = format!("{}3{}", "1".repeat(27), "50");
        assert_eq!(run(&odd), format!("{}4{}", "1".repeat(27), "00"));
        let above = format!("{}2{}", "1".repeat(27), "51");
        assert_eq!(run(&above), format!("{}3{}", "1".repeat(27), "00"));
    }

    #[test]
    fn decimal_parse_accepts_only_canonical_strings() {
        for ok in ["0", "1", "0.1", "1670.1", "60000", "0.00000001"] {
            assert_eq!(Decimal::parse("p", ok).unwrap().as_str(), ok);
        }
        for bad in [
            "", ".", "1.", ".5", "1.0", "100.10", "01", "-1", "1e5", " 1", "1,5", "0x1",
        ] {
            let e = Decimal::parse("p", bad).unwrap_err().to_string();
            assert!(e.contains("invalid p = "), "{e}");
        }
        assert!(Decimal::parse("p", &"1".repeat(41)).is_err());
    }

    #[test]
    fn decimal_from_scaled() {
        for (u, d, want) in [
            (123450, 2, "1234.5"),
            (5, 3, "0.005"),
            (0, 4, "0"),
            (100, 0, "100"),
            (1000, 3, "1"),
            (u64::MAX, 18, "18.446744073709551615"),
        ] {
            assert_eq!(Decimal::from_scaled(u, d).unwrap().as_str(), want);
        }
        assert!(Decimal::from_scaled(1, 19).is_err());
        assert!(Decimal::from_scaled(5, 3).unwrap().is_positive());
        assert!(!Decimal::from_scaled(0, 3).unwrap().is_positive());
    }

    #[test]
    fn cloid_and_address_round_trip() {
        let c = Cloid::parse("c", "0x0000000000000000000000000000ABcd").unwrap();
        assert_eq!(c.as_u128(), 0xabcd);
        assert_eq!(c.to_string(), "0x0000000000000000000000000000abcd");
        assert!(Cloid::parse("c", "0x123").is_err());
        assert!(Cloid::parse("c", "00000000000000000000000000000001").is_err());
        let a = Address::parse("vault", "0x14791697260e4c9a71f18484c9f997b308e59325").unwrap();
        assert_eq!(
            a.to_checksum(),
            "0x14791697260E4c9A71f18484C9f997B308e59325"
        );
        assert_eq!(
            Address::parse("vault", "14791697260e4c9a71f18484c9f997b308e59325").unwrap(),
            a
        );
        let e = Address::parse("vault", "0x1479").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid vault = 0x1479: must be 40 hex digits, 0x optional"
        );
    }

    proptest! {
        #[test]
        fn wire_decimals_parse_back_to_themselves(units in 1u64..10_000_000_000_000, d in 0u8..9) {
            let x = Decimal::from_scaled(units, d).unwrap();
            prop_assert_eq!(Decimal::parse("p", x.as_str()).unwrap(), x);
            // Through a float: float_to_wire gives the same string for any 8-decimal value that
            // a double holds to within 1e-12.
            let f: f64 = x.as_str().parse().unwrap();
            if f < 1e7 {
                prop_assert_eq!(Decimal::from_f64(f).unwrap(), x);
            }
        }

        #[test]
        fn float_to_wire_output_is_canonical_and_close(x in -1e12f64..1e12) {
            match float_to_wire(x) {
                Ok(s) => {
                    let unsigned = s.strip_prefix('-').unwrap_or(&s);
                    prop_assert!(is_canonical(unsigned.as_bytes()), "{}", s);
                    let back: f64 = s.parse().unwrap();
                    prop_assert!((back - x).abs() < 1e-12 || back == x);
                }
                Err(e) => prop_assert_eq!(e, SigningError::FloatToWire { value: x }),
            }
        }
    }
}
