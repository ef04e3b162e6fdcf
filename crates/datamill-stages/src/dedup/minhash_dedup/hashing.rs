//! The MinHash hash family: datatrove's `(a·x + b) mod (2^61 − 1)` with numpy's uint64
//! wrap-around, its parameters drawn exactly as `np.random.RandomState(seed).randint` draws
//! them (`datamill_npsort::Mt19937`), and the signature kernel.

/// The Mersenne prime 2^61 − 1.
pub const MERSENNE: u64 = (1 << 61) - 1;

/// `x % (2^61 − 1)` without a division: `x = hi·2^61 + lo` and `2^61 ≡ 1`, so
/// `x ≡ hi + lo` with `hi ≤ 7`, `lo ≤ 2^61 − 1`; one conditional subtraction finishes.
#[inline(always)]
pub fn mod_mersenne(x: u64) -> u64 {
    let r = (x & MERSENNE) + (x >> 61);
    if r >= MERSENNE { r - MERSENNE } else { r }
}

/// The permutation parameters `(a, b)` of datatrove's `MinhashDedupSignature.parameters`:
/// `gen = np.random.RandomState(seed)`, then `n` draws of `a ∈ [1, p)`, then `n` of `b ∈ [0, p)`.
pub fn parameters(seed: u32, n: usize) -> (Vec<u64>, Vec<u64>) {
    let mut g = datamill_npsort::Mt19937::new(seed);
    let a = (0..n).map(|_| g.randint_u64(1, MERSENNE)).collect();
    let b = (0..n).map(|_| g.randint_u64(0, MERSENNE)).collect();
    (a, b)
}

/// The MinHash signature of a non-empty shingle set: `out[i] = min over x of
/// ((x·a[i] + b[i]) mod 2^64) mod (2^61 − 1)`, numpy's arithmetic exactly.
pub fn signature(shingles: &[u64], a: &[u64], b: &[u64], out: &mut [u64]) {
    debug_assert!(a.len() == b.len() && a.len() == out.len());
    // Four permutations per pass over the shingles: independent min chains keep the
    // multiplier busy and the shingles in L1.
    let mut i = 0;
    while i + 4 <= a.len() {
        let (a0, a1, a2, a3) = (a[i], a[i + 1], a[i + 2], a[i + 3]);
        let (b0, b1, b2, b3) = (b[i], b[i + 1], b[i + 2], b[i + 3]);
        let (mut m0, mut m1, mut m2, mut m3) = (u64::MAX, u64::MAX, u64::MAX, u64::MAX);
        for &x in shingles {
            m0 = m0.min(mod_mersenne(x.wrapping_mul(a0).wrapping_add(b0)));
            m1 = m1.min(mod_mersenne(x.wrapping_mul(a1).wrapping_add(b1)));
            m2 = m2.min(mod_mersenne(x.wrapping_mul(a2).wrapping_add(b2)));
            m3 = m3.min(mod_mersenne(x.wrapping_mul(a3).wrapping_add(b3)));
        }
        out[i..i + 4].copy_from_slice(&[m0, m1, m2, m3]);
        i += 4;
    }
    for j in i..a.len() {
        let mut m = u64::MAX;
        for &x in shingles {
            m = m.min(mod_mersenne(x.wrapping_mul(a[j]).wrapping_add(b[j])));
        }
        out[j] = m;
    }
}

/// The 32-bit MinHash signature datatrove computes with `HashConfig(precision=32)`:
/// `out[i] = min over x of (((x·a[i] + b[i]) mod 2^64) mod (2^61 − 1)) & (2^32 − 1)` (the mask
/// before the minimum).
pub fn signature32(shingles: &[u64], a: &[u64], b: &[u64], out: &mut [u64]) {
    debug_assert!(a.len() == b.len() && a.len() == out.len());
    for (j, o) in out.iter_mut().enumerate() {
        let mut m = u64::MAX;
        for &x in shingles {
            m = m.min(mod_mersenne(x.wrapping_mul(a[j]).wrapping_add(b[j])) & 0xffff_ffff);
        }
        *o = m;
    }
}

/// Jaccard similarity of two sorted, deduplicated hash sets.
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mersenne_reduction_equals_modulo() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for v in [
            0,
            1,
            MERSENNE - 1,
            MERSENNE,
            MERSENNE + 1,
            u64::MAX,
            u64::MAX - 7,
            7 << 61,
        ] {
            assert_eq!(mod_mersenne(v), v % MERSENNE, "{v}");
        }
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            assert_eq!(mod_mersenne(x), x % MERSENNE);
        }
    }

    #[test]
    fn parameters_match_numpy_random_state() {
        // np.random.RandomState(seed).randint(1, p, dtype=uint64, size=(1, 112)), then b likewise
        // (numpy 2.4.6).
        let (a, b) = parameters(1, 112);
        assert_eq!(
            a[..3],
            [775169054918279404, 1758426461858698313, 2109959069025162]
        );
        assert_eq!(a[111], 223865076026037746);
        assert_eq!(b[..2], [1062448801025099917, 1324811268927594100]);
        assert_eq!(b[111], 1097409548522419201);
        let (a, b) = parameters(42, 112);
        assert_eq!(
            a[..3],
            [
                2297359619001564596,
                1396682528897996047,
                1973689801170867272
            ]
        );
        assert_eq!(b[111], 2171473285054116309);
        let (a, _) = parameters(0, 112);
        assert_eq!(a[111], 1778425994450018244);
    }

    #[test]
    fn signature_is_the_min_of_each_permutation() {
        let (a, b) = parameters(1, 7);
        let sh = [1u64, u64::MAX, 12345, 1 << 63];
        let mut out = [0u64; 7];
        signature(&sh, &a, &b, &mut out);
        for i in 0..7 {
            let want = sh
                .iter()
                .map(|&x| {
                    ((x as u128 * a[i] as u128 + b[i] as u128) % (1u128 << 64)) as u64 % MERSENNE
                })
                .min()
                .unwrap();
            assert_eq!(out[i], want);
        }
    }

    #[test]
    fn jaccard_of_sorted_sets() {
        assert_eq!(jaccard(&[1, 2, 3, 4], &[3, 4, 5, 6]), 2.0 / 6.0);
        assert_eq!(jaccard(&[1], &[1]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
    }
}
