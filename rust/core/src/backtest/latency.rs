//! Feed and order latency models of the backtester (SPEC 11).
//!
//! A latency is a constant (`"0"`, `"25"`, `"25ms"`) or a distribution given by percentiles
//! (`"p10=30,p50=80,p90=200,p99=500"`, ms). Between two given percentiles the quantile function
//! is linear in log-latency; below the lowest it falls to half its value at p0, above the highest
//! it rises to twice its value at p100, so draws stay bounded. `"default"` is Hyperliquid's
//! measured order round trip, 30 / 80 / 200 / 500 ms at p10 / p50 / p90 / p99.

use crate::error::{Error, Result};
use crate::sim::rng::Rng;

/// Hyperliquid's measured order round trip (ms at p10, p50, p90, p99).
pub const HL_ROUND_TRIP: &str = "p10=30,p50=80,p90=200,p99=500";

/// A latency in ms, constant or drawn from a percentile table.
#[derive(Debug, Clone, PartialEq)]
pub enum Latency {
    Constant(f64),
    /// `(probability, ms)` knots, increasing in both, from p0 to p100.
    Quantiles(Vec<(f64, f64)>),
}

impl Latency {
    /// Parses a CLI latency spec; `field` names the option in errors.
    ///
    /// # Errors
    /// `Error::Invalid` naming the field, the value and the expected forms.
    pub fn parse(field: &'static str, spec: &str) -> Result<Self> {
        let s = spec.trim();
        let bad = |_: ()| {
            Error::invalid(
                field,
                spec,
                "expected a constant in ms (e.g. 25) or percentiles like p10=30,p50=80,p90=200,p99=500",
            )
        };
        if s == "default" {
            return Self::parse(field, HL_ROUND_TRIP);
        }
        let num = |t: &str| -> Result<f64> {
            let t = t.trim().trim_end_matches("ms");
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(()))
        };
        if !s.contains('=') {
            return Ok(Latency::Constant(num(s)?));
        }
        let mut knots = Vec::new();
        for part in s.split(',') {
            let (p, v) = part.split_once('=').ok_or_else(|| bad(()))?;
            let p = p.trim();
            let p = p.strip_prefix('p').ok_or_else(|| bad(()))?;
            let p: f64 = p.parse().map_err(|_| bad(()))?;
            if !(p > 0.0 && p < 100.0) {
                return Err(bad(()));
            }
            knots.push((p / 100.0, num(v)?));
        }
        knots.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in knots.windows(2) {
            if w[1].0 <= w[0].0 || w[1].1 < w[0].1 {
                return Err(Error::invalid(
                    field,
                    spec,
                    "percentiles must be distinct and their latencies non-decreasing",
                ));
            }
        }
        let (first, last) = (knots[0], knots[knots.len() - 1]);
        let mut all = vec![(0.0, first.1 / 2.0)];
        all.extend(knots);
        all.push((1.0, last.1 * 2.0));
        Ok(Latency::Quantiles(all))
    }

    /// The latency at quantile `u` in [0, 1], ms.
    pub fn quantile(&self, u: f64) -> f64 {
        match self {
            Latency::Constant(v) => *v,
            Latency::Quantiles(k) => {
                let i = k.partition_point(|&(p, _)| p <= u).clamp(1, k.len() - 1);
                let ((p0, v0), (p1, v1)) = (k[i - 1], k[i]);
                let w = ((u - p0) / (p1 - p0)).clamp(0.0, 1.0);
                if v0 > 0.0 && v1 > 0.0 {
                    (v0.ln() + w * (v1.ln() - v0.ln())).exp()
                } else {
                    v0 + w * (v1 - v0)
                }
            }
        }
    }

    /// One draw, whole ms.
    pub fn sample_ms(&self, rng: &mut Rng) -> u64 {
        match self {
            Latency::Constant(v) => v.round() as u64,
            Latency::Quantiles(_) => self.quantile(rng.uniform()).round() as u64,
        }
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Latency::Constant(v) if *v == 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_and_units() {
        assert_eq!(Latency::parse("f", "0").unwrap(), Latency::Constant(0.0));
        assert_eq!(
            Latency::parse("f", "25ms").unwrap(),
            Latency::Constant(25.0)
        );
        assert!(Latency::parse("f", "0").unwrap().is_zero());
    }

    #[test]
    fn default_hits_its_percentiles() {
        let l = Latency::parse("order_latency", "default").unwrap();
        for (u, want) in [(0.1, 30.0), (0.5, 80.0), (0.9, 200.0), (0.99, 500.0)] {
            assert!((l.quantile(u) - want).abs() < 1e-9, "{u}");
        }
        assert!((l.quantile(0.0) - 15.0).abs() < 1e-9);
        assert!((l.quantile(1.0) - 1000.0).abs() < 1e-9);
        // empirical percentiles of many draws
        let mut rng = Rng::new(1);
        let mut v: Vec<u64> = (0..20_000).map(|_| l.sample_ms(&mut rng)).collect();
        v.sort_unstable();
        let med = v[10_000] as f64;
        assert!((med - 80.0).abs() <= 3.0, "median {med}");
        let p90 = v[18_000] as f64;
        assert!((p90 - 200.0).abs() <= 10.0, "p90 {p90}");
    }

    #[test]
    fn bad_specs_name_the_field() {
        for bad in [
            "",
            "-3",
            "abc",
            "p50",
            "p50=80,p10=90",
            "q50=3",
            "p0=1",
            "p50=x",
        ] {
            let e = Latency::parse("order_latency", bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("order_latency"), "{bad}: {e}");
        }
    }
}
