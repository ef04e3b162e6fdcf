//! Lao word and sentence segmentation as datatrove 0.10.1's `LaoTokenizer` does it with LaoNLP
//! 1.3.0 (`lao`, `lao_Laoo`, `lo`, `lo_Laoo`, `ncq`, `ncq_Laoo`).
//!
//! * Words: `laonlp.tokenize.word_tokenize(text)` (safe mode), stripped, empty ones dropped.
//!   LaoNLP's `multi_cut` (forked from PyThaiNLP's): the lattice of dictionary words (PyThaiNLP's
//!   `Trie` over `lao_words()`) is cut where one candidate position is left, each piece takes
//!   its path with the fewest words (the first such path in the order the lattice is walked);
//!   text that starts no dictionary word is skipped up to the next position that starts one or
//!   matches its non-Lao pattern. Texts of 140+ characters are cut first in the window
//!   100..140: after its last space, else before its longest token (the first longest).
//! * Sentences: `sent_tokenize(text)` = `re.split(r"(?<=\.)(?!(?:\.|$))", text)`, each piece
//!   stripped, then datatrove's `strip_strings` and `simple_span_tokenize`.
//!
//! Positions are code points, as Python's. **Data** (not committed): `lao_words()` of the LaoNLP
//! 1.3.0 wheel, written by `crates/datamill-filters/fetch-laonlp.sh` into
//! `target/models/laonlp/lao_words.json`; looked up as the other tokenizers' data
//! ([`crate::data::dirs`]).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use foldhash::fast::RandomState;

use crate::pystr;
use crate::thai::{Text, Trie, TrieBuilder};

/// LaoNLP 1.3.0's dictionary.
pub struct Lao {
    trie: Trie,
}

impl std::fmt::Debug for Lao {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lao").finish_non_exhaustive()
    }
}

/// The shared tokenizer, loaded on first use from the first of [`crate::data::dirs`]`("laonlp")`
/// that holds the data; `Err` says where it looked and how to fetch it.
pub fn shared() -> Result<&'static Lao, String> {
    static L: OnceLock<Result<Lao, String>> = OnceLock::new();
    L.get_or_init(|| {
        let dirs = crate::data::dirs("laonlp");
        match dirs.iter().find(|d| d.join("lao_words.json").is_file()) {
            Some(d) => Lao::load(d),
            None => Err(format!(
                "LaoNLP 1.3.0's word list is not installed: run \
                 crates/datamill-filters/fetch-laonlp.sh DIR/laonlp and set \
                 DATAMILL_TOKENIZER_DATA=DIR (looked in: {})",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// `_TEXT_LIMIT - _TEXT_SCAN_LEFT`, `_TEXT_LIMIT + _TEXT_SCAN_RIGHT`.
const SCAN_BEGIN: usize = 100;
const SCAN_END: usize = 140;

impl Lao {
    /// Loads `lao_words.json` from `dir` (as written by `fetch-laonlp.sh`).
    pub fn load(dir: &Path) -> Result<Lao, String> {
        let path = dir.join("lao_words.json");
        let words: Vec<String> = std::fs::read(&path)
            .map_err(|e| format!("LaoNLP data {}: {e}", path.display()))
            .and_then(|b| {
                serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", path.display()))
            })?;
        let mut trie = TrieBuilder::default();
        for w in &words {
            trie.add(pystr::strip(w));
        }
        Ok(Lao { trie: trie.build() })
    }

    /// datatrove's `LaoTokenizer.word_tokenize(text)`.
    pub fn words<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let t = Text::new(text);
        let n = t.chars.len();
        let mut segs = Vec::new();
        if n < SCAN_END {
            self.mmcut(&t.chars, 0, &mut segs);
        } else {
            let mut off = 0usize;
            while n - off >= SCAN_END {
                let rest = &t.chars[off..];
                let sample = &rest[SCAN_BEGIN..SCAN_END];
                let cut = match sample.iter().rposition(|&c| c == ' ') {
                    Some(i) => SCAN_BEGIN + i + 1,
                    None => {
                        let mut toks = Vec::new();
                        self.mmcut(sample, 0, &mut toks);
                        let (mut max_idx, mut max_len) = (0usize, 0usize);
                        for (i, &(a, b)) in toks.iter().enumerate() {
                            if b - a > max_len {
                                max_len = b - a;
                                max_idx = i;
                            }
                        }
                        SCAN_BEGIN + toks[..max_idx].iter().map(|&(a, b)| b - a).sum::<usize>()
                    }
                };
                self.mmcut(&rest[..cut], off, &mut segs);
                off += cut;
            }
            if off < n {
                self.mmcut(&t.chars[off..], off, &mut segs);
            }
        }
        segs.into_iter()
            .map(|(a, b)| pystr::strip(t.slice(a, b)))
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// `mmcut(text)`: pushes the words as code-point ranges shifted by `off`.
    fn mmcut(&self, text: &[char], off: usize, out: &mut Vec<(usize, usize)>) {
        let n = text.len();
        if n == 0 {
            return;
        }
        // words_at: start -> ends (insertion order)
        let mut words_at: HashMap<usize, Vec<usize>, RandomState> = HashMap::default();
        let mut q: BTreeSet<usize> = BTreeSet::from([0]);
        let mut last_p = 0usize;
        let mut prefixes = Vec::new();
        while let Some(&p) = q.first() {
            if p >= n {
                break;
            }
            q.pop_first();
            self.trie.prefixes(text, p, &mut prefixes);
            for &e in &prefixes {
                words_at.entry(p).or_default().push(e);
                q.insert(e);
            }
            match q.len() {
                1 => {
                    let q0 = *q.first().expect("one");
                    for (a, b) in fewest_words(text, &words_at, last_p, q0) {
                        split_at_slashes(text, a, b, off, out);
                    }
                    last_p = q0;
                }
                0 => {
                    let i = match match_nonlao(text, p) {
                        Some(e) => e,
                        None => (p..n)
                            .find(|&i| {
                                self.trie.prefixes(text, i, &mut prefixes);
                                !prefixes.is_empty() || match_nonlao(text, i).is_some()
                            })
                            .unwrap_or(n),
                    };
                    words_at.entry(p).or_default().push(i);
                    split_at_slashes(text, p, i, off, out);
                    last_p = i;
                    q.insert(i);
                }
                _ => {}
            }
        }
    }

    /// datatrove's `LaoTokenizer.sent_tokenize(text)`.
    pub fn sent_tokenize<'t>(&self, text: &'t str) -> Vec<&'t str> {
        // re.split(r"(?<=\.)(?!(?:\.|$))"): cut after a '.' that is not followed by another
        // '.', the end, or a final newline
        let b = text.as_bytes();
        let n = b.len();
        let mut out = Vec::new();
        let mut start = 0usize;
        for i in 1..n {
            if b[i - 1] == b'.' && b[i] != b'.' && !(i + 1 == n && b[i] == b'\n') {
                out.push(&text[start..i]);
                start = i;
            }
        }
        out.push(&text[start..]);
        out.into_iter()
            .map(pystr::strip)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// `mm.split("/")`: LaoNLP joins a path's words with `/` and splits the chosen one at every
/// `/`, so a word holding `/` (a skipped non-Lao run such as `a/b`) is cut there too (empty
/// pieces included; datatrove drops them).
fn split_at_slashes(text: &[char], a: usize, b: usize, off: usize, out: &mut Vec<(usize, usize)>) {
    let mut s = a;
    for (i, &c) in text.iter().enumerate().take(b).skip(a) {
        if c == '/' {
            out.push((off + s, off + i));
            s = i + 1;
        }
    }
    out.push((off + s, off + b));
}

/// The path from `from` to `to` through `words_at` that `min(multi, key=lambda x:
/// x.count("/"))` picks: the fewest words (plus the `/` inside them), the first such in
/// `serialize`'s depth-first order.
fn fewest_words(
    text: &[char],
    words_at: &HashMap<usize, Vec<usize>, RandomState>,
    from: usize,
    to: usize,
) -> Vec<(usize, usize)> {
    // best[p] = (words from p to `to`, first edge achieving it); computed from `to` down
    let mut best: HashMap<usize, (usize, usize), RandomState> = HashMap::default();
    best.insert(to, (0, to));
    let mut starts: Vec<usize> = words_at
        .keys()
        .copied()
        .filter(|&p| p >= from && p < to)
        .collect();
    starts.sort_unstable_by(|a, b| b.cmp(a));
    for p in starts {
        let mut choice: Option<(usize, usize)> = None;
        for &e in &words_at[&p] {
            if e > to {
                continue;
            }
            let w = 1 + text[p..e].iter().filter(|&&c| c == '/').count();
            if let Some(&(k, _)) = best.get(&e)
                && choice.is_none_or(|(ck, _)| k + w < ck)
            {
                choice = Some((k + w, e));
            }
        }
        if let Some(c) = choice {
            best.insert(p, c);
        }
    }
    let mut out = Vec::new();
    let mut p = from;
    while p < to {
        let Some(&(_, e)) = best.get(&p) else {
            // Python's min() of no path raises; every position here is reachable
            out.push((p, to));
            break;
        };
        out.push((p, e));
        p = e;
    }
    out
}

/// `_PAT_NONLAO.match(text, pos)`: its end, if it matches.
fn match_nonlao(text: &[char], pos: usize) -> Option<usize> {
    let n = text.len();
    let c = *text.get(pos)?;
    let run = |from: usize, f: &dyn Fn(char) -> bool| {
        let mut e = from;
        while e < n && f(text[e]) {
            e += 1;
        }
        e
    };
    if c == '-' || c.is_ascii_alphabetic() {
        return Some(run(pos, &|c| c == '-' || c.is_ascii_alphabetic()));
    }
    if pystr::is_digit(c) {
        let mut e = run(pos, &pystr::is_digit);
        while e + 1 < n && matches!(text[e], ',' | '.') && pystr::is_digit(text[e + 1]) {
            e = run(e + 1, &pystr::is_digit);
        }
        return Some(e);
    }
    if c == ' ' || c == '\t' {
        return Some(run(pos, &|c| c == ' ' || c == '\t'));
    }
    if c == '\n' {
        return Some(pos + 1);
    }
    if c == '\r' {
        return (text.get(pos + 1) == Some(&'\n')).then_some(pos + 2);
    }
    None
}
