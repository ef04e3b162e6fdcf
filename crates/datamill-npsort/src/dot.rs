//! numpy's float64 dot product of two vectors (`np.dot(a, b)`), which numpy hands to OpenBLAS's
//! `ddot`: the rounding of data-selection's importance weights (`np.dot(log_diff, features)`).
//!
//! numpy 2.4.6's wheels ship OpenBLAS 0.3.31 built with `DYNAMIC_ARCH`; on an x86-64 CPU with
//! AVX-512 (Intel Skylake-SP and later, AMD Zen 4 and later) it picks the `SkylakeX` kernel
//! (`kernel/x86_64/ddot.c` + `ddot_microk_skylakex-2.c`), whose summation order this replays:
//!
//! 1. the first `n & !15` elements go through the micro-kernel: below `n & !31`, four 8-lane
//!    accumulators, element `i` into accumulator `(i % 32) / 8`, lane `i % 8`, each update a
//!    fused multiply-add (GCC contracts `acc += x * y`); each 8-lane accumulator is folded into
//!    4 lanes (`lo + hi`); the remaining 16 elements (if any) go into four 4-lane accumulators
//!    (`(i % 16) / 4`, lane `i % 4`); then `((a0 + a1) + a2) + a3` lane-wise, `[l0 + l2,
//!    l1 + l3]` and the horizontal add of those two;
//! 2. the last `n % 16` elements are added one by one with fused multiply-adds.
//!
//! Vectors above 10,000 elements are cut into one piece per OpenBLAS thread: their result
//! depends on the thread count and is not replayed (callers document where that applies).
//! On other CPUs (AVX2 only: the `Haswell`/`Zen` kernel, 4-lane accumulators) numpy itself
//! rounds differently.

/// `np.dot(x, y)` of float64 vectors of equal length up to 10,000 elements, as numpy computes it
/// with OpenBLAS's `SkylakeX` `ddot` kernel, given only the non-zero entries of `y`:
/// `(index, value)` pairs in increasing index order, indices below `n`. Entries of `y` that are
/// zero add nothing to any partial sum (a fused `x·0 + acc` is `acc`), so this equals the dense
/// computation bit for bit.
pub fn np_dot_sparse(x: &[f64], y: impl IntoIterator<Item = (usize, f64)>) -> f64 {
    let n = x.len();
    let n1 = n & !15;
    let n32 = n1 & !31;
    let mut wide = [[0f64; 8]; 4];
    // The 256-bit accumulators: the folded 512-bit ones, then the 16-element loop's updates.
    let mut acc = [[0f64; 4]; 4];
    let mut folded = false;
    let fold = |wide: &[[f64; 8]; 4], acc: &mut [[f64; 4]; 4]| {
        for a in 0..4 {
            for l in 0..4 {
                acc[a][l] = wide[a][l] + wide[a][l + 4];
            }
        }
    };
    let mut dot = 0.0;
    let mut kernel_done = n1 == 0;
    let mut prev = None;
    for (i, v) in y {
        assert!(i < n, "index {i} out of range for length {n}");
        assert!(prev.is_none_or(|p| p < i), "indices must increase");
        prev = Some(i);
        if i < n32 {
            let a = &mut wide[(i % 32) / 8][i % 8];
            *a = x[i].mul_add(v, *a);
            continue;
        }
        if !folded {
            fold(&wide, &mut acc);
            folded = true;
        }
        if i < n1 {
            let a = &mut acc[(i % 16) / 4][i % 4];
            *a = x[i].mul_add(v, *a);
            continue;
        }
        if !kernel_done {
            dot = reduce(&acc);
            kernel_done = true;
        }
        dot = v.mul_add(x[i], dot);
    }
    if !kernel_done {
        if !folded {
            fold(&wide, &mut acc);
        }
        dot = reduce(&acc);
    }
    dot
}

/// `((a0 + a1) + a2) + a3` lane-wise, then `(l0 + l2) + (l1 + l3)`.
fn reduce(acc: &[[f64; 4]; 4]) -> f64 {
    let mut s = [0f64; 4];
    for (l, x) in s.iter_mut().enumerate() {
        *x = ((acc[0][l] + acc[1][l]) + acc[2][l]) + acc[3][l];
    }
    (s[0] + s[2]) + (s[1] + s[3])
}

/// `np.dot(x, y)` of dense float64 vectors (see [`np_dot_sparse`]).
pub fn np_dot(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len());
    np_dot_sparse(x, y.iter().copied().enumerate().filter(|&(_, v)| v != 0.0))
}
