//! The ARPA model and KenLM-exact scoring.

use crate::LmError;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::BufRead;

/// The highest n-gram order supported (KenLM's PyPI build supports 6).
pub const MAX_ORDER: usize = 8;

/// A log10 probability and backoff, as KenLM stores them (32-bit floats).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct ProbBackoff {
    prob: f32,
    backoff: f32,
}

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type NgramMap = HashMap<u64, ProbBackoff, BuildHasherDefault<IdHasher>>;

/// splitmix64's finalizer: a stable, well-mixing bijection of u64.
#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The hash of the unigram `w`.
#[inline]
fn hash_start(w: u32) -> u64 {
    mix(u64::from(w).wrapping_add(0x9e37_79b9_7f4a_7c15))
}

/// Extends the hash of `w_k .. w_n` to the left with `w_{k-1}`.
#[inline]
fn hash_extend(h: u64, w: u32) -> u64 {
    mix(h.rotate_left(23) ^ u64::from(w).wrapping_mul(0x2545_f491_4f6c_dd1d))
}

/// The language-model state after some words: the most recent words (newest first) whose
/// n-grams can still be extended, with their backoffs (KenLM's `lm::ngram::State`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct State {
    words: [u32; MAX_ORDER - 1],
    backoff: [f32; MAX_ORDER - 1],
    len: u8,
}

impl State {
    const EMPTY: State = State {
        words: [0; MAX_ORDER - 1],
        backoff: [0.0; MAX_ORDER - 1],
        len: 0,
    };

    /// The number of context words the state holds.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the state holds no context (KenLM's null context).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for State {
    fn default() -> Self {
        State::EMPTY
    }
}

/// One word's score, as KenLM's `full_scores` yields it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullScore {
    /// log10 probability of the word given its context, backoffs included.
    pub prob: f32,
    /// Length of the longest n-gram that matched.
    pub ngram_length: u8,
    /// Whether the word is out of vocabulary (scored as `<unk>`).
    pub oov: bool,
}

/// A backoff n-gram language model read from ARPA.
#[derive(Clone, Debug)]
pub struct Model {
    order: usize,
    vocab: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    unigrams: Vec<ProbBackoff>,
    /// `tables[k]` holds the n-grams of order `k + 2`.
    tables: Vec<NgramMap>,
    bos: u32,
    eos: u32,
    counts: Vec<u64>,
}

/// The log10 probability KenLM gives `<unk>` when the ARPA file has none
/// (`Config.unknown_missing_logprob`).
const UNKNOWN_MISSING_LOGPROB: f32 = -100.0;

fn arpa_err(line: usize, message: impl Into<String>) -> LmError {
    LmError::Arpa {
        line,
        message: message.into(),
    }
}

/// Splits on the whitespace of Python's `bytes.split()` (ASCII space, \t, \n, \v, \f, \r),
/// which is what the `kenlm` package applies to a sentence.
pub fn kenlm_words(s: &str) -> impl Iterator<Item = &str> {
    s.split([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        .filter(|w| !w.is_empty())
}

impl Model {
    /// Reads an ARPA file.
    pub fn from_arpa_file(path: &std::path::Path) -> Result<Model, LmError> {
        let io = |source| LmError::Io {
            path: path.display().to_string(),
            source,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        Model::from_arpa_reader(std::io::BufReader::with_capacity(1 << 20, f)).map_err(
            |e| match e {
                LmError::Arpa { line, message } => LmError::Arpa {
                    line,
                    message: format!("{}: {message}", path.display()),
                },
                e => e,
            },
        )
    }

    /// Reads ARPA text.
    pub fn from_arpa_str(text: &str) -> Result<Model, LmError> {
        Model::from_arpa_reader(text.as_bytes())
    }

    /// Reads ARPA text from a buffered reader.
    pub fn from_arpa_reader(mut r: impl BufRead) -> Result<Model, LmError> {
        let mut line = String::new();
        let mut no = 0usize;
        let mut next = |line: &mut String| -> Result<bool, LmError> {
            line.clear();
            no += 1;
            let n = r.read_line(line).map_err(|e| LmError::Io {
                path: "ARPA".into(),
                source: e,
            })?;
            while line.ends_with(['\n', '\r']) {
                line.pop();
            }
            Ok(n > 0)
        };
        // Header.
        loop {
            if !next(&mut line)? {
                return Err(arpa_err(0, "no \\data\\ header"));
            }
            if line.trim() == "\\data\\" {
                break;
            }
        }
        let mut counts: Vec<u64> = Vec::new();
        let mut lineno = 1usize;
        loop {
            if !next(&mut line)? {
                return Err(arpa_err(0, "end of file in the header"));
            }
            lineno += 1;
            let t = line.trim();
            if t.is_empty() {
                if counts.is_empty() {
                    continue;
                }
                break;
            }
            let Some(rest) = t.strip_prefix("ngram ") else {
                return Err(arpa_err(
                    lineno,
                    format!("expected `ngram N=COUNT`, got {t:?}"),
                ));
            };
            let (n, c) = rest
                .split_once('=')
                .ok_or_else(|| arpa_err(lineno, "expected `ngram N=COUNT`"))?;
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| arpa_err(lineno, "bad order"))?;
            let c: u64 = c
                .trim()
                .parse()
                .map_err(|_| arpa_err(lineno, "bad count"))?;
            if n != counts.len() + 1 {
                return Err(arpa_err(lineno, format!("ngram {n} out of order")));
            }
            counts.push(c);
        }
        let order = counts.len();
        if order == 0 || order > MAX_ORDER {
            return Err(arpa_err(
                lineno,
                format!("order {order} is not supported (1..={MAX_ORDER})"),
            ));
        }
        let cap = |c: u64| usize::try_from(c).unwrap_or(0).min(1 << 28);
        let mut m = Model {
            order,
            vocab: HashMap::with_capacity_and_hasher(cap(counts[0]) + 1, Default::default()),
            unigrams: Vec::with_capacity(cap(counts[0]) + 1),
            tables: (1..order)
                .map(|k| NgramMap::with_capacity_and_hasher(cap(counts[k]), Default::default()))
                .collect(),
            bos: 0,
            eos: 0,
            counts: counts.clone(),
        };
        // <unk> is always id 0, as in KenLM.
        m.unigrams.push(ProbBackoff {
            prob: UNKNOWN_MISSING_LOGPROB,
            backoff: 0.0,
        });
        let mut have_unk = false;
        let mut ids: Vec<u32> = Vec::with_capacity(order);
        for n in 1..=order {
            // Section header.
            let want = format!("\\{n}-grams:");
            loop {
                if !next(&mut line)? {
                    return Err(arpa_err(0, format!("missing {want}")));
                }
                lineno += 1;
                let t = line.trim();
                if t.is_empty() {
                    continue;
                }
                if t == want {
                    break;
                }
                return Err(arpa_err(lineno, format!("expected {want}, got {t:?}")));
            }
            for _ in 0..counts[n - 1] {
                if !next(&mut line)? {
                    return Err(arpa_err(0, format!("end of file in {want}")));
                }
                lineno += 1;
                let mut f = line.split([' ', '\t']).filter(|s| !s.is_empty());
                let prob: f32 = f
                    .next()
                    .and_then(parse_float)
                    .ok_or_else(|| arpa_err(lineno, format!("bad probability in {line:?}")))?;
                ids.clear();
                let mut words = [""; MAX_ORDER];
                for w in words.iter_mut().take(n) {
                    *w = f
                        .next()
                        .ok_or_else(|| arpa_err(lineno, format!("expected {n} words")))?;
                }
                let backoff = match f.next() {
                    None => 0.0,
                    Some(b) => parse_float(b)
                        .ok_or_else(|| arpa_err(lineno, format!("bad backoff {b:?}")))?,
                };
                if f.next().is_some() {
                    return Err(arpa_err(lineno, "too many fields"));
                }
                if backoff != 0.0 && n == order {
                    return Err(arpa_err(
                        lineno,
                        "non-zero backoff on an n-gram of the highest order",
                    ));
                }
                let pb = ProbBackoff { prob, backoff };
                if n == 1 {
                    let w = words[0];
                    if w == "<unk>" {
                        have_unk = true;
                        m.unigrams[0] = pb;
                        m.vocab.insert(w.into(), 0);
                        continue;
                    }
                    if m.vocab.contains_key(w) {
                        return Err(arpa_err(lineno, format!("duplicate unigram {w:?}")));
                    }
                    let id = u32::try_from(m.unigrams.len())
                        .map_err(|_| arpa_err(lineno, "vocabulary too large"))?;
                    m.vocab.insert(w.into(), id);
                    m.unigrams.push(pb);
                    continue;
                }
                for w in &words[..n] {
                    let id = m.vocab.get(*w).copied().ok_or_else(|| {
                        arpa_err(lineno, format!("word {w:?} is not among the unigrams"))
                    })?;
                    ids.push(id);
                }
                let mut h = hash_start(ids[n - 1]);
                for &c in ids[..n - 1].iter().rev() {
                    h = hash_extend(h, c);
                }
                m.tables[n - 2].insert(h, pb);
            }
        }
        loop {
            if !next(&mut line)? {
                return Err(arpa_err(0, "missing \\end\\"));
            }
            lineno += 1;
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            if t == "\\end\\" {
                break;
            }
            return Err(arpa_err(lineno, format!("expected \\end\\, got {t:?}")));
        }
        if !have_unk {
            m.vocab.insert("<unk>".into(), 0);
        }
        m.bos = *m
            .vocab
            .get("<s>")
            .ok_or_else(|| arpa_err(0, "the model has no <s>"))?;
        m.eos = *m
            .vocab
            .get("</s>")
            .ok_or_else(|| arpa_err(0, "the model has no </s>"))?;
        Ok(m)
    }

    /// The model's order (its longest n-grams).
    pub fn order(&self) -> usize {
        self.order
    }

    /// The number of n-grams of each order, from the `\data\` header.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The vocabulary size, `<unk>` included.
    pub fn vocab_size(&self) -> usize {
        self.unigrams.len()
    }

    /// The vocabulary: every word with its id.
    pub fn vocab(&self) -> impl Iterator<Item = (&str, u32)> {
        self.vocab.iter().map(|(w, &i)| (&**w, i))
    }

    /// A word's id (0 = `<unk>` for words not in the vocabulary).
    pub fn index(&self, word: &str) -> u32 {
        self.vocab.get(word).copied().unwrap_or(0)
    }

    /// The id of `</s>`.
    pub fn end_sentence(&self) -> u32 {
        self.eos
    }

    /// The state at the start of a sentence (KenLM's `BeginSentenceWrite`).
    pub fn begin_sentence(&self) -> State {
        let mut s = State::EMPTY;
        s.words[0] = self.bos;
        s.backoff[0] = self.unigrams[self.bos as usize].backoff;
        s.len = u8::from(self.order > 1);
        s
    }

    /// The empty context (KenLM's `NullContextWrite`).
    pub fn null_context(&self) -> State {
        State::EMPTY
    }

    /// Scores word `w` after `state` and writes the next state (KenLM's `FullScore`).
    #[inline]
    pub fn base_full_score(&self, state: &State, w: u32, out: &mut State) -> FullScore {
        let uni = self.unigrams[w as usize];
        let mut prob = uni.prob;
        let mut len = 1usize;
        let mut next = State::EMPTY;
        next.backoff[0] = uni.backoff;
        let ctx = (state.len as usize).min(self.order - 1);
        let mut h = hash_start(w);
        for j in 0..ctx {
            h = hash_extend(h, state.words[j]);
            match self.tables[j].get(&h) {
                Some(pb) => {
                    prob = pb.prob;
                    len = j + 2;
                    if len < self.order {
                        next.backoff[j + 1] = pb.backoff;
                    }
                }
                None => break,
            }
        }
        // Backoffs of the contexts longer than the match, shortest first (KenLM's order).
        for &b in &state.backoff[len - 1..state.len as usize] {
            prob += b;
        }
        let keep = len.min(self.order - 1);
        next.words[0] = w;
        if keep > 1 {
            next.words[1..keep].copy_from_slice(&state.words[..keep - 1]);
        }
        next.len = keep as u8;
        *out = next;
        FullScore {
            prob,
            ngram_length: len as u8,
            oov: w == 0,
        }
    }

    /// Sums the scores of `words` (and `</s>` if `eos`) in a 32-bit float, as the `kenlm`
    /// package's `score` does.
    pub fn score_words<'a>(
        &self,
        words: impl IntoIterator<Item = &'a str>,
        bos: bool,
        eos: bool,
    ) -> f32 {
        let mut state = if bos {
            self.begin_sentence()
        } else {
            self.null_context()
        };
        let mut out = State::EMPTY;
        let mut total = 0f32;
        for w in words {
            total += self.base_full_score(&state, self.index(w), &mut out).prob;
            state = out;
        }
        if eos {
            total += self.base_full_score(&state, self.eos, &mut out).prob;
        }
        total
    }

    /// `kenlm.Model.score(sentence, bos, eos)`: the log10 probability of the sentence, split
    /// on ASCII whitespace.
    pub fn score(&self, sentence: &str, bos: bool, eos: bool) -> f32 {
        self.score_words(kenlm_words(sentence), bos, eos)
    }

    /// `kenlm.Model.full_scores(sentence, bos, eos)`: one [`FullScore`] per word, then one
    /// for `</s>` if `eos`.
    pub fn full_scores(&self, sentence: &str, bos: bool, eos: bool) -> Vec<FullScore> {
        let mut state = if bos {
            self.begin_sentence()
        } else {
            self.null_context()
        };
        let mut out = State::EMPTY;
        let mut v = Vec::new();
        for w in kenlm_words(sentence) {
            v.push(self.base_full_score(&state, self.index(w), &mut out));
            state = out;
        }
        if eos {
            let mut s = self.base_full_score(&state, self.eos, &mut out);
            s.oov = false;
            v.push(s);
        }
        v
    }

    /// `kenlm.Model.perplexity(sentence)`: `10 ** (-score / (words + 1))`.
    pub fn perplexity(&self, sentence: &str) -> f64 {
        let n = kenlm_words(sentence).count() + 1;
        10f64.powf(-f64::from(self.score(sentence, true, true)) / n as f64)
    }
}

/// Parses an ARPA number as a 32-bit float (correctly rounded, like KenLM's reader);
/// accepts `-inf`/`inf` spellings.
fn parse_float(s: &str) -> Option<f32> {
    match s {
        "-inf" | "-Infinity" | "-INF" => Some(f32::NEG_INFINITY),
        "inf" | "Infinity" | "INF" => Some(f32::INFINITY),
        _ => s.parse::<f32>().ok().filter(|x| !x.is_nan()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOY: &str = "\\data\\
ngram 1=5
ngram 2=4
ngram 3=2

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.5
-0.7\t</s>\t0
-0.6\ta\t-0.3
-0.8\tb\t-0.2

\\2-grams:
-0.3\t<s> a\t-0.1
-0.4\ta b\t-0.05
-0.5\tb </s>
-0.45\tb a

\\3-grams:
-0.2\t<s> a b
-0.1\ta b </s>

\\end\\
";

    #[test]
    fn backoff_chain_by_hand() {
        let m = Model::from_arpa_str(TOY).unwrap();
        assert_eq!(m.order(), 3);
        assert_eq!(m.counts(), &[5, 4, 2]);
        let s = m.full_scores("a b", true, true);
        // a | <s>: bigram -0.3; b | <s> a: trigram -0.2; </s> | a b: trigram -0.1.
        assert_eq!(
            s.iter()
                .map(|x| (x.prob, x.ngram_length))
                .collect::<Vec<_>>(),
            [(-0.3, 2), (-0.2, 3), (-0.1, 3)]
        );
        // b a: b | <s>: bo(<s>) + p(b) = -0.5 + -0.8; a | <s> b: (<s> b) unseen, so the
        // bigram (b a) with no extra backoff; </s> | b a: bo(b a) = 0, bo(a) + p(</s>).
        let s = m.full_scores("b a", true, true);
        assert_eq!(s[0].prob, -0.5f32 + -0.8f32);
        assert_eq!((s[1].prob, s[1].ngram_length), (-0.45, 2));
        assert_eq!(s[2].prob, -0.7f32 + -0.3f32);
        // OOV word.
        let s = m.full_scores("zz", true, false);
        assert!(s[0].oov);
        assert_eq!(s[0].prob, -1.0f32 + -0.5f32);
        let total = m.score("a b", true, true);
        assert_eq!(total, -0.3f32 + -0.2f32 + -0.1f32);
        // Null context: no <s> backoff.
        assert_eq!(m.score("b", false, false), -0.8);
        // Whitespace of bytes.split(): no-break space is part of a word.
        assert_eq!(m.full_scores("a\u{a0}b", true, false).len(), 1);
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(Model::from_arpa_str("nothing").is_err());
        let no_eos = TOY.replace("-0.7\t</s>\t0\n", "").replace("1=5", "1=4");
        let e = Model::from_arpa_str(&no_eos).unwrap_err().to_string();
        assert!(e.contains("</s>"), "{e}");
        let bad = TOY.replace("-0.2\t<s> a b", "-0.2\t<s> a c");
        let e = Model::from_arpa_str(&bad).unwrap_err().to_string();
        assert!(e.contains("\"c\""), "{e}");
        let short = TOY.replace("3=2", "3=3");
        assert!(Model::from_arpa_str(&short).is_err());
    }

    #[test]
    fn missing_unk_gets_kenlm_default() {
        let no_unk = TOY.replace("-1.0\t<unk>\t0\n", "").replace("1=5", "1=4");
        let m = Model::from_arpa_str(&no_unk).unwrap();
        assert_eq!(m.full_scores("zz", false, false)[0].prob, -100.0);
    }
}
