//! Numeric kernels of the encoder: a safe strided f32 GEMM over `matrixmultiply`, and
//! branch-free `exp`/`erf` that the compiler vectorizes (softmax and GELU call them millions
//! of times per document; libm's scalar versions would cost a quarter of the run time).

/// A read-only strided matrix view: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows x cols` matrix whose rows are `ld` apart.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize, ld: usize) -> Mat<'a> {
        Mat {
            data,
            rows,
            cols,
            rs: ld,
            cs: 1,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Mat<'a> {
        Mat {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    fn last_index(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.rs + (self.cols - 1) * self.cs
        }
    }
}

/// `c = alpha * a * b + beta * c`, with `c` row-major `a.rows x b.cols`, rows `ldc` apart.
///
/// # Panics
/// If the shapes disagree or a view reaches past its slice.
pub(crate) fn gemm(alpha: f32, a: Mat<'_>, b: Mat<'_>, beta: f32, c: &mut [f32], ldc: usize) {
    assert_eq!(a.cols, b.rows, "gemm: inner dimensions differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    assert!(ldc >= n, "gemm: ldc {ldc} < n {n}");
    assert!((m - 1) * ldc + n <= c.len(), "gemm: c too short");
    if k > 0 {
        assert!(a.last_index() < a.data.len(), "gemm: a out of bounds");
        assert!(b.last_index() < b.data.len(), "gemm: b out of bounds");
    }
    #[allow(unsafe_code)]
    // SAFETY: the asserts above check that every element the routine reads (a: rows x cols
    // at the given strides, b likewise) and writes (c: m x n, rows ldc apart) lies inside the
    // three slices; `c` is borrowed mutably, so it aliases neither `a` nor `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

/// `out = x * c^T` in float64: `x` is `m x d`, `c` is `k x d` (both row-major), `out` `m x k`.
///
/// # Panics
/// If a slice is shorter than its shape.
pub(crate) fn dgemm(x: &[f64], m: usize, d: usize, c: &[f64], k: usize, out: &mut [f64]) {
    if m == 0 || k == 0 {
        return;
    }
    assert!(
        x.len() >= m * d && c.len() >= k * d && out.len() >= m * k,
        "dgemm: shapes"
    );
    #[allow(unsafe_code)]
    // SAFETY: x holds m x d, c holds k x d (read as its transpose, d x k) and out m x k
    // elements, row-major, as asserted above; `out` is borrowed mutably and aliases neither.
    unsafe {
        matrixmultiply::dgemm(
            m,
            d,
            k,
            1.0,
            x.as_ptr(),
            d as isize,
            1,
            c.as_ptr(),
            1,
            d as isize,
            0.0,
            out.as_mut_ptr(),
            k as isize,
            1,
        );
    }
}

/// `e^x` for f32, branch-free (Cody-Waite reduction, degree-6 polynomial; relative error
/// below 2e-7 on [-87, 88], clamped outside).
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding and subtracting rounds to an integer
    let x = x.clamp(-87.3, 88.3);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Taylor/minimax coefficients of e^r on [-ln2/2, ln2/2] (Cephes expf).
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let p = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) << 23) as u32);
    p * scale
}

/// The error function for f32, branch-free (Abramowitz & Stegun 7.1.26: 1.5e-7 in exact
/// arithmetic, below 6e-7 absolute once evaluated in f32).
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let y = 1.061_405_4_f32;
    let y = y * t - 1.453_152_1;
    let y = y * t + 1.421_413_8;
    let y = y * t - 0.284_496_74;
    let y = y * t + 0.254_829_6;
    let r = 1.0 - y * t * exp(-a * a);
    r.copysign(x)
}

/// GELU as BERT's `hidden_act = "gelu"` (the exact, erf form), in place.
pub(crate) fn gelu(xs: &mut [f32]) {
    for x in xs {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Softmax of one row, in place.
pub(crate) fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for x in row.iter_mut() {
        *x = exp(*x - max);
        sum += *x;
    }
    let inv = 1.0 / sum;
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// LayerNorm of every `gamma.len()`-wide row of `x`, in place (biased variance, as PyTorch).
pub(crate) fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let d = gamma.len();
    for row in x.chunks_exact_mut(d) {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Taylor series in f64 (exact to ~1e-13 on |x| <= 3).
    fn erf_ref(x: f64) -> f64 {
        let mut sum = 0.0;
        let mut term = x;
        for n in 0..80 {
            sum += term / (2 * n + 1) as f64;
            term *= -x * x / (n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn exp_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = -80.0f32;
        while x < 80.0 {
            let rel = ((exp(x) as f64) - (x as f64).exp()).abs() / (x as f64).exp();
            worst = worst.max(rel);
            x += 0.01;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(-1000.0), exp(-87.3));
        assert!(exp(-1000.0) < 1e-37);
    }

    #[test]
    fn erf_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = -3.0f32;
        while x < 3.0 {
            worst = worst.max(((erf(x) as f64) - erf_ref(x as f64)).abs());
            x += 0.001;
        }
        assert!(worst < 6e-7, "worst absolute error {worst}");
        // erfc(3) = 2.2e-5; beyond, erf is 1 within that.
        for x in [3.0f32, 4.0, 6.0, 20.0] {
            assert!(erf(x) <= 1.0 && erf(x) > 1.0 - 2.3e-5, "{x}");
            assert_eq!(erf(-x), -erf(x));
        }
        assert!(erf(0.0).abs() < 1e-6);
    }

    #[test]
    fn gemm_matches_naive_with_transposes_and_strides() {
        let a: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect(); // 3x4
        let b: Vec<f32> = (0..20).map(|i| (i as f32).sin()).collect(); // 5x4, used transposed
        let mut c = vec![1.0f32; 3 * 6];
        gemm(
            2.0,
            Mat::rows(&a, 3, 4, 4),
            Mat::rows(&b, 5, 4, 4).t(),
            1.0,
            &mut c,
            6,
        );
        for i in 0..3 {
            for j in 0..5 {
                let want: f32 =
                    1.0 + 2.0 * (0..4).map(|k| a[i * 4 + k] * b[j * 4 + k]).sum::<f32>();
                assert!((c[i * 6 + j] - want).abs() < 1e-5, "{i},{j}");
            }
            assert_eq!(c[i * 6 + 5], 1.0, "column outside n untouched");
        }
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn gemm_checks_bounds() {
        let a = vec![0.0f32; 5];
        let mut c = vec![0.0f32; 4];
        gemm(
            1.0,
            Mat::rows(&a, 2, 3, 3),
            Mat::rows(&a, 3, 2, 2),
            0.0,
            &mut c,
            2,
        );
    }
}
