//! spaCy 3.8.18 blank-English word tokenizer and rule-based sentencizer, reproduced exactly.
//!
//! This is what datatrove 0.10.1 uses for English (`SpaCyTokenizer("en")` =
//! `spacy.blank("en")` + the `sentencizer` pipe). The algorithm follows `spacy/tokenizer.pyx`:
//!
//! 1. Split the text into chunks of non-whitespace and whitespace (Python `str.isspace`); a single
//!    `' '` between two non-space chunks is not a token but the preceding token's trailing space,
//!    any other whitespace run is a token of its own.
//! 2. A chunk that is a special case (tokenizer exception, e.g. `don't` -> `do` `n't`) becomes its
//!    special tokens. Otherwise prefixes and suffixes are peeled off repeatedly (stopping early
//!    when what remains is a special case), then the core is a special case, a URL (`URL_MATCH`)
//!    or is split at its infixes.
//! 3. A second pass (spaCy's `PhraseMatcher` over the tokens) re-applies special cases that
//!    contain affixes, e.g. `x:)` -> `x` `:)`.
//!
//! Prefix, suffix and infix rules, character classes, the URL pattern and the exceptions are
//! generated from spaCy itself (`tools/gen_tables.py`), and matched with Python `re` semantics
//! (first alternative wins for prefixes, leftmost start for suffixes, left-to-right
//! non-overlapping scan with look-behind/look-ahead for infixes).
//!
//! **Languages**: only English rules are implemented. Any text (also non-English) is tokenized
//! with the English rules, which is exactly what datatrove does when a filter runs with
//! `language="en"` (the default); datatrove's tokenizers for other languages (other spaCy
//! languages, Stanza, Kiwi, pythainlp, ...) are not reproduced.

mod en_data;

use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::RandomState;
use regex::Regex;

use crate::pystr;

/// One prefix alternative (internal representation of spaCy's prefix pieces).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Affix {
    /// A literal string.
    Lit(&'static str),
    /// `\+(?![0-9])`.
    PlusNotDigit,
    /// `\.\.+`.
    Dots,
    /// The `LIST_ICONS` character class.
    Icon,
}

/// A token produced by [`Tokenizer::tokenize`], borrowing from the input text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'t> {
    /// The token text (`token.text`). Whitespace tokens (runs other than a single space) are
    /// included, as spaCy produces them.
    pub text: &'t str,
    /// Byte offset of the token in the input (spaCy's `token.idx` is in code points; use
    /// [`crate::pystr::char_len`] on the prefix to convert).
    pub offset: usize,
    /// Whether a single space follows the token (`token.whitespace_ == " "`).
    pub space_after: bool,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    start: usize,
    end: usize,
    ws: bool,
}

#[inline]
fn in_ranges(c: char, table: &[(u32, u32)]) -> bool {
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

#[inline]
fn is_icon(c: char) -> bool {
    !c.is_ascii() && in_ranges(c, en_data::ICON)
}
#[inline]
fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        in_ranges(c, en_data::ALPHA)
    }
}
#[inline]
fn is_alpha_lower(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_lowercase()
    } else {
        in_ranges(c, en_data::ALPHA_LOWER)
    }
}
#[inline]
fn is_alpha_upper(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_uppercase()
    } else {
        in_ranges(c, en_data::ALPHA_UPPER)
    }
}
#[inline]
fn is_quote(c: char) -> bool {
    in_ranges(c, en_data::QUOTES)
}
#[inline]
fn is_suffix_dot_lb(c: char) -> bool {
    in_ranges(c, en_data::SUFFIX_DOT_LB)
}

#[inline]
fn last_char(s: &str) -> Option<char> {
    s.chars().next_back()
}

/// Length in bytes of the run of `.` that `s` ends with.
fn trailing_dots(s: &str) -> usize {
    s.len() - s.trim_end_matches('.').len()
}

struct UrlMatcher {
    host: Regex,
    neg: Vec<Regex>,
}

impl UrlMatcher {
    fn new() -> Self {
        let build = |p: &str| {
            regex::RegexBuilder::new(p)
                .size_limit(64 << 20)
                .dfa_size_limit(16 << 20)
                .build()
                .expect("generated URL regex compiles")
        };
        UrlMatcher {
            host: build(en_data::URL_HOST_RX),
            neg: en_data::URL_NEG_RX.iter().map(|p| build(p)).collect(),
        }
    }

    /// `URL_MATCH(s)` (`re.match` of spaCy's URL pattern, which is anchored at both ends).
    fn is_match(&self, s: &str) -> bool {
        // Both alternatives of the host part need a '.'.
        if !s.contains('.') {
            return false;
        }
        // The optional scheme `[\w+\-.]{2,}://` and user-info `\S+(?::\S*)?@` decide where the
        // host may start; a chunk contains no whitespace, so every `@` after the first character
        // can end the user-info.
        let mut cands: Vec<usize> = vec![0];
        let run = s
            .char_indices()
            .find(|&(_, c)| !(pystr::is_word(c) || c == '+' || c == '-' || c == '.'))
            .map_or(s.len(), |(i, _)| i);
        if s[..run].chars().count() >= 2 && s[run..].starts_with("://") {
            cands.push(run + 3);
        }
        for (i, c) in s.char_indices() {
            if c == '@' && i > 0 {
                cands.push(i + 1);
            }
        }
        cands.into_iter().any(|p| {
            let rest = &s[p..];
            !self.neg.iter().any(|n| n.is_match(rest)) && self.host.is_match(rest)
        })
    }
}

/// spaCy's blank-English tokenizer (with the sentencizer's sentence boundaries).
///
/// Build it once ([`Tokenizer::english`] returns a shared instance); tokenizing is `&self`
/// and thread-safe.
pub struct Tokenizer {
    specials: HashMap<&'static str, &'static [&'static str], RandomState>,
    /// Prefix alternatives by the first character they can match, in spaCy's order.
    prefix_by_first: HashMap<char, Vec<Affix>, RandomState>,
    /// Literal suffixes (no look-behind) by last character.
    suffix_lit_by_last: HashMap<char, Vec<&'static str>, RandomState>,
    /// Suffixes that need a preceding ASCII digit (currencies, units) by last character.
    suffix_digit_by_last: HashMap<char, Vec<&'static str>, RandomState>,
    /// Special-case matcher patterns by first token text: (pattern tokens).
    matcher: HashMap<&'static str, Vec<Vec<&'static str>>, RandomState>,
    sent_punct: Vec<&'static str>,
    url: OnceLock<UrlMatcher>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("specials", &self.specials.len())
            .finish_non_exhaustive()
    }
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Tokenizer {
    /// A shared English tokenizer (built on first use).
    pub fn english() -> &'static Tokenizer {
        static T: OnceLock<Tokenizer> = OnceLock::new();
        T.get_or_init(Tokenizer::new)
    }

    /// Build a new English tokenizer (prefer [`Tokenizer::english`]).
    pub fn new() -> Self {
        let mut specials = HashMap::with_hasher(RandomState::default());
        for &(k, v) in en_data::SPECIALS {
            specials.insert(k, v);
        }
        let mut prefix_by_first: HashMap<char, Vec<Affix>, RandomState> =
            HashMap::with_hasher(RandomState::default());
        // every first character a prefix alternative can start with
        let mut firsts: Vec<char> = vec!['+', '.'];
        for a in en_data::PREFIXES {
            if let Affix::Lit(l) = a {
                firsts.push(l.chars().next().expect("non-empty prefix"));
            }
        }
        for c in firsts {
            if prefix_by_first.contains_key(&c) {
                continue;
            }
            let alts: Vec<Affix> = en_data::PREFIXES
                .iter()
                .copied()
                .filter(|a| match a {
                    Affix::Lit(l) => l.starts_with(c),
                    Affix::PlusNotDigit => c == '+',
                    Affix::Dots => c == '.',
                    Affix::Icon => is_icon(c),
                })
                .collect();
            prefix_by_first.insert(c, alts);
        }
        let mut suffix_lit_by_last: HashMap<char, Vec<&'static str>, RandomState> =
            HashMap::with_hasher(RandomState::default());
        for &l in en_data::SUFFIX_LITERALS {
            suffix_lit_by_last
                .entry(last_char(l).expect("non-empty"))
                .or_default()
                .push(l);
        }
        let mut suffix_digit_by_last: HashMap<char, Vec<&'static str>, RandomState> =
            HashMap::with_hasher(RandomState::default());
        for &l in en_data::CURRENCY.iter().chain(en_data::UNITS) {
            suffix_digit_by_last
                .entry(last_char(l).expect("non-empty"))
                .or_default()
                .push(l);
        }
        let mut t = Tokenizer {
            specials,
            prefix_by_first,
            suffix_lit_by_last,
            suffix_digit_by_last,
            matcher: HashMap::with_hasher(RandomState::default()),
            sent_punct: en_data::SENT_PUNCT.to_vec(),
            url: OnceLock::new(),
        };
        let mut matcher: HashMap<&'static str, Vec<Vec<&'static str>>, RandomState> =
            HashMap::with_hasher(RandomState::default());
        for (k, pat) in t.matcher_patterns() {
            let _ = k;
            if let Some(&first) = pat.first() {
                let e = matcher.entry(first).or_default();
                if !e.contains(&pat) {
                    e.push(pat);
                }
            }
        }
        t.matcher = matcher;
        t
    }

    /// The special cases spaCy also matches in its second pass (those containing a prefix,
    /// suffix, infix or space), each with its tokenization without special cases.
    fn matcher_patterns(&self) -> Vec<(&'static str, Vec<&'static str>)> {
        let mut out = Vec::new();
        for &(k, _) in en_data::SPECIALS {
            if self.find_prefix(k) > 0
                || !self.find_infixes(k).is_empty()
                || self.find_suffix(k) > 0
                || k.contains(' ')
            {
                let mut toks = Vec::new();
                self.tokenize_affixes(k, false, &mut toks);
                out.push((k, toks.iter().map(|t| &k[t.start..t.end]).collect()));
            }
        }
        out
    }

    fn url(&self) -> &UrlMatcher {
        self.url.get_or_init(UrlMatcher::new)
    }

    #[inline]
    fn special(&self, s: &str) -> Option<&'static [&'static str]> {
        self.specials.get(s).copied()
    }

    /// `prefix_search(s)`: byte length of the prefix, 0 if none.
    fn find_prefix(&self, s: &str) -> usize {
        let Some(c) = s.chars().next() else { return 0 };
        match self.prefix_by_first.get(&c) {
            Some(alts) => {
                for a in alts {
                    match *a {
                        Affix::Lit(l) => {
                            if s.starts_with(l) {
                                return l.len();
                            }
                        }
                        Affix::PlusNotDigit => {
                            if !s[1..].starts_with(|d: char| d.is_ascii_digit()) {
                                return 1;
                            }
                        }
                        Affix::Dots => {
                            let n = s.len() - s.trim_start_matches('.').len();
                            if n >= 2 {
                                return n;
                            }
                        }
                        Affix::Icon => return c.len_utf8(),
                    }
                }
                0
            }
            None if is_icon(c) => c.len_utf8(),
            None => 0,
        }
    }

    /// `suffix_search(s)`: byte length of the suffix (leftmost-starting match anchored at the
    /// end), 0 if none.
    fn find_suffix(&self, s: &str) -> usize {
        let Some(last) = last_char(s) else { return 0 };
        let mut best = 0usize;
        if let Some(lits) = self.suffix_lit_by_last.get(&last) {
            for l in lits {
                if l.len() > best && s.ends_with(l) {
                    best = l.len();
                }
            }
        }
        if let Some(lits) = self.suffix_digit_by_last.get(&last) {
            for l in lits {
                if l.len() > best
                    && s.ends_with(l)
                    && s[..s.len() - l.len()].ends_with(|d: char| d.is_ascii_digit())
                {
                    best = l.len();
                }
            }
        }
        match last {
            '.' => {
                let n = trailing_dots(s);
                if n >= 2 {
                    best = best.max(n);
                }
                if best == 0 {
                    let head = &s[..s.len() - 1];
                    let mut it = head.chars().rev();
                    let p1 = it.next();
                    let p2 = it.next();
                    if let Some(p1) = p1
                        && ((matches!(p1, 'F' | 'f' | 'C' | 'c' | 'K' | 'k') && p2 == Some('°'))
                            || is_suffix_dot_lb(p1)
                            || (is_alpha_upper(p1) && p2.is_some_and(is_alpha_upper)))
                    {
                        best = 1;
                    }
                }
            }
            '+' if best == 0 && s[..s.len() - 1].ends_with(|d: char| d.is_ascii_digit()) => {
                best = 1;
            }
            c if is_icon(c) => best = best.max(c.len_utf8()),
            _ => {}
        }
        best
    }

    /// `infix_finditer(s)`: non-overlapping infix matches as byte ranges.
    fn find_infixes(&self, s: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut prev: Option<char> = None;
        let mut it = s.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            let next = it.peek().map(|&(_, n)| n);
            let m: Option<usize> = match c {
                '.' => {
                    let n = s[i..].len() - s[i..].trim_start_matches('.').len();
                    if n >= 2 {
                        Some(n)
                    } else if prev.is_some_and(|p| is_alpha_lower(p) || is_quote(p))
                        && next.is_some_and(|n| is_alpha_upper(n) || is_quote(n))
                    {
                        Some(1)
                    } else {
                        None
                    }
                }
                '\u{2026}' => Some(c.len_utf8()),
                _ if is_icon(c) => Some(c.len_utf8()),
                '+' | '-' | '*' | '^'
                    if prev.is_some_and(|p| p.is_ascii_digit())
                        && next.is_some_and(|n| n.is_ascii_digit() || n == '-') =>
                {
                    Some(1)
                }
                ',' if prev.is_some_and(is_alpha) && next.is_some_and(is_alpha) => Some(1),
                _ => {
                    let mut m = None;
                    if prev.is_some_and(|p| is_alpha(p) || p.is_ascii_digit()) {
                        if matches!(c, '-' | '\u{2013}' | '\u{2014}' | '~') {
                            for h in en_data::HYPHENS {
                                if s[i..].starts_with(h) && s[i + h.len()..].starts_with(is_alpha) {
                                    m = Some(h.len());
                                    break;
                                }
                            }
                        }
                        if m.is_none()
                            && matches!(c, ':' | '<' | '>' | '=' | '/')
                            && next.is_some_and(is_alpha)
                        {
                            m = Some(1);
                        }
                    }
                    m
                }
            };
            match m {
                Some(len) => {
                    out.push((i, i + len));
                    // continue after the match
                    let end = i + len;
                    let mut last = c;
                    while let Some(&(j, d)) = it.peek() {
                        if j >= end {
                            break;
                        }
                        last = d;
                        it.next();
                    }
                    prev = Some(last);
                }
                None => prev = Some(c),
            }
        }
        out
    }

    /// `_tokenize` of one chunk (without the special-case check of the whole chunk, done by
    /// the caller): affix splitting, then the core, then suffixes in reverse.
    fn tokenize_chunk(&self, base: usize, span: &str, specials: bool, out: &mut Vec<Tok>) {
        let mut prefixes: Vec<(usize, usize)> = Vec::new();
        let mut suffixes: Vec<(usize, usize)> = Vec::new();
        // current string = span[lo..hi]
        let (mut lo, mut hi) = (0usize, span.len());
        let mut last_size = usize::MAX;
        while lo < hi && (hi - lo) != last_size {
            let string = &span[lo..hi];
            if specials && self.special(string).is_some() {
                break;
            }
            last_size = hi - lo;
            let pre_len = self.find_prefix(string);
            if pre_len != 0 {
                let minus_pre = &string[pre_len..];
                if !minus_pre.is_empty() && specials && self.special(minus_pre).is_some() {
                    prefixes.push((lo, lo + pre_len));
                    lo += pre_len;
                    break;
                }
            }
            let suf_len = self.find_suffix(&string[pre_len..]);
            if suf_len != 0 {
                let minus_suf = &string[..string.len() - suf_len];
                if !minus_suf.is_empty() && specials && self.special(minus_suf).is_some() {
                    suffixes.push((hi - suf_len, hi));
                    hi -= suf_len;
                    break;
                }
            }
            if pre_len != 0 && suf_len != 0 && pre_len + suf_len <= string.len() {
                prefixes.push((lo, lo + pre_len));
                suffixes.push((hi - suf_len, hi));
                lo += pre_len;
                hi -= suf_len;
            } else if pre_len != 0 {
                prefixes.push((lo, lo + pre_len));
                lo += pre_len;
            } else if suf_len != 0 {
                suffixes.push((hi - suf_len, hi));
                hi -= suf_len;
            }
        }
        let push = |out: &mut Vec<Tok>, a: usize, b: usize| {
            out.push(Tok {
                start: base + a,
                end: base + b,
                ws: false,
            })
        };
        for &(a, b) in &prefixes {
            push(out, a, b);
        }
        if lo < hi {
            let string = &span[lo..hi];
            if let Some(pieces) = self.special(string).filter(|_| specials) {
                let mut p = lo;
                for piece in pieces {
                    push(out, p, p + piece.len());
                    p += piece.len();
                }
            } else if self.url().is_match(string) {
                push(out, lo, hi);
            } else {
                let matches = self.find_infixes(string);
                if matches.is_empty() {
                    push(out, lo, hi);
                } else {
                    let mut start = 0usize;
                    for (a, b) in matches {
                        if a == 0 {
                            continue;
                        }
                        if a != start {
                            push(out, lo + start, lo + a);
                        }
                        if a != b {
                            push(out, lo + a, lo + b);
                        }
                        start = b;
                    }
                    if start < string.len() {
                        push(out, lo + start, hi);
                    }
                }
            }
        }
        for &(a, b) in suffixes.iter().rev() {
            push(out, a, b);
        }
    }

    /// `_tokenize_affixes`: whitespace chunking plus per-chunk tokenization.
    fn tokenize_affixes(&self, text: &str, specials: bool, out: &mut Vec<Tok>) {
        let mut chars = text.char_indices();
        let Some((_, first)) = chars.next() else {
            return;
        };
        let mut in_ws = pystr::is_space(first);
        let mut start = 0usize;
        let emit = |out: &mut Vec<Tok>, a: usize, b: usize| {
            let span = &text[a..b];
            match self.special(span).filter(|_| specials) {
                Some(pieces) => {
                    let mut p = a;
                    for piece in pieces {
                        out.push(Tok {
                            start: p,
                            end: p + piece.len(),
                            ws: false,
                        });
                        p += piece.len();
                    }
                }
                None => self.tokenize_chunk(a, span, specials, out),
            }
        };
        for (i, c) in text.char_indices() {
            if pystr::is_space(c) != in_ws {
                if start < i {
                    emit(out, start, i);
                }
                if c == ' ' {
                    if let Some(t) = out.last_mut() {
                        t.ws = true;
                    }
                    start = i + 1;
                } else {
                    start = i;
                }
                in_ws = !in_ws;
            }
        }
        if start < text.len() {
            emit(out, start, text.len());
            if let Some(t) = out.last_mut() {
                t.ws = text.ends_with(' ') && !in_ws;
            }
        }
    }

    /// `_apply_special_cases`: the matcher pass for special cases that contain affixes.
    fn apply_special_cases(&self, text: &str, toks: &mut Vec<Tok>) {
        let n = toks.len();
        let mut matches: Vec<(usize, usize)> = Vec::new();
        for i in 0..n {
            let t = &text[toks[i].start..toks[i].end];
            if let Some(pats) = self.matcher.get(t) {
                for pat in pats {
                    if i + pat.len() <= n
                        && pat
                            .iter()
                            .enumerate()
                            .skip(1)
                            .all(|(j, p)| &text[toks[i + j].start..toks[i + j].end] == *p)
                    {
                        matches.push((i, i + pat.len()));
                    }
                }
            }
        }
        if matches.is_empty() {
            return;
        }
        // _filter_special_spans: longest first, then leftmost; a span is kept unless its first or
        // last token was covered by an earlier (kept or not) span.
        matches.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
        let mut seen = vec![false; n];
        let mut filtered: Vec<(usize, usize)> = Vec::new();
        for &(s, e) in &matches {
            if !seen[s] && !seen[e - 1] {
                filtered.push((s, e));
            }
            for x in &mut seen[s..e] {
                *x = true;
            }
        }
        filtered.sort_by_key(|m| m.0);
        let mut out: Vec<Tok> = Vec::with_capacity(n + 8);
        let mut i = 0usize;
        let mut fi = 0usize;
        while i < n {
            if fi < filtered.len() && filtered[fi].0 == i {
                let (s, e) = filtered[fi];
                fi += 1;
                let span_text = &text[toks[s].start..toks[e - 1].end];
                match self.special(span_text) {
                    Some(pieces) => {
                        let mut p = toks[s].start;
                        for piece in pieces {
                            out.push(Tok {
                                start: p,
                                end: p + piece.len(),
                                ws: false,
                            });
                            p += piece.len();
                        }
                        if let Some(t) = out.last_mut() {
                            t.ws = toks[e - 1].ws;
                        }
                    }
                    None => out.extend_from_slice(&toks[s..e]),
                }
                i = e;
            } else {
                out.push(toks[i]);
                i += 1;
            }
        }
        *toks = out;
    }

    fn raw_tokens(&self, text: &str) -> Vec<Tok> {
        let mut toks = Vec::with_capacity(text.len() / 4 + 1);
        self.tokenize_affixes(text, true, &mut toks);
        self.apply_special_cases(text, &mut toks);
        toks
    }

    /// Tokenize like `[t for t in nlp(text)]`: every token, whitespace tokens included.
    pub fn tokenize<'t>(&self, text: &'t str) -> Vec<Token<'t>> {
        self.raw_tokens(text)
            .into_iter()
            .map(|t| Token {
                text: &text[t.start..t.end],
                offset: t.start,
                space_after: t.ws,
            })
            .collect()
    }

    /// datatrove's `split_into_words(text, "en")`: the token texts, stripped, empty ones dropped.
    pub fn words<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.raw_tokens(text)
            .into_iter()
            .filter_map(|t| {
                let w = pystr::strip(&text[t.start..t.end]);
                (!w.is_empty()).then_some(w)
            })
            .collect()
    }

    /// Token indices where the sentencizer starts a sentence (the first is always 0).
    fn sentence_starts(&self, text: &str, toks: &[Tok]) -> Vec<usize> {
        let mut starts = Vec::new();
        if toks.is_empty() {
            return starts;
        }
        starts.push(0);
        let mut seen_period = false;
        for (i, t) in toks.iter().enumerate() {
            let s = &text[t.start..t.end];
            let in_punct = self.sent_punct.contains(&s);
            if seen_period && !in_punct && !s.chars().all(pystr::is_punct_category) {
                if i != 0 {
                    starts.push(i);
                }
                seen_period = false;
            } else if in_punct {
                seen_period = true;
            }
        }
        starts
    }

    /// `len(split_into_sentences(text, "en"))` of datatrove: the number of sentences the spaCy
    /// sentencizer finds (at least 1, also for an empty text, as datatrove's span arithmetic
    /// gives).
    pub fn sentence_count(&self, text: &str) -> usize {
        let toks = self.raw_tokens(text);
        self.sentence_starts(text, &toks).len().max(1)
    }

    /// datatrove's `split_into_sentences(text, "en")`: the text cut after the end of each
    /// sentence but the last (whitespace stays with the following piece), so the pieces
    /// concatenate to `text`.
    pub fn sentences<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let toks = self.raw_tokens(text);
        let starts = self.sentence_starts(text, &toks);
        // sentence end offsets (end of the sentence's last token)
        let mut ends: Vec<usize> = Vec::with_capacity(starts.len());
        for (k, &s) in starts.iter().enumerate() {
            let e = starts.get(k + 1).copied().unwrap_or(toks.len());
            let _ = s;
            ends.push(toks[e - 1].end);
        }
        let mut out = Vec::with_capacity(ends.len().max(1));
        let mut a = 0usize;
        if ends.len() > 1 {
            for &b in &ends[..ends.len() - 1] {
                out.push(&text[a..b]);
                a = b;
            }
        }
        out.push(&text[a..]);
        out
    }
}

/// `split_into_words(text)` with the shared English tokenizer.
pub fn split_into_words(text: &str) -> Vec<&str> {
    Tokenizer::english().words(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<&str> {
        Tokenizer::english()
            .tokenize(s)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn basic_cases_match_spacy() {
        assert_eq!(toks(": )"), vec![":", ")"]);
        assert_eq!(toks("x:)"), vec!["x", ":)"]);
        assert_eq!(toks("a  b"), vec!["a", " ", "b"]);
        assert_eq!(toks("Hello.  World"), vec!["Hello", ".", " ", "World"]);
        assert_eq!(toks("foo\n\nbar"), vec!["foo", "\n\n", "bar"]);
        assert_eq!(toks("http://example.com."), vec!["http://example.com", "."]);
        assert_eq!(toks("don't"), vec!["do", "n't"]);
        assert_eq!(toks("U.S."), vec!["U.S."]);
        assert_eq!(toks("(:)"), vec!["(", ":)"]);
        assert_eq!(toks("1+2"), vec!["1", "+", "2"]);
        assert_eq!(toks("10km"), vec!["10", "km"]);
        assert_eq!(toks("e.g."), vec!["e.g."]);
        assert_eq!(toks("\u{a0}x"), vec!["\u{a0}", "x"]);
        assert_eq!(toks("a\u{a0} b"), vec!["a", "\u{a0} ", "b"]);
    }

    #[test]
    fn sentence_counts() {
        let t = Tokenizer::english();
        assert_eq!(t.sentence_count("Hello.  World"), 2);
        assert_eq!(t.sentence_count("One. Two! Three?"), 3);
        assert_eq!(t.sentence_count(""), 1);
        assert_eq!(t.sentences("One. Two"), vec!["One.", " Two"]);
    }

    #[test]
    fn matcher_patterns_equal_spacy() {
        let t = Tokenizer::english();
        let mine: Vec<(&str, Vec<&str>)> = t.matcher_patterns();
        let spacy: Vec<(&str, Vec<&str>)> = en_data::MATCHER_PATTERNS_SPACY
            .iter()
            .map(|(k, v)| (*k, v.to_vec()))
            .collect();
        assert_eq!(mine, spacy);
    }

    #[test]
    fn url_matching() {
        let t = Tokenizer::english();
        assert!(t.url().is_match("example.com"));
        assert!(t.url().is_match("https://user@www.example.org/path?x=1"));
        assert!(!t.url().is_match("10.0.0.1"));
        assert!(t.url().is_match("11.0.0.1"));
        assert!(!t.url().is_match("lower.Upper"));
    }
}
