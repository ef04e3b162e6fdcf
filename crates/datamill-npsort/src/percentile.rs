//! numpy's default percentile, `np.percentile(a, q)` with `method="linear"`, on sorted data:
//! the position `q/100 · (n − 1)` between two neighbours, interpolated with numpy's `_lerp`
//! (`a + (b − a)·t`, or `b − (b − a)·(1 − t)` when `t ≥ 0.5`), so results equal numpy's to the
//! last bit. Users: `score_select` and `perplexity_buckets` cutoffs (CCNet's buckets), the
//! scaling bootstrap's percentile intervals.

/// `np.percentile(sorted, q)` (`q` in `[0, 100]`) of ascending data; NaN when empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q / 100.0 * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_numpys_linear_percentile() {
        let v = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 100.0), 8.0);
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert!((percentile(&v, 30.0) - 1.9).abs() < 1e-12);
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile(&v, 50.0) - 2.5).abs() < 1e-12);
        assert!((percentile(&v, 2.5) - 1.075).abs() < 1e-12);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn interpolates_from_the_nearer_neighbour_as_numpys_lerp() {
        // numpy 2.4.6: np.percentile([0.8018263669964836, 6.713360717009522], 60)
        // == 4.348746977004306, which is b - (b - a)·(1 - t); a + (b - a)·t gives ...307.
        let (a, b) = (0.8018263669964836, 6.713360717009522);
        assert_eq!(percentile(&[a, b], 60.0), 4.348746977004306);
        assert_ne!(a + (b - a) * 0.6, 4.348746977004306);
    }
}
