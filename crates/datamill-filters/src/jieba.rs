//! Chinese word segmentation as Python jieba 0.42.1's default `jieba.cut(text)` (accurate mode,
//! `HMM=True`), and spaCy's Chinese tokenizer built on it, as datatrove 0.10.1 uses it for
//! `cmn_Hani`, `yue_Hani`, `wuu_Hani`, ... (`SpaCyTokenizer("zh")` with the `jieba` segmenter).
//!
//! A port of jieba's code, step for step (`jieba/__init__.py`, `jieba/finalseg/__init__.py`):
//!
//! 1. The text is split into runs of `[\u4E00-\u9FD5a-zA-Z0-9+#&._%-]` and the rest; in the rest,
//!    each whitespace character (`\r\n` as one) and every other character is a word.
//! 2. A run is cut along the best path of its DAG of dictionary words: from the end, each
//!    position takes the word maximising `log(freq or 1) - log(total) + route[end]` (ties: the
//!    longest), as jieba's `calc`.
//! 3. Consecutive one-character pieces are collected; a collection of 2+ characters that is not
//!    a dictionary word is re-cut by the HMM (`finalseg`): runs of `[\u4E00-\u9FD5]` by Viterbi over
//!    the B/M/E/S states (jieba's tie rule: the larger state letter), the rest split at
//!    `[a-zA-Z0-9]+(?:\.\d+)?%?`.
//!
//! All arithmetic is the same IEEE double arithmetic in the same order, so the choices are
//! identical. spaCy then drops whitespace words, aligns the words with the text
//! (`util.get_words_and_spaces`: a single space after a word is its trailing space, any other
//! whitespace a token) and the `sentencizer` runs on those tokens.
//!
//! **Data**: jieba's `dict.txt` and HMM tables are not committed (6 MB);
//! `crates/datamill-filters/fetch-jieba.sh` extracts them from the jieba 0.42.1 package on PyPI
//! into `target/models/jieba/`. At run time they are read from `$DATAMILL_TOKENIZER_DATA/jieba`,
//! or else from `models/jieba` in a folder above the running program (so a `datamill` or test
//! binary built in the repository's `target/` finds `target/models/jieba`). Nothing is
//! downloaded at run time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use foldhash::fast::RandomState;

use crate::pystr;
use crate::tokenizer::Tok;

/// jieba's `MIN_FLOAT`.
const MIN_FLOAT: f64 = -3.14e100;

/// HMM states in letter order (jieba's ties go to the larger letter): B, E, M, S.
const B: usize = 0;
const E: usize = 1;
const M: usize = 2;
const S: usize = 3;
const STATE_LETTERS: [char; 4] = ['B', 'E', 'M', 'S'];
/// jieba's `PrevStatus`, indexed by state.
const PREV: [[usize; 2]; 4] = [[E, S], [B, M], [M, B], [S, E]];

/// jieba 0.42.1's default dictionary and HMM.
pub struct Jieba {
    /// `FREQ`: every word and every prefix of a word (prefixes not in the dictionary have 0).
    freq: HashMap<&'static str, u64, RandomState>,
    /// `log(total)`.
    log_total: f64,
    start: [f64; 4],
    /// `trans[from][to]` (`MIN_FLOAT` where jieba has no entry).
    trans: [[f64; 4]; 4],
    emit: [HashMap<char, f64, RandomState>; 4],
}

impl std::fmt::Debug for Jieba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jieba")
            .field("entries", &self.freq.len())
            .finish_non_exhaustive()
    }
}

/// Where jieba's data is looked for (see the module docs), first existing wins.
pub fn data_dirs() -> Vec<PathBuf> {
    crate::data::dirs("jieba")
}

/// The shared segmenter, loaded on first use from the first of [`data_dirs`] that holds the
/// data; `Err` says where it looked and how to fetch the data.
pub fn shared() -> Result<&'static Jieba, String> {
    static J: OnceLock<Result<Jieba, String>> = OnceLock::new();
    J.get_or_init(|| {
        let dirs = data_dirs();
        match dirs.iter().find(|d| d.join("dict.txt").is_file()) {
            Some(d) => Jieba::load(d),
            None => Err(format!(
                "jieba 0.42.1's dictionary is not installed: run \
                 crates/datamill-filters/fetch-jieba.sh DIR/jieba and set \
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

fn state_index(s: &str) -> Option<usize> {
    STATE_LETTERS
        .iter()
        .position(|&c| s.len() == 1 && s.starts_with(c))
}

impl Jieba {
    /// Loads `dict.txt` and `hmm.tsv` from `dir` (as written by `fetch-jieba.sh`).
    pub fn load(dir: &Path) -> Result<Jieba, String> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| format!("jieba data {}: {e}", dir.join(name).display()))
        };
        let dict = read("dict.txt")?;
        let dict: &'static str = Box::leak(
            String::from_utf8(dict)
                .map_err(|_| format!("{}: not UTF-8", dir.join("dict.txt").display()))?
                .into_boxed_str(),
        );
        // gen_pfdict
        let mut freq: HashMap<&'static str, u64, RandomState> =
            HashMap::with_capacity_and_hasher(600_000, RandomState::default());
        let mut total: u64 = 0;
        for (lineno, line) in dict.split_inclusive('\n').enumerate() {
            let line = line.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
            let mut f = line.split(' ');
            let word = f.next().unwrap_or("");
            let n = f
                .next()
                .and_then(|x| x.parse::<u64>().ok())
                .ok_or_else(|| {
                    format!(
                        "invalid dictionary entry in {} at line {}: {line}",
                        dir.join("dict.txt").display(),
                        lineno + 1
                    )
                })?;
            freq.insert(word, n);
            total += n;
            for (i, c) in word.char_indices() {
                freq.entry(&word[..i + c.len_utf8()]).or_insert(0);
            }
        }
        let hmm = read("hmm.tsv")?;
        let hmm = String::from_utf8(hmm)
            .map_err(|_| format!("{}: not UTF-8", dir.join("hmm.tsv").display()))?;
        let mut start = [MIN_FLOAT; 4];
        let mut seen_start = [false; 4];
        let mut trans = [[MIN_FLOAT; 4]; 4];
        let mut emit: [HashMap<char, f64, RandomState>; 4] = Default::default();
        for (lineno, line) in hmm.lines().enumerate() {
            let bad = || {
                format!(
                    "{} line {}: not `table<TAB>state<TAB>key<TAB>value`",
                    dir.join("hmm.tsv").display(),
                    lineno + 1
                )
            };
            let f: Vec<&str> = line.split('\t').collect();
            let [table, state, key, value] = f[..] else {
                return Err(bad());
            };
            let st = state_index(state).ok_or_else(bad)?;
            let v: f64 = value.parse().map_err(|_| bad())?;
            match table {
                "start" => {
                    start[st] = v;
                    seen_start[st] = true;
                }
                "trans" => trans[st][state_index(key).ok_or_else(bad)?] = v,
                "emit" => {
                    let mut cs = key.chars();
                    let (Some(c), None) = (cs.next(), cs.next()) else {
                        return Err(bad());
                    };
                    emit[st].insert(c, v);
                }
                _ => return Err(bad()),
            }
        }
        if seen_start != [true; 4] || emit.iter().any(HashMap::is_empty) {
            return Err(format!(
                "{}: incomplete HMM tables (rerun fetch-jieba.sh)",
                dir.join("hmm.tsv").display()
            ));
        }
        Ok(Jieba {
            freq,
            log_total: (total as f64).ln(),
            start,
            trans,
            emit,
        })
    }

    /// `list(jieba.cut(text))`: every word, whitespace words included, in order; the words
    /// concatenate to `text`.
    pub fn cut<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        let mut rest = text;
        while !rest.is_empty() {
            // re_han_default.split: alternate runs of han-default characters and the rest
            let han = is_han_default(rest.chars().next().expect("non-empty"));
            let end = rest
                .char_indices()
                .find(|&(_, c)| is_han_default(c) != han)
                .map_or(rest.len(), |(i, _)| i);
            let (blk, tail) = rest.split_at(end);
            if han {
                self.cut_dag(blk, &mut out);
            } else {
                // re_skip_default.split: `\r\n` or one whitespace char is a word, and every other
                // character is a word (accurate mode)
                let mut it = blk.char_indices().peekable();
                while let Some((i, c)) = it.next() {
                    let mut j = i + c.len_utf8();
                    if c == '\r' && it.peek().is_some_and(|&(_, n)| n == '\n') {
                        it.next();
                        j += 1;
                    }
                    out.push(&blk[i..j]);
                }
            }
            rest = tail;
        }
        out
    }

    /// spaCy's tokens for `text` (`[t for t in nlp(text)]` of spaCy's Chinese tokenizer with
    /// this segmenter): jieba's words without whitespace words, aligned with the text.
    pub fn spacy_tokens<'t>(&self, text: &'t str) -> Vec<crate::tokenizer::Token<'t>> {
        spacy_tokens(self, text)
            .into_iter()
            .map(|t| crate::tokenizer::Token {
                text: &text[t.start..t.end],
                offset: t.start,
                space_after: t.ws,
            })
            .collect()
    }

    fn freq_of(&self, w: &str) -> Option<u64> {
        self.freq.get(w).copied()
    }

    /// `__cut_DAG` on one run of han-default characters.
    fn cut_dag<'t>(&self, s: &'t str, out: &mut Vec<&'t str>) {
        // byte offset of every character, plus the end
        let mut at: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
        let n = at.len();
        at.push(s.len());
        // get_DAG: for each k, the ends i (inclusive) where s[k..=i] is a word with freq > 0
        let mut dag: Vec<Vec<usize>> = Vec::with_capacity(n);
        for k in 0..n {
            let mut ends = Vec::new();
            let mut i = k;
            while i < n {
                match self.freq.get(&s[at[k]..at[i + 1]]) {
                    Some(&f) => {
                        if f != 0 {
                            ends.push(i);
                        }
                    }
                    None => break,
                }
                i += 1;
            }
            if ends.is_empty() {
                ends.push(k);
            }
            dag.push(ends);
        }
        // calc: route[idx] = max over x of (log(freq or 1) - logtotal + route[x+1].0, x)
        let mut route: Vec<(f64, usize)> = vec![(0.0, 0); n + 1];
        for idx in (0..n).rev() {
            let mut best: Option<(f64, usize)> = None;
            for &x in &dag[idx] {
                let f = match self.freq_of(&s[at[idx]..at[x + 1]]) {
                    Some(f) if f != 0 => f,
                    _ => 1,
                };
                let p = (f as f64).ln() - self.log_total + route[x + 1].0;
                best = match best {
                    Some((bp, bx)) if bp > p || (bp == p && bx > x) => Some((bp, bx)),
                    _ => Some((p, x)),
                };
            }
            route[idx] = best.expect("a DAG node has an edge");
        }
        // the cut, collecting one-character pieces in `buf` (a char range)
        let mut buf: Option<(usize, usize)> = None;
        let flush = |buf: &mut Option<(usize, usize)>, out: &mut Vec<&'t str>| {
            if let Some((a, b)) = buf.take() {
                let w = &s[at[a]..at[b]];
                if b - a == 1 {
                    out.push(w);
                } else if self.freq_of(w).is_none_or(|f| f == 0) {
                    self.finalseg_cut(w, out);
                } else {
                    for i in a..b {
                        out.push(&s[at[i]..at[i + 1]]);
                    }
                }
            }
        };
        let mut x = 0;
        while x < n {
            let y = route[x].1 + 1;
            if y - x == 1 {
                buf = Some(match buf {
                    Some((a, _)) => (a, y),
                    None => (x, y),
                });
            } else {
                flush(&mut buf, out);
                out.push(&s[at[x]..at[y]]);
            }
            x = y;
        }
        flush(&mut buf, out);
    }

    /// `finalseg.cut`: han runs by the HMM, the rest split at `[a-zA-Z0-9]+(?:\.\d+)?%?`.
    fn finalseg_cut<'t>(&self, s: &'t str, out: &mut Vec<&'t str>) {
        let mut rest = s;
        while !rest.is_empty() {
            let han = is_han(rest.chars().next().expect("non-empty"));
            let end = rest
                .char_indices()
                .find(|&(_, c)| is_han(c) != han)
                .map_or(rest.len(), |(i, _)| i);
            let (blk, tail) = rest.split_at(end);
            if han {
                self.viterbi_cut(blk, out);
            } else {
                split_skip(blk, out);
            }
            rest = tail;
        }
    }

    /// `finalseg.__cut`: Viterbi over B/M/E/S, then words from the state path.
    fn viterbi_cut<'t>(&self, s: &'t str, out: &mut Vec<&'t str>) {
        let mut at: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
        let obs: Vec<char> = s.chars().collect();
        let n = obs.len();
        at.push(s.len());
        let em = |y: usize, c: char| self.emit[y].get(&c).copied().unwrap_or(MIN_FLOAT);
        let mut v: [f64; 4] = std::array::from_fn(|y| self.start[y] + em(y, obs[0]));
        // back[t][y]: the best previous state of y at t
        let mut back: Vec<[u8; 4]> = Vec::with_capacity(n);
        back.push([0; 4]);
        for &c in &obs[1..] {
            let mut nv = [0.0f64; 4];
            let mut bk = [0u8; 4];
            for y in 0..4 {
                let e = em(y, c);
                let mut best: Option<(f64, usize)> = None;
                for &y0 in &PREV[y] {
                    let p = v[y0] + self.trans[y0][y] + e;
                    best = match best {
                        Some((bp, by)) if bp > p || (bp == p && by > y0) => Some((bp, by)),
                        _ => Some((p, y0)),
                    };
                }
                let (p, y0) = best.expect("two previous states");
                nv[y] = p;
                bk[y] = y0 as u8;
            }
            v = nv;
            back.push(bk);
        }
        // max((V[last][y], y) for y in 'ES')
        let mut state = if v[S] >= v[E] { S } else { E };
        let mut path = vec![0usize; n];
        for t in (0..n).rev() {
            path[t] = state;
            state = back[t][state] as usize;
        }
        let (mut begin, mut next) = (0usize, 0usize);
        for (i, &pos) in path.iter().enumerate() {
            match pos {
                B => begin = i,
                E => {
                    out.push(&s[at[begin]..at[i + 1]]);
                    next = i + 1;
                }
                S => {
                    out.push(&s[at[i]..at[i + 1]]);
                    next = i + 1;
                }
                _ => {}
            }
        }
        if next < n {
            out.push(&s[at[next]..]);
        }
    }
}

/// `[\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]` (jieba's `re_han_default`).
#[inline]
fn is_han_default(c: char) -> bool {
    is_han(c) || c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '&' | '.' | '_' | '%' | '-')
}

/// `[\u4E00-\u9FD5]` (finalseg's `re_han`).
#[inline]
fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FD5}').contains(&c)
}

/// `re.split("([a-zA-Z0-9]+(?:\.\d+)?%?)", s)`, non-empty pieces (finalseg's `re_skip`). The
/// pieces hold only jieba's han-default characters, so `\d` is `[0-9]` here.
fn split_skip<'t>(s: &'t str, out: &mut Vec<&'t str>) {
    let b = s.as_bytes();
    let n = b.len();
    let (mut i, mut last) = (0usize, 0usize);
    while i < n {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j + 1 < n && b[j] == b'.' && b[j + 1].is_ascii_digit() {
            j += 1;
            while j < n && b[j].is_ascii_digit() {
                j += 1;
            }
        }
        if j < n && b[j] == b'%' {
            j += 1;
        }
        if last < i {
            out.push(&s[last..i]);
        }
        out.push(&s[i..j]);
        last = j;
        i = j;
    }
    if last < n {
        out.push(&s[last..]);
    }
}

/// spaCy's Chinese tokenizer with the jieba segmenter: its token list (`util.get_words_and_spaces`
/// on the jieba words without whitespace words).
pub(crate) fn spacy_tokens(j: &Jieba, text: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut pos = 0usize;
    let mut off = 0usize;
    for w in j.cut(text) {
        let start = off;
        off += w.len();
        if w.is_empty() || w.chars().all(pystr::is_space) {
            continue;
        }
        if start > pos {
            toks.push(Tok {
                start: pos,
                end: start,
                ws: false,
            });
        }
        let mut t = Tok {
            start,
            end: off,
            ws: false,
        };
        pos = off;
        if text.as_bytes().get(pos) == Some(&b' ') {
            t.ws = true;
            pos += 1;
        }
        toks.push(t);
    }
    if pos < text.len() {
        toks.push(Tok {
            start: pos,
            end: text.len(),
            ws: false,
        });
    }
    toks
}

/// datatrove's `split_into_words` for a jieba language: the jieba words that are not
/// whitespace (spaCy's tokens, stripped, empty ones dropped).
pub(crate) fn words<'t>(j: &Jieba, text: &'t str) -> Vec<&'t str> {
    j.cut(text)
        .into_iter()
        .filter(|w| !w.is_empty() && !w.chars().all(pystr::is_space))
        .collect()
}
