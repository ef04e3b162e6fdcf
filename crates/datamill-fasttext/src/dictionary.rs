//! fastText's dictionary: words, labels, char n-gram buckets and word n-gram hashing.
//!
//! Mirrors `Dictionary::load`, `initNgrams`, `computeSubwords`, `pushHash`, `getLine`
//! and `addWordNgrams` of fastText 0.9.2, including its quirks (the hashing ones are in
//! [`crate::hashing`], shared with training); a token equal to `</s>` ends the line.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::args::Args;
use crate::error::FormatError;
use crate::hashing::{EOS, hash, is_separator, subword_hashes, word_ngram_hashes};
use crate::reader::Reader;

/// Prefix fastText uses to tell labels from words (`Args::label`, never saved in the file).
pub const LABEL_PREFIX: &str = "__label__";

/// Multiplicative hasher for the `i32 -> i32` prune map (keys come from the model file).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i32(&mut self, i: i32) {
        let x = (i as u32 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 32);
    }
}

type PruneMap = HashMap<i32, i32, BuildHasherDefault<IdHasher>>;

/// `pruneidx_size_` semantics: negative = not pruned, 0 = every n-gram pruned, else a map.
#[derive(Debug)]
enum Prune {
    NotPruned,
    AllPruned,
    Map(PruneMap),
}

#[derive(Debug)]
pub(crate) struct Dictionary {
    /// All entries (words then labels), bytes as stored.
    entries: Vec<Box<[u8]>>,
    counts: Vec<i64>,
    nwords: i32,
    nlabels: i32,
    /// Open-addressing table `hash % len -> entry id` (fastText's `word2int_`).
    word2int: Vec<i32>,
    prune: Prune,
    /// Input-matrix rows of each word: `[id, char n-grams...]`, flattened.
    subwords: Vec<u32>,
    subword_offsets: Vec<u32>,
    /// Labels decoded as UTF-8 (lossily).
    labels: Vec<String>,
    minn: usize,
    maxn: usize,
    bucket: u32,
    word_ngrams: i32,
}

/// Where the tokens of a line contribute: the input-matrix rows, in fastText's order.
#[derive(Default)]
pub(crate) struct LineScratch {
    pub(crate) ids: Vec<u32>,
    word_hashes: Vec<i32>,
    token: Vec<u8>,
}

impl Dictionary {
    pub(crate) fn read(r: &mut Reader<'_>, args: &Args) -> Result<Self, FormatError> {
        let size = r.i32("dictionary.size")?;
        let nwords = r.i32("dictionary.nwords")?;
        let nlabels = r.i32("dictionary.nlabels")?;
        let _ntokens = r.i64("dictionary.ntokens")?;
        let pruneidx_size = r.i64("dictionary.pruneidx_size")?;
        if size < 0
            || nwords < 0
            || nlabels < 0
            || i64::from(nwords) + i64::from(nlabels) != i64::from(size)
        {
            return Err(r.invalid(
                "dictionary header",
                format!("size {size} != nwords {nwords} + nlabels {nlabels}"),
            ));
        }
        // Each entry takes at least 10 bytes (NUL + count + type): cheap sanity check before allocating.
        if (size as u64) * 10 > r.remaining() as u64 {
            return Err(FormatError::Truncated {
                what: "dictionary entries",
                offset: r.pos(),
                needed: (size as u64) * 10,
                available: r.remaining(),
            });
        }
        let mut entries = Vec::with_capacity(size as usize);
        let mut counts = Vec::with_capacity(size as usize);
        for i in 0..size {
            let word = r.cstr("dictionary word")?;
            let count = r.i64("dictionary word count")?;
            let ty = r.u8("dictionary entry type")?;
            let expected = u8::from(i >= nwords);
            if ty != expected {
                return Err(r.invalid(
                    "dictionary entry type",
                    format!(
                        "entry {i} ('{}') has type {ty}, expected {expected} (words first, then labels)",
                        String::from_utf8_lossy(word)
                    ),
                ));
            }
            entries.push(Box::<[u8]>::from(word));
            counts.push(count);
        }
        let prune = if pruneidx_size < 0 {
            Prune::NotPruned
        } else if pruneidx_size == 0 {
            Prune::AllPruned
        } else {
            let n = pruneidx_size as u64;
            if n.saturating_mul(8) > r.remaining() as u64 {
                return Err(FormatError::Truncated {
                    what: "dictionary pruneidx",
                    offset: r.pos(),
                    needed: n.saturating_mul(8),
                    available: r.remaining(),
                });
            }
            let mut map = PruneMap::with_capacity_and_hasher(n as usize, Default::default());
            for _ in 0..n {
                let k = r.i32("pruneidx key")?;
                let v = r.i32("pruneidx value")?;
                if v < 0 {
                    return Err(r.invalid("pruneidx value", format!("negative row {v}")));
                }
                map.insert(k, v);
            }
            Prune::Map(map)
        };

        let labels = entries[nwords as usize..]
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();

        // word2int_ of fastText 0.9.2: ceil(size / 0.7) slots, linear probing.
        let slots = ((size as f64) / 0.7).ceil() as usize;
        let mut word2int = vec![-1i32; slots];
        let mut dict = Dictionary {
            entries,
            counts,
            nwords,
            nlabels,
            word2int: Vec::new(),
            prune,
            subwords: Vec::new(),
            subword_offsets: Vec::new(),
            labels,
            minn: args.minn as usize,
            maxn: args.maxn as usize,
            bucket: args.bucket as u32,
            word_ngrams: args.word_ngrams,
        };
        for i in 0..size as usize {
            let w = &dict.entries[i];
            let slot = dict.find_slot(&word2int, w, hash(w));
            word2int[slot] = i as i32;
        }
        dict.word2int = word2int;

        // initNgrams, for words only (labels never reach the input matrix).
        let mut subwords = Vec::new();
        let mut offsets = Vec::with_capacity(nwords as usize + 1);
        offsets.push(0u32);
        let mut buf = Vec::new();
        for i in 0..nwords as usize {
            subwords.push(i as u32);
            let w = &dict.entries[i];
            if &**w != EOS {
                buf.clear();
                buf.push(b'<');
                buf.extend_from_slice(w);
                buf.push(b'>');
                dict.compute_subwords(&buf, &mut subwords);
            }
            let end = u32::try_from(subwords.len())
                .map_err(|_| r.invalid("dictionary", "too many subwords"))?;
            offsets.push(end);
        }
        dict.subwords = subwords;
        dict.subword_offsets = offsets;
        Ok(dict)
    }

    /// Checks that every row the dictionary can produce exists in an input matrix of `rows` rows.
    pub(crate) fn check_rows(&self, rows: u64) -> Result<(), String> {
        let nwords = self.nwords as u64;
        let need = match &self.prune {
            Prune::NotPruned => {
                let uses_buckets = self.maxn > 0 || self.word_ngrams > 1;
                nwords
                    + if uses_buckets {
                        u64::from(self.bucket)
                    } else {
                        0
                    }
            }
            Prune::AllPruned => nwords,
            Prune::Map(m) => nwords + m.values().map(|&v| v as u64 + 1).max().unwrap_or(0),
        };
        if need > rows {
            return Err(format!(
                "the dictionary addresses {need} rows (nwords {} + n-gram buckets) but the matrix has {rows}",
                self.nwords
            ));
        }
        Ok(())
    }

    pub(crate) fn nwords(&self) -> usize {
        self.nwords as usize
    }

    pub(crate) fn nlabels(&self) -> usize {
        self.nlabels as usize
    }

    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    pub(crate) fn label_counts(&self) -> &[i64] {
        &self.counts[self.nwords as usize..]
    }

    pub(crate) fn is_pruned(&self) -> bool {
        !matches!(self.prune, Prune::NotPruned)
    }

    /// fastText's `Dictionary::find`: the slot holding `w`, or the empty slot where it would go.
    fn find_slot(&self, table: &[i32], w: &[u8], h: u32) -> usize {
        let len = table.len();
        let mut id = (h as usize) % len;
        loop {
            let e = table[id];
            if e == -1 || &*self.entries[e as usize] == w {
                return id;
            }
            id = (id + 1) % len;
        }
    }

    /// `getId`: entry id of `w` or -1.
    fn get_id(&self, w: &[u8], h: u32) -> i32 {
        if self.word2int.is_empty() {
            return -1;
        }
        self.word2int[self.find_slot(&self.word2int, w, h)]
    }

    #[inline]
    fn push_hash(&self, out: &mut Vec<u32>, id: u32) {
        match &self.prune {
            Prune::NotPruned => out.push(self.nwords as u32 + id),
            Prune::AllPruned => {}
            Prune::Map(m) => {
                // `id` < bucket <= i32::MAX, so the cast is lossless.
                if let Some(&v) = m.get(&(id as i32)) {
                    out.push(self.nwords as u32 + v as u32);
                }
            }
        }
    }

    /// `computeSubwords` on a word already wrapped in `<` `>`.
    fn compute_subwords(&self, word: &[u8], out: &mut Vec<u32>) {
        if self.maxn == 0 || self.bucket == 0 {
            return;
        }
        subword_hashes(word, self.minn, self.maxn, |h| {
            self.push_hash(out, h % self.bucket)
        });
    }

    /// `getLine` + `addWordNgrams` for a line of bytes followed by a newline.
    ///
    /// Every byte of `line` that fastText treats as a separator (space, `\t`, `\n`, `\v`, `\f`,
    /// `\r`, NUL) separates tokens; the end of `line` yields the `</s>` token. A token equal to
    /// `</s>` ends the line (as in fastText). Fills `s.ids` with input-matrix rows.
    pub(crate) fn line_ids(&self, line: &[u8], s: &mut LineScratch) {
        s.ids.clear();
        s.word_hashes.clear();
        let mut pos = 0;
        loop {
            // readWord
            while pos < line.len() && is_separator(line[pos]) {
                pos += 1;
            }
            let token: &[u8] = if pos < line.len() {
                let start = pos;
                while pos < line.len() && !is_separator(line[pos]) {
                    pos += 1;
                }
                &line[start..pos]
            } else {
                EOS
            };
            let h = hash(token);
            let wid = self.get_id(token, h);
            if wid >= 0 {
                if wid < self.nwords {
                    let a = self.subword_offsets[wid as usize] as usize;
                    let b = self.subword_offsets[wid as usize + 1] as usize;
                    if self.maxn == 0 {
                        s.ids.push(wid as u32);
                    } else {
                        s.ids.extend_from_slice(&self.subwords[a..b]);
                    }
                    s.word_hashes.push(h as i32);
                }
                // else: a label, ignored
            } else if !token.starts_with(LABEL_PREFIX.as_bytes()) {
                if token != EOS {
                    s.token.clear();
                    s.token.push(b'<');
                    s.token.extend_from_slice(token);
                    s.token.push(b'>');
                    let mut ids = std::mem::take(&mut s.ids);
                    self.compute_subwords(&s.token, &mut ids);
                    s.ids = ids;
                }
                s.word_hashes.push(h as i32);
            }
            if token == EOS {
                break;
            }
        }
        self.add_word_ngrams(s);
    }

    fn add_word_ngrams(&self, s: &mut LineScratch) {
        let n = self.word_ngrams as i64;
        if n <= 1 || self.bucket == 0 {
            return;
        }
        word_ngram_hashes(&s.word_hashes, n as usize, |h| {
            let id = (h % u64::from(self.bucket)) as u32;
            match &self.prune {
                Prune::NotPruned => s.ids.push(self.nwords as u32 + id),
                Prune::AllPruned => {}
                Prune::Map(m) => {
                    if let Some(&v) = m.get(&(id as i32)) {
                        s.ids.push(self.nwords as u32 + v as u32);
                    }
                }
            }
        });
    }
}
