//! Thai word and sentence segmentation as datatrove 0.10.1's `ThaiTokenizer` does it with
//! PyThaiNLP 5.4.0 (`tha`, `tha_Thai`, `th`, ...).
//!
//! * Words: `word_tokenize(text, keep_whitespace=False, engine="newmm-safe")`, stripped, empty
//!   ones dropped. newmm is dictionary-based maximal matching constrained by Thai Character
//!   Cluster (TCC) boundaries (`pythainlp/tokenize/newmm.py`, `tcc_p.py`), ported step for step:
//!   the TCC patterns with Python `re`'s alternation order, the graph of dictionary words between
//!   TCC boundaries cut when one candidate position is left (the first path breadth-first, its
//!   50-edge cut-off), the skip over out-of-dictionary text (its non-Thai pattern, the
//!   two-consonant rule) and the safe mode's chunks (texts of 140+ characters are cut in the
//!   window 100..140: at its last space, else before its longest token). Then
//!   `rejoin_formatted_num` (`12`,`:`,`30` -> `12:30`) and `strip_whitespace`.
//! * Sentences: `sent_tokenize(text)`, PyThaiNLP's default `crfcut`: the text's `newmm` words
//!   (whitespace kept) are labelled by a CRF (its features: words, ender and starter classes of
//!   1-3-grams in a ±2 window) read from PyThaiNLP's CRFsuite model with the `crfs` crate
//!   (CRFsuite's Viterbi, same sums and tie rule), then its fix-ups (`!`, `.`, `?` end a
//!   sentence; whitespace after an end does not), then datatrove's `strip_strings` and
//!   `simple_span_tokenize`.
//!
//! Positions are code points, as Python's. **Data** (not committed, ~5.6 MB): PyThaiNLP's
//! `words_th.txt` and `sentenceseg_crfcut.model`, copied out of its PyPI wheel by
//! `crates/datamill-filters/fetch-pythainlp.sh` into `target/models/pythainlp/`; looked up as
//! jieba's data is ([`crate::data::dirs`]).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use foldhash::fast::RandomState;

use crate::pystr;

/// PyThaiNLP 5.4.0's dictionary and sentence CRF.
pub struct Thai {
    trie: Trie,
    tagger: crfs::Tagger<'static>,
}

impl std::fmt::Debug for Thai {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thai")
            .field("trie_nodes", &self.trie.nodes.len())
            .finish_non_exhaustive()
    }
}

/// The shared tokenizer, loaded on first use from the first of [`crate::data::dirs`]`("pythainlp")`
/// that holds the data; `Err` says where it looked and how to fetch the data.
pub fn shared() -> Result<&'static Thai, String> {
    static T: OnceLock<Result<Thai, String>> = OnceLock::new();
    T.get_or_init(|| {
        let dirs = crate::data::dirs("pythainlp");
        match dirs.iter().find(|d| d.join("words_th.txt").is_file()) {
            Some(d) => Thai::load(d),
            None => Err(format!(
                "PyThaiNLP 5.4.0's dictionary is not installed: run \
                 crates/datamill-filters/fetch-pythainlp.sh DIR/pythainlp and set \
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

impl Thai {
    /// Loads `words_th.txt` and `sentenceseg_crfcut.model` from `dir` (as written by
    /// `fetch-pythainlp.sh`).
    pub fn load(dir: &Path) -> Result<Thai, String> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| format!("PyThaiNLP data {}: {e}", dir.join(name).display()))
        };
        let words = String::from_utf8(read("words_th.txt")?)
            .map_err(|_| format!("{}: not UTF-8", dir.join("words_th.txt").display()))?;
        // get_corpus: utf-8-sig, splitlines, empty lines dropped; Trie.add strips each word
        let words = words.strip_prefix('\u{feff}').unwrap_or(&words);
        let mut trie = TrieBuilder::default();
        for line in pystr::splitlines(words) {
            trie.add(pystr::strip(line));
        }
        let model: &'static [u8] = Box::leak(read("sentenceseg_crfcut.model")?.into_boxed_slice());
        let model: &'static crfs::Model<'static> =
            Box::leak(Box::new(crfs::Model::new(model).map_err(|e| {
                format!(
                    "{}: not a CRFsuite model: {e}",
                    dir.join("sentenceseg_crfcut.model").display()
                )
            })?));
        let tagger = model
            .tagger()
            .map_err(|e| format!("sentenceseg_crfcut.model: {e}"))?;
        Ok(Thai {
            trie: trie.build(),
            tagger,
        })
    }

    /// datatrove's `ThaiTokenizer.word_tokenize(text)`.
    pub fn words<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let t = Text::new(text);
        let segs = self.newmm(&t, true);
        let segs = rejoin_formatted_num(&t, segs);
        segs.into_iter()
            .map(|(a, b)| pystr::strip(t.slice(a, b)))
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// datatrove's `ThaiTokenizer.sent_tokenize(text)`: the `crfcut` sentences, stripped, empty
    /// ones dropped.
    pub fn sent_tokenize<'t>(&self, text: &'t str) -> Vec<&'t str> {
        if text.is_empty() {
            return Vec::new();
        }
        let t = Text::new(text);
        let toks = rejoin_formatted_num(&t, self.newmm(&t, false));
        let words: Vec<&str> = toks.iter().map(|&(a, b)| t.slice(a, b)).collect();
        let mut labs = self.crf_labels(&words);
        if let Some(l) = labs.last_mut() {
            *l = true;
        }
        for idx in 0..words.len() {
            let s = pystr::strip(words[idx]);
            if s.ends_with(['!', '.', '?']) {
                labs[idx] = true;
            } else if (idx == 0 || labs[idx - 1]) && s.is_empty() {
                labs[idx] = false;
            }
        }
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        for (i, &(a, b)) in toks.iter().enumerate() {
            let s = *start.get_or_insert(a);
            if labs[i] && b > s {
                let sent = pystr::strip(t.slice(s, b));
                if !sent.is_empty() {
                    out.push(sent);
                }
                start = None;
            }
        }
        out
    }

    /// `True` = "E" (a sentence ends after the word), per word, from the CRF.
    fn crf_labels(&self, words: &[&str]) -> Vec<bool> {
        let feats = features(words);
        let labels = self
            .tagger
            .tag(&feats)
            .expect("the CRF model's features are well formed");
        labels.into_iter().map(|l| l == "E").collect()
    }

    /// newmm (`safe` = newmm-safe) over the whole text: word boundaries as code-point ranges.
    fn newmm(&self, t: &Text, safe: bool) -> Vec<(usize, usize)> {
        let n = t.chars.len();
        let mut out = Vec::new();
        if n == 0 {
            return out;
        }
        if !safe || n < SCAN_END {
            self.onecut(&t.chars, 0, &mut out);
            return out;
        }
        let mut off = 0usize;
        while n - off >= SCAN_END {
            let cut = self.find_cut_pos(&t.chars[off..]);
            self.onecut(&t.chars[off..off + cut], off, &mut out);
            off += cut;
        }
        if off < n {
            self.onecut(&t.chars[off..], off, &mut out);
        }
        out
    }

    /// `_find_cut_pos`: where to cut a chunk off the front of `text` (140+ characters).
    fn find_cut_pos(&self, text: &[char]) -> usize {
        let sample = &text[SCAN_BEGIN..SCAN_END];
        if let Some(i) = sample.iter().rposition(|&c| c == ' ') {
            return i + 1 + SCAN_BEGIN;
        }
        let mut toks = Vec::new();
        self.onecut(sample, 0, &mut toks);
        let (mut max_idx, mut max_len) = (0usize, 0usize);
        for (i, &(a, b)) in toks.iter().enumerate() {
            if b - a >= max_len {
                max_len = b - a;
                max_idx = i;
            }
        }
        SCAN_BEGIN + toks[..max_idx].iter().map(|&(a, b)| b - a).sum::<usize>()
    }

    /// `_onecut(text)`: pushes `text`'s words as ranges shifted by `off`.
    fn onecut(&self, text: &[char], off: usize, out: &mut Vec<(usize, usize)>) {
        let n = text.len();
        let valid = tcc_pos_array(text);
        // graph: begin -> ends, in insertion order
        let mut graph: HashMap<usize, Vec<usize>, RandomState> = HashMap::default();
        let mut graph_size = 0usize;
        let mut pos_list: BTreeSet<usize> = BTreeSet::new();
        pos_list.insert(0);
        let mut end_pos = 0usize;
        let mut prefixes = Vec::new();
        while let Some(&first) = pos_list.first() {
            if first >= n {
                break;
            }
            let begin = pos_list.pop_first().expect("not empty");
            // _extend_graph
            self.trie.prefixes(text, begin, &mut prefixes);
            for &end in &prefixes {
                if valid[end] {
                    graph.entry(begin).or_default().push(end);
                    graph_size += 1;
                    pos_list.insert(end);
                    if graph_size > MAX_GRAPH_SIZE {
                        break;
                    }
                }
            }
            match pos_list.len() {
                1 => {
                    let goal = *pos_list.first().expect("one");
                    for pos in bfs_path(&graph, end_pos, goal) {
                        out.push((off + end_pos, off + pos));
                        end_pos = pos;
                    }
                    graph_size = 0;
                    graph.clear();
                }
                0 => {
                    end_pos = self.find_skip_end(text, begin, &valid);
                    graph_size = 0;
                    graph.clear();
                    out.push((off + begin, off + end_pos));
                    pos_list.insert(end_pos);
                }
                _ => {}
            }
        }
    }

    /// `_find_skip_end`: the end of an out-of-dictionary word starting at `begin`.
    fn find_skip_end(&self, text: &[char], begin: usize, valid: &[bool]) -> usize {
        if let Some(e) = match_nonthai(text, begin) {
            return e;
        }
        let mut prefixes = Vec::new();
        for pos in begin + 1..text.len() {
            if valid[pos] {
                self.trie.prefixes(text, pos, &mut prefixes);
                if prefixes
                    .iter()
                    .any(|&e| valid[e] && !thai_two_chars(&text[pos..e]))
                {
                    return pos;
                }
                if match_nonthai(text, pos).is_some() {
                    return pos;
                }
            }
        }
        text.len()
    }
}

/// `_MAX_GRAPH_SIZE`.
const MAX_GRAPH_SIZE: usize = 50;
/// `_TEXT_SCAN_BEGIN` (120 - 20), `_TEXT_SCAN_END` (120 + 20).
const SCAN_BEGIN: usize = 100;
const SCAN_END: usize = 140;

/// A text with its code points and their byte offsets.
pub(crate) struct Text<'t> {
    text: &'t str,
    pub(crate) chars: Vec<char>,
    /// byte offset of each code point, and the text's length at the end
    bytes: Vec<usize>,
}

impl<'t> Text<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let mut chars = Vec::with_capacity(text.len());
        let mut bytes = Vec::with_capacity(text.len() + 1);
        for (i, c) in text.char_indices() {
            chars.push(c);
            bytes.push(i);
        }
        bytes.push(text.len());
        Text { text, chars, bytes }
    }

    pub(crate) fn slice(&self, a: usize, b: usize) -> &'t str {
        &self.text[self.bytes[a]..self.bytes[b]]
    }
}

/// `_bfs_paths_graph(graph, start, goal)`'s first path, without `start`.
fn bfs_path(
    graph: &HashMap<usize, Vec<usize>, RandomState>,
    start: usize,
    goal: usize,
) -> Vec<usize> {
    let mut parent: HashMap<usize, usize, RandomState> = HashMap::default();
    let mut visited: BTreeSet<usize> = BTreeSet::new();
    visited.insert(start);
    let mut queue = std::collections::VecDeque::from([start]);
    let path_to = |v: usize, parent: &HashMap<usize, usize, RandomState>| {
        let mut p = vec![goal];
        let mut v = v;
        while v != start {
            p.push(v);
            v = parent[&v];
        }
        p.reverse();
        p
    };
    while let Some(v) = queue.pop_front() {
        for &pos in graph.get(&v).map(Vec::as_slice).unwrap_or(&[]) {
            if pos == goal {
                return path_to(v, &parent);
            } else if visited.insert(pos) {
                parent.insert(pos, v);
                queue.push_back(pos);
            }
        }
    }
    // Python raises here (StopIteration in a generator); every queued position is reachable
    // from `start`, so this is not reached.
    vec![goal]
}

/// `_PAT_THAI_TWOCHARS.match(word)`: `[ก-ฮ]{,2}$`.
fn thai_two_chars(w: &[char]) -> bool {
    w.len() <= 2 && w.iter().all(|&c| is_consonant(c))
}

#[inline]
fn is_consonant(c: char) -> bool {
    ('\u{0E01}'..='\u{0E2E}').contains(&c)
}

/// `_PAT_NONTHAI.match(text, pos)`: its end, if it matches.
fn match_nonthai(text: &[char], pos: usize) -> Option<usize> {
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
        // \d+([,\.]\d+)*
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
    let other =
        |c: char| !('\u{0E00}'..='\u{0E7F}').contains(&c) && !matches!(c, ' ' | '\t' | '\r' | '\n');
    if other(c) {
        return Some(run(pos, &other));
    }
    None
}

/// `rejoin_formatted_num`: words that a match of `(\d+[\.\,:])+\d+` in the text spans are
/// joined.
fn rejoin_formatted_num(t: &Text, segs: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let matches = formatted_nums(&t.chars);
    if matches.is_empty() {
        return segs;
    }
    let mut out = Vec::with_capacity(segs.len());
    let (mut pos, mut i, mut m) = (0usize, 0usize, 0usize);
    while i < segs.len() && m < matches.len() {
        let (ms, me) = matches[m];
        if pos >= ms {
            let mut joined: Option<(usize, usize)> = None;
            while pos < me && i < segs.len() {
                let (a, b) = segs[i];
                joined = Some(joined.map_or((a, b), |(ja, _)| (ja, b)));
                pos += b - a;
                i += 1;
            }
            out.extend(joined);
            m += 1;
        } else {
            let (a, b) = segs[i];
            out.push((a, b));
            pos += b - a;
            i += 1;
        }
    }
    out.extend_from_slice(&segs[i..]);
    out
}

/// `re.finditer(r"(\d+[\.\,:])+\d+", text)` spans, in code points.
fn formatted_nums(text: &[char]) -> Vec<(usize, usize)> {
    let n = text.len();
    let mut out = Vec::new();
    let mut s = 0usize;
    while s < n {
        if !pystr::is_digit(text[s]) {
            s += 1;
            continue;
        }
        let digits = |mut e: usize| {
            while e < n && pystr::is_digit(text[e]) {
                e += 1;
            }
            e
        };
        let first = digits(s);
        let mut e = first;
        while e + 1 < n && matches!(text[e], '.' | ',' | ':') && pystr::is_digit(text[e + 1]) {
            e = digits(e + 1);
        }
        if e > first {
            out.push((s, e));
            s = e;
        } else {
            s = first;
        }
    }
    out
}

/// `_extract_features(doc)` (window 2, 1- to 3-grams), as CRFsuite attributes of value 1.
fn features(doc: &[&str]) -> Vec<Vec<crfs::Attribute>> {
    const WINDOW: isize = 2;
    let word = |i: isize| -> &str {
        if i < 0 || i as usize >= doc.len() {
            "xxpad"
        } else {
            doc[i as usize]
        }
    };
    let ender = |w: &str| {
        if ENDERS.contains(&w) {
            "ender"
        } else {
            "normal"
        }
    };
    let starter = |w: &str| {
        if STARTERS.contains(&w) {
            "starter"
        } else {
            "normal"
        }
    };
    let mut out = Vec::with_capacity(doc.len());
    let mut buf = String::new();
    for i in 0..doc.len() as isize {
        let mut f = Vec::with_capacity(37);
        f.push(crfs::Attribute::new("bias", 1.0));
        for n_gram in 1..=3isize {
            for j in i - WINDOW..i + WINDOW + 2 - n_gram {
                for kind in 0..3 {
                    buf.clear();
                    buf.push_str(["word", "ender", "starter"][kind]);
                    buf.push_str(&format!("_{}_{}_{}=", n_gram, j - i, j - i + n_gram));
                    for k in 0..n_gram {
                        if k > 0 {
                            buf.push('|');
                        }
                        let w = word(j + k);
                        buf.push_str(match kind {
                            0 => w,
                            1 => ender(w),
                            _ => starter(w),
                        });
                    }
                    f.push(crfs::Attribute::new(buf.as_str(), 1.0));
                }
            }
        }
        out.push(f);
    }
    out
}

/// crfcut's `_ENDERS`.
const ENDERS: &[&str] = &[
    "ครับ",
    "ค่ะ",
    "คะ",
    "นะคะ",
    "นะ",
    "จ้ะ",
    "จ้า",
    "จ๋า",
    "ฮะ",
    "ๆ",
    "ได้",
    "แล้ว",
    "ด้วย",
    "เลย",
    "มาก",
    "น้อย",
    "กัน",
    "เช่นกัน",
    "เท่านั้น",
    "อยู่",
    "ลง",
    "ขึ้น",
    "มา",
    "ไป",
    "ไว้",
    "เอง",
    "อีก",
    "ใหม่",
    "จริงๆ",
    "บ้าง",
    "หมด",
    "ทีเดียว",
    "เดียว",
    "นั้น",
    "นี้",
    "เหล่านี้",
    "เหล่านั้น",
    "อย่างไร",
    "ยังไง",
    "หรือไม่",
    "มั้ย",
    "ไหน",
    "ไหม",
    "อะไร",
    "ทำไม",
    "เมื่อไหร่",
    "เมื่อไร",
];
/// crfcut's `_STARTERS`.
const STARTERS: &[&str] = &[
    "ผม",
    "ฉัน",
    "ดิฉัน",
    "ชั้น",
    "คุณ",
    "มัน",
    "เขา",
    "เค้า",
    "เธอ",
    "เรา",
    "พวกเรา",
    "พวกเขา",
    "กู",
    "มึง",
    "แก",
    "ข้าพเจ้า",
    "และ",
    "หรือ",
    "แต่",
    "เมื่อ",
    "ถ้า",
    "ใน",
    "ด้วย",
    "เพราะ",
    "เนื่องจาก",
    "ซึ่ง",
    "ไม่",
    "ตอนนี้",
    "ทีนี้",
    "ดังนั้น",
    "เพราะฉะนั้น",
    "ฉะนั้น",
    "ตั้งแต่",
    "ในที่สุด",
    "ก็",
    "กับ",
    "แก่",
    "ต่อ",
    "นั้น",
    "นี้",
    "เหล่านี้",
    "เหล่านั้น",
];

// ---------------------------------------------------------------------------------------------
// Thai Character Clusters (tcc_p.py)

/// One element of a TCC pattern.
#[derive(Debug, Clone)]
enum Atom {
    /// A character of the set.
    One(fn(char) -> bool),
    /// An optional character of the set (greedy `?`).
    Opt(fn(char) -> bool),
    /// `(?=[เ-ไก-ฮ]|$)`.
    Look,
    /// `k` = `(cc?[ูุิ]?[์])?`: optional, greedy.
    K,
}

fn set_c(c: char) -> bool {
    is_consonant(c)
}
fn set_t(c: char) -> bool {
    ('\u{0E48}'..='\u{0E4B}').contains(&c)
}

/// `_RE_TCC` in order, `c`/`t`/`k` expanded as tcc_p.py does.
fn tcc_patterns() -> &'static [Vec<Atom>] {
    static P: OnceLock<Vec<Vec<Atom>>> = OnceLock::new();
    P.get_or_init(|| {
        const SRC: &str = "เc็ck\nเcctาะk\nเccีtยะk\nเccีtย(?=[เ-ไก-ฮ]|$)k\nเcc็ck\nเcิc์ck\nเcิtck\n\
                           เcีtยะ?k\nเcืtอะ?k\nเc[ิีุู]tย(?=[เ-ไก-ฮ]|$)k\nเctา?ะ?k\ncัtวะk\n\
                           c[ัื]tc[ุิะ]?k\nc[ิุู]์\nc[ะ-ู]tk\ncรรc์\nc็\nct[ะาำ]?k\nck\nแc็c\nแcc์\n\
                           แctะ\nแcc็c\nแccc์\nโctะ\n[เ-ไ]ct\nก็\nอึ\nหึ";
        SRC.split('\n').map(|line| parse_tcc(line.trim())).collect()
    })
}

/// Parses one template line of tcc_p.py (`c`, `t`, `k`, literal Thai, `[...]` sets, `?`).
fn parse_tcc(src: &str) -> Vec<Atom> {
    let mut atoms: Vec<Atom> = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let set: fn(char) -> bool = match c {
            'c' => set_c,
            't' => {
                atoms.push(Atom::Opt(set_t));
                i += 1;
                continue;
            }
            'k' => {
                atoms.push(Atom::K);
                i += 1;
                continue;
            }
            '(' => {
                let close = chars[i..].iter().position(|&x| x == ')').expect("closed") + i;
                let inner: String = chars[i..=close].iter().collect();
                assert_eq!(inner, "(?=[เ-ไก-ฮ]|$)");
                atoms.push(Atom::Look);
                i = close + 1;
                continue;
            }
            '[' => {
                let close = chars[i..].iter().position(|&x| x == ']').expect("closed") + i;
                let inner: String = chars[i + 1..close].iter().collect();
                i = close;
                class_fn(&inner)
            }
            lit => literal_fn(lit),
        };
        i += 1;
        if chars.get(i) == Some(&'?') {
            atoms.push(Atom::Opt(set));
            i += 1;
        } else {
            atoms.push(Atom::One(set));
        }
    }
    atoms
}

/// The character sets of tcc_p.py's bracket classes and literals (function pointers, so each
/// is a named predicate).
fn class_fn(inner: &str) -> fn(char) -> bool {
    match inner {
        "ิีุู" => |c| matches!(c, 'ิ' | 'ี' | 'ุ' | 'ู'),
        "ัื" => |c| matches!(c, 'ั' | 'ื'),
        "ุิะ" => |c| matches!(c, 'ุ' | 'ิ' | 'ะ'),
        "ิุู" => |c| matches!(c, 'ิ' | 'ุ' | 'ู'),
        "ะ-ู" => |c| ('ะ'..='ู').contains(&c),
        "ะาำ" => |c| matches!(c, 'ะ' | 'า' | 'ำ'),
        "เ-ไ" => |c| ('เ'..='ไ').contains(&c),
        other => panic!("unknown TCC class [{other}]"),
    }
}

fn literal_fn(c: char) -> fn(char) -> bool {
    match c {
        'เ' => |c| c == 'เ',
        'แ' => |c| c == 'แ',
        'โ' => |c| c == 'โ',
        '็' => |c| c == '็',
        'ิ' => |c| c == 'ิ',
        'ี' => |c| c == 'ี',
        'ื' => |c| c == 'ื',
        'ั' => |c| c == 'ั',
        'ย' => |c| c == 'ย',
        'ะ' => |c| c == 'ะ',
        'า' => |c| c == 'า',
        'ว' => |c| c == 'ว',
        'อ' => |c| c == 'อ',
        '์' => |c| c == '์',
        'ร' => |c| c == 'ร',
        'ก' => |c| c == 'ก',
        'ห' => |c| c == 'ห',
        'ึ' => |c| c == 'ึ',
        other => panic!("unknown TCC literal {other:?}"),
    }
}

/// Matches `atoms` at `pos` with sre's backtracking order; the end of the first success.
fn match_atoms(atoms: &[Atom], text: &[char], pos: usize) -> Option<usize> {
    let Some(a) = atoms.first() else {
        return Some(pos);
    };
    let rest = &atoms[1..];
    let at = text.get(pos).copied();
    match a {
        Atom::One(f) => match at {
            Some(c) if f(c) => match_atoms(rest, text, pos + 1),
            _ => None,
        },
        Atom::Opt(f) => {
            if let Some(c) = at
                && f(c)
                && let Some(e) = match_atoms(rest, text, pos + 1)
            {
                return Some(e);
            }
            match_atoms(rest, text, pos)
        }
        Atom::Look => {
            let n = text.len();
            let ok = pos == n
                || (pos + 1 == n && text[pos] == '\n')
                || at.is_some_and(|c| ('เ'..='ไ').contains(&c) || is_consonant(c));
            if ok {
                match_atoms(rest, text, pos)
            } else {
                None
            }
        }
        Atom::K => {
            // (c c? [ูุิ]? ์)? — greedy: (cc,d), (cc), (c,d), (c), then without the group
            let lower = |c: char| matches!(c, 'ู' | 'ุ' | 'ิ');
            if at.is_some_and(is_consonant) {
                let p1 = pos + 1;
                let mut cands: [Option<usize>; 2] = [None, None];
                if text.get(p1).copied().is_some_and(is_consonant) {
                    cands[0] = Some(p1 + 1);
                }
                cands[1] = Some(p1);
                for q in cands.into_iter().flatten() {
                    for take_d in [true, false] {
                        let mut r = q;
                        if take_d {
                            if text.get(r).copied().is_some_and(lower) {
                                r += 1;
                            } else {
                                continue;
                            }
                        }
                        if text.get(r) == Some(&'์')
                            && let Some(e) = match_atoms(rest, text, r + 1)
                        {
                            return Some(e);
                        }
                    }
                }
            }
            match_atoms(rest, text, pos)
        }
    }
}

/// `tcc_pos_array(text)`: `valid[i]` iff a cluster ends at `i` (`valid[0]` is false).
fn tcc_pos_array(text: &[char]) -> Vec<bool> {
    let n = text.len();
    let mut valid = vec![false; n + 1];
    let pats = tcc_patterns();
    let mut p = 0usize;
    while p < n {
        // every pattern starts with a required character: a match is never empty
        p += pats
            .iter()
            .find_map(|a| match_atoms(a, text, p))
            .map_or(1, |e| e - p);
        valid[p] = true;
    }
    valid
}

// ---------------------------------------------------------------------------------------------
// The dictionary trie

/// PyThaiNLP's `Trie` of the dictionary: `prefixes(text, start)` = the dictionary words that
/// start at `start`, shortest first.
pub(crate) struct Trie {
    nodes: Vec<TrieNode>,
    /// children of all nodes: (character, node), sorted by character within a node
    edges: Vec<(char, u32)>,
}

#[derive(Clone, Copy, Default)]
struct TrieNode {
    end: bool,
    first: u32,
    len: u32,
}

impl Trie {
    /// Pushes the end positions of the dictionary words starting at `start` into `out`
    /// (cleared first), increasing.
    pub(crate) fn prefixes(&self, text: &[char], start: usize, out: &mut Vec<usize>) {
        out.clear();
        let mut node = 0usize;
        for (i, &c) in text[start..].iter().enumerate() {
            let nd = self.nodes[node];
            let kids = &self.edges[nd.first as usize..(nd.first + nd.len) as usize];
            match kids.binary_search_by(|&(k, _)| k.cmp(&c)) {
                Ok(at) => node = kids[at].1 as usize,
                Err(_) => return,
            }
            if self.nodes[node].end {
                out.push(start + i + 1);
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct TrieBuilder {
    /// (end, children)
    nodes: Vec<(bool, Vec<(char, u32)>)>,
}

impl TrieBuilder {
    pub(crate) fn add(&mut self, word: &str) {
        if self.nodes.is_empty() {
            self.nodes.push((false, Vec::new()));
        }
        let mut node = 0usize;
        for c in word.chars() {
            node = match self.nodes[node].1.iter().find(|&&(k, _)| k == c) {
                Some(&(_, child)) => child as usize,
                None => {
                    let child = self.nodes.len();
                    self.nodes.push((false, Vec::new()));
                    self.nodes[node].1.push((c, child as u32));
                    child
                }
            };
        }
        self.nodes[node].0 = true;
    }

    pub(crate) fn build(mut self) -> Trie {
        if self.nodes.is_empty() {
            self.nodes.push((false, Vec::new()));
        }
        let mut nodes = Vec::with_capacity(self.nodes.len());
        let mut edges = Vec::new();
        for (end, mut kids) in self.nodes {
            kids.sort_unstable();
            nodes.push(TrieNode {
                end,
                first: edges.len() as u32,
                len: kids.len() as u32,
            });
            edges.extend(kids);
        }
        Trie { nodes, edges }
    }
}
