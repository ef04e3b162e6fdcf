//! Dataset Decomposition (Pouransari et al., NeurIPS 2024; apple/ml-dataset-decomposition
//! `scripts/make_dd_buckets.py`, `get_binary`): a tokenized document is cut, from its start,
//! into chunks of `2^k + 1` tokens (2^k inputs and one shifted target), `k` being the largest
//! power that fits the rest (`k = int(math.log2(len(rest) − 1))`), capped at `max_log2`; a rest
//! whose `k` falls below `min_log2` (or a single token) is dropped. Chunk *k* goes to bucket
//! `D_k`; training draws one bucket per step with `2^(max−k)` times the sequences of the
//! longest bucket, so every step has the same number of tokens ("variable sequence length").
//!
//! With `randomize = false` the chunks are exactly the reference's `get_binary(seq, min_log2,
//! max_log2, randomize=False)` (golden test). With `randomize = true` an over-long rest takes a
//! random `k` in `max_log2..=min_log2` with `p(k) ∝ 2^(max−k)` as the reference does, drawn
//! with numpy's `Generator.choice` from `default_rng([seed, 0xDD, position])` (the reference
//! uses the unseeded global generator, which cannot be reproduced).

use datamill_npsort::random::Pcg64;

/// One chunk of a document: bucket `k`, tokens `start..start + 2^k + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The bucket (log2 of the sequence length).
    pub k: u32,
    /// First token of the chunk in the document.
    pub start: usize,
}

impl Chunk {
    /// Tokens in the chunk (`2^k + 1`).
    pub fn len(&self) -> usize {
        (1usize << self.k) + 1
    }
    /// Never empty.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// `int(math.log2(n))` for `n >= 1`, through a double as Python computes it.
fn py_log2_floor(n: usize) -> u32 {
    (n as f64).log2() as u32
}

/// The chunks of a document of `len` tokens and the number of tokens dropped at its end.
/// `rng` supplies the random choices of `randomize = true` (`None`: `randomize = False`).
pub fn decompose(
    len: usize,
    min_log2: u32,
    max_log2: u32,
    mut rng: Option<&mut Pcg64>,
) -> (Vec<Chunk>, usize) {
    let mut out = Vec::new();
    let mut start = 0usize;
    let n_buckets = (max_log2 - min_log2 + 1) as usize;
    while len - start > 1 {
        let mut k = py_log2_floor(len - start - 1);
        if k < min_log2 {
            break;
        }
        if k > max_log2 {
            k = match rng.as_deref_mut() {
                Some(g) => {
                    // choice(arange(max, min - 1, -1), p = 2^arange(n) / sum).
                    let ps: Vec<f64> = (0..n_buckets).map(|i| (1u64 << i) as f64).collect();
                    let total: f64 = ps.iter().sum();
                    let mut cdf = Vec::with_capacity(n_buckets);
                    let mut acc = 0.0;
                    for p in &ps {
                        acc += p / total;
                        cdf.push(acc);
                    }
                    let last = *cdf.last().expect("at least one bucket");
                    for c in &mut cdf {
                        *c /= last;
                    }
                    let u = g.next_f64();
                    let idx = cdf.partition_point(|&c| c <= u).min(n_buckets - 1);
                    max_log2 - idx as u32
                }
                None => max_log2,
            };
        }
        out.push(Chunk { k, start });
        start += (1usize << k) + 1;
    }
    (out, len - start)
}

/// Grow-P2 curriculum odds per bucket from `min_log2` up: `2^(max − k)`.
pub fn grow_p2(min_log2: u32, max_log2: u32) -> Vec<f64> {
    (min_log2..=max_log2)
        .map(|k| (1u64 << (max_log2 - k)) as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_tile_a_prefix_along_the_binary_digits() {
        // 256 + 1 + 512 + 1 = 770 tokens: bucket 9 first (769 - 1 = 768 -> k = 9), then 8.
        let (c, rest) = decompose(770, 8, 13, None);
        assert_eq!(c, [Chunk { k: 9, start: 0 }, Chunk { k: 8, start: 513 }]);
        assert_eq!(rest, 0);
        // Short documents are dropped whole.
        assert_eq!(
            decompose(257, 8, 13, None),
            (vec![Chunk { k: 8, start: 0 }], 0)
        );
        assert_eq!(decompose(256, 8, 13, None), (vec![], 256));
        assert_eq!(decompose(1, 8, 13, None), (vec![], 1));
        assert_eq!(decompose(0, 8, 13, None), (vec![], 0));
        // Long documents are capped at max_log2.
        let (c, rest) = decompose(3 * 8193 + 10, 8, 13, None);
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|x| x.k == 13));
        assert_eq!(rest, 10);
        // Invariants over many lengths.
        for len in 0..20_000usize {
            let (c, rest) = decompose(len, 8, 13, None);
            let mut pos = 0;
            for ch in &c {
                assert_eq!(ch.start, pos);
                assert!((8..=13).contains(&ch.k));
                pos += ch.len();
            }
            assert_eq!(pos + rest, len);
            assert!(rest < 257 + 1, "{len}: rest {rest}");
        }
    }

    #[test]
    fn randomized_long_documents_favour_short_buckets() {
        let mut g = Pcg64::from_entropy(&[1]);
        let mut tokens = [0usize; 6];
        for _ in 0..200 {
            let (c, _) = decompose(200_000, 8, 13, Some(&mut g));
            for ch in c {
                tokens[(ch.k - 8) as usize] += ch.len();
            }
        }
        // p(k) ∝ 2^(13−k): every bucket gets about the same number of tokens.
        let total: usize = tokens.iter().sum();
        for t in tokens {
            let share = t as f64 / total as f64;
            assert!((share - 1.0 / 6.0).abs() < 0.03, "{tokens:?}");
        }
    }
}
