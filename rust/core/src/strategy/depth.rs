//! `DynamicDepthGenerator` (SPEC 7): the depths of a side's levels, from the GLFT touch depth
//! outward.

/// Geometric ladder: level `i` sits at `touch * ratio^i`, and never closer than one tick to the
/// level inside it (on a coarse grid or with ratio 1 the levels are then one tick apart).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DynamicDepthGenerator {
    pub ratio: f64,
}

impl DynamicDepthGenerator {
    pub fn new(ratio: f64) -> Self {
        Self { ratio }
    }

    /// Fills `out` with `out.len()` depths in bps. `tick_bps` is one price step at mid in bps.
    /// The touch itself is not raised to a tick: an unwind at urgency 1 joins a best price that
    /// may be half a tick from mid. A negative touch counts as 0.
    pub fn generate(&self, touch_bps: f64, tick_bps: f64, out: &mut [f64]) {
        let tick = if tick_bps.is_finite() && tick_bps > 0.0 {
            tick_bps
        } else {
            0.0
        };
        let mut d = touch_bps.max(0.0);
        let mut prev = f64::NEG_INFINITY;
        for slot in out.iter_mut() {
            let v = d.max(prev + tick);
            *slot = v;
            prev = v;
            d *= self.ratio;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_from_the_touch() {
        let mut out = [0.0; 5];
        DynamicDepthGenerator::new(1.5).generate(8.0, 0.3, &mut out);
        assert_eq!(out, [8.0, 12.0, 18.0, 27.0, 40.5]);
    }

    #[test]
    fn at_least_one_tick_apart() {
        let mut out = [0.0; 4];
        DynamicDepthGenerator::new(1.0).generate(8.0, 2.0, &mut out);
        assert_eq!(out, [8.0, 10.0, 12.0, 14.0]);
        DynamicDepthGenerator::new(1.5).generate(1.0, 2.0, &mut out);
        // 1; then max(1.5, 3) = 3, max(2.25, 5) = 5, max(3.375, 7) = 7.
        assert_eq!(out, [1.0, 3.0, 5.0, 7.0]);
    }
}
