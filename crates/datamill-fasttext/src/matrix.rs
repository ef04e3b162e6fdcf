//! Dense and product-quantized matrices (`DenseMatrix`, `QuantMatrix`, `ProductQuantizer`).
//!
//! Arithmetic is done in `f32` in the same order as fastText so results match bit for bit
//! (fastText is compiled without `-ffast-math`, so its loops are not reassociated).

use crate::error::FormatError;
use crate::reader::Reader;

/// Centroids per sub-quantizer (fastText uses 8-bit codes).
const KSUB: usize = 256;

#[derive(Debug)]
pub(crate) struct DenseMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

#[derive(Debug)]
pub(crate) struct ProductQuantizer {
    nsubq: usize,
    dsub: usize,
    lastdsub: usize,
    centroids: Vec<f32>,
}

#[derive(Debug)]
pub(crate) struct QuantMatrix {
    rows: usize,
    cols: usize,
    codes: Vec<u8>,
    pq: ProductQuantizer,
    norm: Option<(Vec<u8>, ProductQuantizer)>,
}

#[derive(Debug)]
pub(crate) enum Matrix {
    Dense(DenseMatrix),
    Quant(QuantMatrix),
}

fn dims(r: &mut Reader<'_>, what: &'static str) -> Result<(usize, usize), FormatError> {
    let m = r.i64(what)?;
    let n = r.i64(what)?;
    if m < 0 || n < 0 || m > u32::MAX as i64 || n > u32::MAX as i64 {
        return Err(r.invalid(what, format!("impossible matrix shape {m} x {n}")));
    }
    Ok((m as usize, n as usize))
}

impl DenseMatrix {
    fn read(r: &mut Reader<'_>) -> Result<Self, FormatError> {
        let (rows, cols) = dims(r, "dense matrix shape")?;
        let data = r.f32s((rows as u64) * (cols as u64), "dense matrix data")?;
        Ok(Self { rows, cols, data })
    }
}

impl ProductQuantizer {
    fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, FormatError> {
        let dim = r.i32(what)?;
        let nsubq = r.i32(what)?;
        let dsub = r.i32(what)?;
        let lastdsub = r.i32(what)?;
        if dim <= 0
            || nsubq <= 0
            || dsub <= 0
            || lastdsub <= 0
            || lastdsub > dsub
            || i64::from(nsubq - 1) * i64::from(dsub) + i64::from(lastdsub) != i64::from(dim)
        {
            return Err(r.invalid(
                what,
                format!(
                    "inconsistent product quantizer: dim {dim}, nsubq {nsubq}, dsub {dsub}, lastdsub {lastdsub}"
                ),
            ));
        }
        let centroids = r.f32s(dim as u64 * KSUB as u64, what)?;
        Ok(Self {
            nsubq: nsubq as usize,
            dsub: dsub as usize,
            lastdsub: lastdsub as usize,
            centroids,
        })
    }

    fn dim(&self) -> usize {
        (self.nsubq - 1) * self.dsub + self.lastdsub
    }

    /// `get_centroids(m, i)`.
    #[inline(always)]
    fn centroids(&self, m: usize, i: u8) -> &[f32] {
        let i = i as usize;
        if m == self.nsubq - 1 {
            let start = m * KSUB * self.dsub + i * self.lastdsub;
            &self.centroids[start..start + self.lastdsub]
        } else {
            let start = (m * KSUB + i) * self.dsub;
            &self.centroids[start..start + self.dsub]
        }
    }

    /// `addcode`: x += alpha * decode(code).
    #[inline]
    fn add_code(&self, x: &mut [f32], code: &[u8], alpha: f32) {
        for (m, &c) in code.iter().enumerate() {
            let cent = self.centroids(m, c);
            let xs = &mut x[m * self.dsub..m * self.dsub + cent.len()];
            for (xv, &cv) in xs.iter_mut().zip(cent) {
                *xv += alpha * cv;
            }
        }
    }

    /// `mulcode`: alpha * <x, decode(code)>.
    #[inline]
    fn mul_code(&self, x: &[f32], code: &[u8], alpha: f32) -> f32 {
        let mut res = 0.0f32;
        for (m, &c) in code.iter().enumerate() {
            let cent = self.centroids(m, c);
            let xs = &x[m * self.dsub..m * self.dsub + cent.len()];
            for (&xv, &cv) in xs.iter().zip(cent) {
                res += xv * cv;
            }
        }
        res * alpha
    }
}

impl QuantMatrix {
    fn read(r: &mut Reader<'_>) -> Result<Self, FormatError> {
        let qnorm = r.bool("quant matrix qnorm")?;
        let (rows, cols) = dims(r, "quant matrix shape")?;
        let codesize = r.i32("quant matrix codesize")?;
        if codesize < 0 {
            return Err(r.invalid("quant matrix codesize", format!("negative ({codesize})")));
        }
        let codes = r.take(codesize as u64, "quant matrix codes")?.to_vec();
        let pq = ProductQuantizer::read(r, "product quantizer")?;
        if pq.dim() != cols || (codesize as u64) != (rows as u64) * (pq.nsubq as u64) {
            return Err(r.invalid(
                "product quantizer",
                format!(
                    "quantizer (dim {}, {} sub-quantizers, {codesize} code bytes) does not fit a {rows} x {cols} matrix",
                    pq.dim(),
                    pq.nsubq
                ),
            ));
        }
        let norm = if qnorm {
            let norm_codes = r.take(rows as u64, "quant matrix norm codes")?.to_vec();
            let npq = ProductQuantizer::read(r, "norm product quantizer")?;
            if npq.dim() != 1 {
                return Err(r.invalid(
                    "norm product quantizer",
                    format!("dimension {} (expected 1)", npq.dim()),
                ));
            }
            Some((norm_codes, npq))
        } else {
            None
        };
        Ok(Self {
            rows,
            cols,
            codes,
            pq,
            norm,
        })
    }

    #[inline(always)]
    fn norm(&self, i: usize) -> f32 {
        match &self.norm {
            Some((codes, npq)) => npq.centroids(0, codes[i])[0],
            None => 1.0,
        }
    }

    #[inline(always)]
    fn code(&self, i: usize) -> &[u8] {
        let n = self.pq.nsubq;
        &self.codes[i * n..(i + 1) * n]
    }
}

impl Matrix {
    pub(crate) fn read(r: &mut Reader<'_>, quantized: bool) -> Result<Self, FormatError> {
        if quantized {
            Ok(Matrix::Quant(QuantMatrix::read(r)?))
        } else {
            Ok(Matrix::Dense(DenseMatrix::read(r)?))
        }
    }

    pub(crate) fn rows(&self) -> usize {
        match self {
            Matrix::Dense(d) => d.rows,
            Matrix::Quant(q) => q.rows,
        }
    }

    pub(crate) fn cols(&self) -> usize {
        match self {
            Matrix::Dense(d) => d.cols,
            Matrix::Quant(q) => q.cols,
        }
    }

    /// `addRowToVector(x, i)`: x += row i. Caller guarantees `i < rows` and `x.len() == cols`.
    #[inline]
    pub(crate) fn add_row_to(&self, x: &mut [f32], i: usize) {
        match self {
            Matrix::Dense(d) => {
                let row = &d.data[i * d.cols..(i + 1) * d.cols];
                for (xv, &rv) in x.iter_mut().zip(row) {
                    *xv += rv;
                }
            }
            Matrix::Quant(q) => q.pq.add_code(x, q.code(i), q.norm(i)),
        }
    }

    /// `dotRow(x, i)`: <row i, x>.
    #[inline]
    pub(crate) fn dot_row(&self, x: &[f32], i: usize) -> f32 {
        match self {
            Matrix::Dense(d) => {
                let row = &d.data[i * d.cols..(i + 1) * d.cols];
                let mut s = 0.0f32;
                for (&rv, &xv) in row.iter().zip(x) {
                    s += rv * xv;
                }
                s
            }
            Matrix::Quant(q) => q.pq.mul_code(x, q.code(i), q.norm(i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(v: &[i64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn dense_rows_and_dots() {
        let mut b = le(&[2, 3]);
        for f in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            b.extend_from_slice(&f.to_le_bytes());
        }
        let m = Matrix::read(&mut Reader::new(&b), false).unwrap();
        assert_eq!((m.rows(), m.cols()), (2, 3));
        let mut x = vec![0.0; 3];
        m.add_row_to(&mut x, 1);
        assert_eq!(x, vec![4.0, 5.0, 6.0]);
        assert_eq!(m.dot_row(&[1.0, 1.0, 1.0], 0), 6.0);
    }

    #[test]
    fn dense_shape_larger_than_file_is_an_error() {
        let b = le(&[1 << 30, 1 << 30]);
        assert!(matches!(
            Matrix::read(&mut Reader::new(&b), false),
            Err(FormatError::Truncated { .. })
        ));
        let b = le(&[-1, 3]);
        assert!(matches!(
            Matrix::read(&mut Reader::new(&b), false),
            Err(FormatError::Invalid { .. })
        ));
    }

    #[test]
    fn product_quantizer_decodes_last_subquantizer_with_lastdsub() {
        // dim 3, dsub 2 -> 2 sub-quantizers, the last one of width 1.
        let mut b = Vec::new();
        b.push(0u8); // qnorm
        b.extend(le(&[1, 3])); // 1 row x 3 cols
        b.extend(2i32.to_le_bytes()); // codesize
        b.extend([1u8, 2u8]); // codes of row 0
        for v in [3i32, 2, 2, 1] {
            b.extend(v.to_le_bytes());
        }
        let mut cents = vec![0.0f32; 3 * KSUB];
        // sub-quantizer 0, centroid 1 = (10, 20); sub-quantizer 1 (offset 0*... ) centroid 2 = 30
        cents[2] = 10.0;
        cents[3] = 20.0;
        cents[KSUB * 2 + 2] = 30.0;
        for f in &cents {
            b.extend(f.to_le_bytes());
        }
        let m = Matrix::read(&mut Reader::new(&b), true).unwrap();
        let mut x = vec![0.0; 3];
        m.add_row_to(&mut x, 0);
        assert_eq!(x, vec![10.0, 20.0, 30.0]);
        assert_eq!(m.dot_row(&[1.0, 1.0, 1.0], 0), 60.0);
    }
}
