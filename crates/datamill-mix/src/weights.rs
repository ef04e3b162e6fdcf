//! Mixture weights: proportional, temperature (`p ∝ n^(1/τ)`), UniMax, and epoch caps.
//!
//! All functions work on token amounts (`f64`): `sizes[i]` is source *i*'s unique tokens,
//! `caps[i]` the most tokens it may give (`max_epochs · size`, `f64::INFINITY` without a cap),
//! and the result is the tokens drawn from each source, summing to the budget.

/// The budget cannot be met without exceeding the epoch caps.
#[derive(Clone, Debug, PartialEq)]
pub struct Shortfall {
    /// Tokens asked for.
    pub budget: f64,
    /// The most the capped sources can give.
    pub available: f64,
}

/// UniMax (Chung et al., ICLR 2023), the closed form: visit the sources by increasing cap
/// (`N · size` with one N: by increasing size; ties in index order); each takes
/// `min(remaining / sources_left, cap)` and the remaining budget shrinks by that amount.
/// Small sources are repeated up to their cap, the rest is shared uniformly.
pub fn unimax(caps: &[f64], budget: f64) -> Result<Vec<f64>, Shortfall> {
    let mut order: Vec<usize> = (0..caps.len()).collect();
    order.sort_by(|&a, &b| caps[a].total_cmp(&caps[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; caps.len()];
    let mut remaining = budget;
    for (k, &i) in order.iter().enumerate() {
        let left = (caps.len() - k) as f64;
        let u = (remaining / left).min(caps[i]);
        out[i] = u;
        remaining -= u;
    }
    if remaining > budget * 1e-12 {
        return Err(Shortfall {
            budget,
            available: budget - remaining,
        });
    }
    Ok(out)
}

/// Shares `budget` in proportion to `desired` (non-negative, any scale), then, while some
/// source's share exceeds its cap, fixes every such source at its cap and shares what is left
/// among the others in the same proportions ("water-filling"). Sources with a desired weight
/// of 0 get nothing.
pub fn capped(desired: &[f64], caps: &[f64], budget: f64) -> Result<Vec<f64>, Shortfall> {
    let n = desired.len();
    let mut out = vec![0.0; n];
    let mut fixed = vec![false; n];
    loop {
        let free: Vec<usize> = (0..n).filter(|&i| !fixed[i] && desired[i] > 0.0).collect();
        let taken: f64 = (0..n).filter(|&i| fixed[i]).map(|i| out[i]).sum();
        let rest = budget - taken;
        let wsum: f64 = free.iter().map(|&i| desired[i]).sum();
        if free.is_empty() || wsum.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            if rest > budget * 1e-12 {
                return Err(Shortfall {
                    budget,
                    available: taken,
                });
            }
            return Ok(out);
        }
        let mut over = false;
        for &i in &free {
            out[i] = desired[i] / wsum * rest;
            if out[i] > caps[i] {
                over = true;
            }
        }
        if !over {
            return Ok(out);
        }
        for &i in &free {
            if out[i] > caps[i] {
                out[i] = caps[i];
                fixed[i] = true;
            }
        }
    }
}

/// Temperature weights `n_i^(1/τ)`, normalized (τ = 1: proportional; τ → ∞: uniform).
pub fn temperature(sizes: &[f64], tau: f64) -> Vec<f64> {
    let w: Vec<f64> = sizes.iter().map(|&n| n.powf(1.0 / tau)).collect();
    let s: f64 = w.iter().sum();
    w.into_iter().map(|x| x / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UniMax fixture of the PyPI `unimax-sampling` README (kgnlp/unimax): five languages,
    /// a 250e9 budget and N = 4.
    #[test]
    fn unimax_published_fixture() {
        let sizes = [
            549_707_867.0,     // fao
            10_027_573_389.0,  // isl
            42_541_080_893.0,  // ekk
            179_955_884_499.0, // swe
            184_595_788_282.0, // fas
        ];
        let caps: Vec<f64> = sizes.iter().map(|s| 4.0 * s).collect();
        let u = unimax(&caps, 250e9).unwrap();
        assert_eq!(u[0], 2_198_831_468.0);
        assert_eq!(u[1], 40_110_293_556.0);
        for &x in &u[2..] {
            assert!((x - 69_230_291_658.67).abs() < 0.01, "{x}");
        }
        assert!((u.iter().sum::<f64>() - 250e9).abs() < 1e-3);
        // The same with the sources listed in another order.
        let perm = [3, 0, 4, 2, 1];
        let caps2: Vec<f64> = perm.iter().map(|&i| caps[i]).collect();
        let u2 = unimax(&caps2, 250e9).unwrap();
        for (k, &i) in perm.iter().enumerate() {
            assert_eq!(u2[k], u[i]);
        }
        // Water-filling with uniform desired weights is the same allocation.
        let w = capped(&[1.0; 5], &caps, 250e9).unwrap();
        for (a, b) in w.iter().zip(&u) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn unimax_uniform_when_nothing_is_capped_and_short_when_all_are() {
        let u = unimax(&[1e9, 1e9, 1e9], 3e6).unwrap();
        assert_eq!(u, [1e6, 1e6, 1e6]);
        let e = unimax(&[10.0, 20.0], 100.0).unwrap_err();
        assert_eq!(e.available, 30.0);
    }

    #[test]
    fn temperature_and_caps() {
        let sizes = [100.0, 900.0];
        let p = temperature(&sizes, 1.0);
        assert!((p[0] - 0.1).abs() < 1e-12);
        let p = temperature(&sizes, 2.0);
        assert!((p[0] - 0.25).abs() < 1e-12, "{p:?}");
        // 1000 tokens at tau 2: 250 from the small source, above its cap of 2 epochs (200).
        let t = capped(&p, &[200.0, f64::INFINITY], 1000.0).unwrap();
        assert_eq!(t, [200.0, 800.0]);
        // Zero desired weight gets nothing even when others are capped.
        let e = capped(&[1.0, 0.0], &[10.0, f64::INFINITY], 100.0).unwrap_err();
        assert_eq!(e.available, 10.0);
    }
}
