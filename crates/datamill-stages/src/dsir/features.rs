//! DSIR's hashed n-gram features, as data-selection 1.0.3 computes them
//! (`hashed_ngram_dsir.get_ngram_counts`): `WordPunctTokenizer().tokenize(text.lower())`, i.e.
//! the regex `\w+|[^\w\s]+` under Python 3.11 `str` semantics, then every unigram and every
//! `' '.join`ed i-gram for i in 2..=n, each put in bucket
//! `int(sha256(s.encode('utf-8')).hexdigest(), 16) % num_buckets`.
//!
//! NLTK 3.10 compiles the tokenizer's pattern with the third-party `regex` engine (not `re`),
//! whose `\w` is Unicode's word class (letters, marks, decimal digits, connector punctuation,
//! join controls: `i̇stanbul` stays one token) and whose `\s` is `White_Space` (U+001C..U+001F
//! are not spaces); the classes are tables generated from that engine (`word_table.rs`).

use super::word_table;
use datamill_filters::pystr;
use sha2::digest::generic_array::GenericArray;

fn in_table(c: char, table: &[(u32, u32)]) -> bool {
    let c = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Computes sparse hashed n-gram count vectors.
#[derive(Clone, Debug)]
pub struct Featurizer {
    n: usize,
    buckets: u64,
    /// `floor((2^64 - 1) / buckets)`, for Barrett reduction.
    barrett: u64,
    /// `2^(32·(7−i)) mod buckets` for the digest's word i, and `2^64 mod buckets`.
    pow: [u64; 8],
    pow64: u64,
}

impl Featurizer {
    /// A featurizer for `n`-grams (1..=n) into `buckets` buckets (1..=2^32).
    pub fn new(n: usize, buckets: u64) -> Featurizer {
        assert!(n >= 1 && (1..=1u64 << 32).contains(&buckets));
        let m = u128::from(buckets);
        let mut pow = [0u64; 8];
        for (i, p) in pow.iter_mut().enumerate() {
            let mut x = 1u128 % m;
            for _ in 0..(7 - i) {
                x = (x << 32) % m;
            }
            *p = x as u64;
        }
        Featurizer {
            n,
            buckets,
            barrett: u64::MAX / buckets,
            pow,
            pow64: ((1u128 << 64) % m) as u64,
        }
    }

    /// The number of buckets.
    pub fn buckets(&self) -> u64 {
        self.buckets
    }

    /// `n` of the n-grams.
    pub fn n(&self) -> usize {
        self.n
    }

    /// `hash_buckets(s, num_buckets)`: the SHA-256 digest, read as a big-endian integer,
    /// modulo the bucket count.
    pub fn bucket(&self, s: &[u8]) -> u32 {
        let d = sha256(s);
        // Σ w_i · (2^(32(7−i)) mod m): eight independent products below 2^64 each, summed in
        // 128 bits (below 2^67), then reduced once.
        let mut sum = 0u128;
        for (w, p) in d.iter().zip(&self.pow) {
            sum += u128::from(u64::from(*w) * p);
        }
        let (hi, lo) = ((sum >> 64) as u64, sum as u64);
        // hi < 8 and pow64 < m <= 2^32: hi·pow64 + (lo mod m) < 2^64.
        self.reduce(hi * self.pow64 + self.reduce(lo)) as u32
    }

    /// `x % buckets` without a division: `q = ⌊x·⌊(2^64−1)/m⌋ / 2^64⌋` undershoots `⌊x/m⌋` by
    /// at most 2.
    #[inline]
    fn reduce(&self, x: u64) -> u64 {
        let q = ((u128::from(x) * u128::from(self.barrett)) >> 64) as u64;
        let mut r = x - q * self.buckets;
        while r >= self.buckets {
            r -= self.buckets;
        }
        r
    }

    /// Appends the bucket of every n-gram of `text` to `out` (in DSIR's order: unigrams, then
    /// bigrams, ...). `words` is scratch space.
    pub fn buckets_of(&self, text: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        scratch.lower.clear();
        lower_into(text, &mut scratch.lower);
        if scratch.cache_buckets != self.buckets || scratch.cache.len() >= CACHE_ENTRIES {
            scratch.cache.clear();
            scratch.cache_buckets = self.buckets;
        }
        let cache = &mut scratch.cache;
        let mut bucket = |s: &[u8]| -> u32 {
            if let Some(&b) = cache.get(s) {
                return b;
            }
            let b = self.bucket(s);
            cache.insert(s.into(), b);
            b
        };
        let lower = &scratch.lower;
        let words = &mut scratch.words;
        words.clear();
        word_punct(lower, words);
        for &(a, b) in words.iter() {
            out.push(bucket(&lower.as_bytes()[a..b]));
        }
        let buf = &mut scratch.gram;
        for i in 2..=self.n {
            if words.len() < i {
                break;
            }
            for w in words.windows(i) {
                buf.clear();
                for (j, &(a, b)) in w.iter().enumerate() {
                    if j > 0 {
                        buf.push(b' ');
                    }
                    buf.extend_from_slice(&lower.as_bytes()[a..b]);
                }
                out.push(bucket(buf));
            }
        }
    }

    /// The sparse count vector of `text`: `(bucket, count)` sorted by bucket.
    pub fn counts(&self, text: &str, scratch: &mut Scratch) -> Vec<(u32, u32)> {
        let mut ids = std::mem::take(&mut scratch.ids);
        ids.clear();
        self.buckets_of(text, &mut ids, scratch);
        let out = if self.buckets <= 1 << 20 {
            let dense = &mut scratch.dense;
            dense.resize(self.buckets as usize, 0);
            let touched = &mut scratch.touched;
            touched.clear();
            for &b in &ids {
                let c = &mut dense[b as usize];
                if *c == 0 {
                    touched.push(b);
                }
                *c += 1;
            }
            touched.sort_unstable();
            touched
                .iter()
                .map(|&b| (b, std::mem::take(&mut dense[b as usize])))
                .collect()
        } else {
            sparse(&mut ids)
        };
        scratch.ids = ids;
        out
    }

    /// DSIR's per-example length: `(Σ counts + n(n-1)/2) // n` (the word count when the text
    /// has at least n-1 words).
    pub fn length(&self, total: u64) -> u64 {
        let n = self.n as u64;
        (total + n * (n - 1) / 2) / n
    }
}

/// SHA-256 of `msg` as eight big-endian words, through `sha2`'s block function (the padding is
/// done here: the generic `Digest` path costs more than the hashing for short n-grams, and
/// the block function stays optimized in debug builds).
fn sha256(msg: &[u8]) -> [u32; 8] {
    const H0: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut state = H0;
    let mut chunks = msg.chunks_exact(64);
    for c in &mut chunks {
        sha2::compress256(&mut state, &[*GenericArray::from_slice(c)]);
    }
    let rest = chunks.remainder();
    let mut block = [0u8; 128];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] = 0x80;
    let len = if rest.len() < 56 { 64 } else { 128 };
    block[len - 8..len].copy_from_slice(&((msg.len() as u64) * 8).to_be_bytes());
    for c in block[..len].chunks_exact(64) {
        sha2::compress256(&mut state, &[*GenericArray::from_slice(c)]);
    }
    state
}

/// Entries of the per-thread n-gram → bucket cache before it is cleared (bounds its memory to
/// a few tens of MB; real text is Zipfian, so most n-grams are found there and skip SHA-256).
const CACHE_ENTRIES: usize = 1 << 20;

/// Reusable buffers for [`Featurizer::counts`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// Exact n-gram bytes → bucket, for `cache_buckets` buckets.
    cache: std::collections::HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>,
    cache_buckets: u64,
    lower: String,
    words: Vec<(usize, usize)>,
    gram: Vec<u8>,
    ids: Vec<u32>,
    /// Per-bucket counts (all zero between calls), for bucket counts up to 2^20.
    dense: Vec<u32>,
    touched: Vec<u32>,
}

/// Sorts bucket ids and run-length encodes them into `(bucket, count)`.
pub fn sparse(ids: &mut [u32]) -> Vec<(u32, u32)> {
    ids.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &b in ids.iter() {
        match out.last_mut() {
            Some((lb, c)) if *lb == b => *c += 1,
            _ => out.push((b, 1)),
        }
    }
    out
}

/// Python's `str.lower()` (CPython 3.11 tables), appended to `out`.
fn lower_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&pystr::lower(s));
    }
}

/// NLTK's `WordPunctTokenizer`: byte ranges of the matches of `\w+|[^\w\s]+` (the `regex`
/// engine's Unicode classes).
pub fn word_punct(s: &str, out: &mut Vec<(usize, usize)>) {
    #[derive(PartialEq, Clone, Copy)]
    enum K {
        Word,
        Punct,
        Space,
    }
    let kind = |c: char| {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() || c == '_' {
                K::Word
            } else if matches!(c, '\t'..='\r' | ' ') {
                K::Space
            } else {
                K::Punct
            }
        } else if in_table(c, word_table::WORD) {
            K::Word
        } else if in_table(c, word_table::SPACE) {
            K::Space
        } else {
            K::Punct
        }
    };
    let mut cur: Option<(K, usize)> = None;
    for (i, c) in s.char_indices() {
        let k = kind(c);
        match cur {
            Some((ck, _)) if ck == k => {}
            Some((ck, start)) => {
                if ck != K::Space {
                    out.push((start, i));
                }
                cur = Some((k, i));
            }
            None => cur = Some((k, i)),
        }
    }
    if let Some((ck, start)) = cur
        && ck != K::Space
    {
        out.push((start, s.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_padding_at_every_length() {
        use sha2::Digest;
        for n in 0..200 {
            let msg: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let want = sha2::Sha256::digest(&msg);
            let got: Vec<u8> = sha256(&msg).iter().flat_map(|w| w.to_be_bytes()).collect();
            assert_eq!(got, want.as_slice(), "length {n}");
        }
    }

    #[test]
    fn barrett_reduction_is_exact() {
        for m in [1u64, 2, 7, 10000, 65537, (1 << 32) - 1, 1 << 32] {
            let f = Featurizer::new(1, m);
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            for _ in 0..2000 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                assert_eq!(f.reduce(x), x % m, "{x} mod {m}");
            }
            assert_eq!(f.reduce(u64::MAX), u64::MAX % m);
        }
    }

    #[test]
    fn reference_test_vectors() {
        let f = Featurizer::new(2, 10000);
        assert_eq!(f.bucket(b"alice"), 6720);
        assert_eq!(f.bucket(b"alice went"), 114);
        let c = f.counts("Alice went to the store", &mut Scratch::default());
        assert_eq!(c.iter().map(|x| x.1).sum::<u32>(), 9);
        assert_eq!(f.length(9), 5);
    }

    #[test]
    fn wordpunct_splits_like_nltk() {
        let s = "hello, world!!! it's 3.14 -- e.g. a_b  x";
        let mut v = Vec::new();
        word_punct(s, &mut v);
        let toks: Vec<&str> = v.iter().map(|&(a, b)| &s[a..b]).collect();
        assert_eq!(
            toks,
            [
                "hello", ",", "world", "!!!", "it", "'", "s", "3", ".", "14", "--", "e", ".", "g",
                ".", "a_b", "x"
            ]
        );
    }
}
