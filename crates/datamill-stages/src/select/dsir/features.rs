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
use std::collections::HashMap;

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
    /// bigrams, ...). `scratch` holds buffers and the n-gram → bucket cache.
    ///
    /// The cache interns n-grams exactly: a word is looked up by its bytes and gets an id; an
    /// i-gram is looked up by the pair (id of its first i−1 words, id of its last word), so
    /// bigrams and longer n-grams cost one integer-keyed lookup and no string is built unless
    /// the n-gram is new (then its `' '`-joined bytes are hashed with SHA-256, as the reference
    /// does). Real text is Zipfian: most n-grams are found.
    pub fn buckets_of(&self, text: &str, out: &mut Vec<u32>, scratch: &mut Scratch) {
        scratch.lower.clear();
        lower_into(text, &mut scratch.lower);
        let c = &mut scratch.cache;
        if c.buckets != self.buckets || c.words.len() + c.grams.len() >= c.soft {
            c.words.clear();
            c.grams.clear();
            c.next_id = 0;
            c.buckets = self.buckets;
        }
        let lower = scratch.lower.as_bytes();
        let spans = &mut scratch.words;
        spans.clear();
        word_punct(&scratch.lower, spans);
        // Unigrams: one lookup by bytes each, giving the word's id and bucket.
        let ids = &mut scratch.word_ids;
        ids.clear();
        for &(a, b) in spans.iter() {
            let w = &lower[a..b];
            let (id, bucket) = match c.words.get(w) {
                Some(&e) => e,
                None if c.words.len() + c.grams.len() >= c.hard => (NONE, self.bucket(w)),
                None => {
                    let e = (c.next_id, self.bucket(w));
                    c.next_id += 1;
                    c.words.insert(w.into(), e);
                    e
                }
            };
            ids.push(id);
            out.push(bucket);
        }
        // i-grams for i = 2..=n: prefix[j] is the id of words[j..j+i-1].
        let prefix = &mut scratch.prefix;
        prefix.clear();
        prefix.extend_from_slice(ids);
        let buf = &mut scratch.gram;
        for i in 2..=self.n {
            if spans.len() < i {
                break;
            }
            let last = i == self.n;
            for j in 0..=spans.len() - i {
                let (p, w) = (prefix[j], ids[j + i - 1]);
                let key = (u64::from(p) << 32) | u64::from(w);
                let cached = if p == NONE || w == NONE {
                    None
                } else {
                    c.grams.get(&key).copied()
                };
                let (id, bucket) = match cached {
                    Some(e) => e,
                    None => {
                        buf.clear();
                        for (k, &(a, b)) in spans[j..j + i].iter().enumerate() {
                            if k > 0 {
                                buf.push(b' ');
                            }
                            buf.extend_from_slice(&lower[a..b]);
                        }
                        let bucket = self.bucket(buf);
                        if p == NONE || w == NONE || c.words.len() + c.grams.len() >= c.hard {
                            (NONE, bucket)
                        } else {
                            // The last order's ids are never a prefix: they are not numbered.
                            let id = if last {
                                NONE
                            } else {
                                c.next_id += 1;
                                c.next_id - 1
                            };
                            c.grams.insert(key, (id, bucket));
                            (id, bucket)
                        }
                    }
                };
                prefix[j] = id;
                out.push(bucket);
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
/// a few tens of MB).
const CACHE_ENTRIES: usize = 1 << 20;

/// Entries past which even the current document adds nothing to the cache (one huge document
/// cannot grow it without bound); its new n-grams are then hashed without being remembered.
const CACHE_HARD_LIMIT: usize = 4 * CACHE_ENTRIES;

/// The id of an n-gram that is not in the cache (never a key).
const NONE: u32 = u32::MAX;

/// The exact n-gram interning cache of [`Featurizer::buckets_of`].
#[derive(Debug)]
struct Cache {
    /// Entries at which the cache is cleared before the next document.
    soft: usize,
    /// Entries past which nothing more is added.
    hard: usize,
    /// The bucket count the entries were computed for.
    buckets: u64,
    /// Word bytes → (id, bucket).
    words: HashMap<Box<[u8]>, (u32, u32), foldhash::fast::FixedState>,
    /// (prefix id << 32 | last word id) → (id, bucket) for i-grams, i ≥ 2.
    grams: HashMap<u64, (u32, u32), foldhash::fast::FixedState>,
    next_id: u32,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            soft: CACHE_ENTRIES,
            hard: CACHE_HARD_LIMIT,
            buckets: 0,
            words: HashMap::default(),
            grams: HashMap::default(),
            next_id: 0,
        }
    }
}

/// Reusable buffers for [`Featurizer::counts`], and its n-gram cache.
#[derive(Debug, Default)]
pub struct Scratch {
    cache: Cache,
    lower: String,
    words: Vec<(usize, usize)>,
    word_ids: Vec<u32>,
    prefix: Vec<u32>,
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

    /// Every n-gram hashed on its own, the reference's way.
    fn naive(f: &Featurizer, text: &str) -> Vec<u32> {
        let lower = text.to_lowercase();
        let mut spans = Vec::new();
        word_punct(&lower, &mut spans);
        let words: Vec<&str> = spans.iter().map(|&(a, b)| &lower[a..b]).collect();
        let mut out = Vec::new();
        for i in 1..=f.n() {
            for w in words.windows(i) {
                out.push(f.bucket(w.join(" ").as_bytes()));
            }
        }
        out
    }

    #[test]
    fn cache_gives_the_uncached_buckets_at_any_size() {
        let texts = [
            "the cat sat on the mat. the cat sat on the hat!",
            "on the mat the cat sat; sat the cat on the mat?",
            "a b a b a b a b c",
            "",
            "one",
            "the cat the cat the cat sat sat sat on on on the mat the mat",
        ];
        for n in 1..=4 {
            let f = Featurizer::new(n, 10000);
            for (soft, hard) in [(1 << 20, 1 << 22), (3, 5), (0, 0), (8, 1000), (1000, 8)] {
                let mut scratch = Scratch::default();
                scratch.cache.soft = soft;
                scratch.cache.hard = hard;
                // Twice over, so the second round reads what the first cached.
                for t in texts.iter().chain(&texts) {
                    let mut got = Vec::new();
                    f.buckets_of(t, &mut got, &mut scratch);
                    assert_eq!(got, naive(&f, t), "n={n} soft={soft} hard={hard} {t:?}");
                }
                assert!(scratch.cache.words.len() + scratch.cache.grams.len() <= hard);
            }
        }
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
