//! Text units (lines, paragraphs) and the normalizations line and paragraph dedup hash;
//! datatrove's `simplify_text` ([`datatrove`]), which its MinHash, sentence dedup and n-gram
//! decontamination apply.

use serde::Deserialize;
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

/// How a unit is normalized before hashing.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// CCNet's `normalize_for_dedup`: strip, lowercase, every Unicode decimal digit → `0`,
    /// remove CCNet's 35 Unicode punctuation marks (`，。、„”“«»１」「《》´∶：？！（）；–—．～’…━〈〉【】％►`)
    /// and control characters (U+0000–U+001F, U+007F–U+009F).
    Ccnet,
    /// Trim, collapse whitespace runs to one space, lowercase.
    Whitespace,
    /// The unit as written.
    None,
}

impl Normalize {
    /// The name written in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            Normalize::Ccnet => "ccnet",
            Normalize::Whitespace => "whitespace",
            Normalize::None => "none",
        }
    }

    /// The normalized form of `s`.
    pub fn apply<'a>(self, s: &'a str) -> Cow<'a, str> {
        match self {
            Normalize::None => Cow::Borrowed(s),
            Normalize::Whitespace => {
                let mut out = String::with_capacity(s.len());
                for w in s.split_whitespace() {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(w);
                }
                Cow::Owned(out.to_lowercase())
            }
            Normalize::Ccnet => {
                let t = s.trim_matches(is_python_space);
                if t.is_empty() {
                    return Cow::Borrowed("");
                }
                let mut l = t.to_lowercase();
                if l.chars().any(char::is_numeric) {
                    static DIGIT: LazyLock<regex::Regex> =
                        LazyLock::new(|| regex::Regex::new(r"\d").expect("valid regex"));
                    if let Cow::Owned(r) = DIGIT.replace_all(&l, "0") {
                        l = r;
                    }
                }
                l.retain(|c| !is_ccnet_removed(c));
                Cow::Owned(l)
            }
        }
    }
}

/// Python's `str.isspace` (what `str.strip()` removes): Unicode White_Space plus the
/// information separators U+001C–U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// CCNet's `PUNCT_OR_NON_PRINTING_CHARS_RE`.
fn is_ccnet_removed(c: char) -> bool {
    const PUNCT: &str = "，。、„”“«»１」「《》´∶：？！（）；–—．～’…━〈〉【】％►";
    let u = c as u32;
    u < 32 || (127..160).contains(&u) || (!c.is_ascii() && PUNCT.contains(c))
}

/// What a unit of line-level dedup is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A line (split on `\n`).
    Line,
    /// A paragraph: a maximal run of non-blank lines (paragraphs are separated by blank lines).
    Paragraph,
}

impl Unit {
    /// The name written in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Line => "line",
            Unit::Paragraph => "paragraph",
        }
    }

    /// Byte ranges of the units of `text`, in order: every line (without its `\n`) for
    /// [`Unit::Line`]; the non-blank paragraphs (without their final `\n`) for
    /// [`Unit::Paragraph`].
    pub fn split(self, text: &str) -> Vec<Range<usize>> {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                lines.push(start..i);
                start = i + 1;
            }
        }
        if start < text.len() {
            lines.push(start..text.len());
        }
        match self {
            Unit::Line => lines,
            Unit::Paragraph => {
                let mut paras: Vec<Range<usize>> = Vec::new();
                let mut cur: Option<Range<usize>> = None;
                for l in lines {
                    if text[l.clone()].trim().is_empty() {
                        paras.extend(cur.take());
                    } else {
                        cur = Some(match cur {
                            Some(c) => c.start..l.end,
                            None => l,
                        });
                    }
                }
                paras.extend(cur);
                paras
            }
        }
    }

    /// `text` without the units `ranges[i]` for which `keep[i]` is false.
    ///
    /// Lines: a removed line goes with its `\n` (and a trailing `\n` the text did not have is
    /// not added). Paragraphs: each kept paragraph but the first is preceded by the separator
    /// that preceded it in the original; the text before the first paragraph and after the
    /// last one stay.
    pub fn rebuild(self, text: &str, ranges: &[Range<usize>], keep: &[bool]) -> String {
        let mut out = String::with_capacity(text.len());
        match self {
            Unit::Line => {
                for (r, &k) in ranges.iter().zip(keep) {
                    if k {
                        out.push_str(&text[r.clone()]);
                        if r.end < text.len() {
                            out.push('\n');
                        }
                    }
                }
                if !text.ends_with('\n') && out.ends_with('\n') {
                    out.pop();
                }
            }
            Unit::Paragraph => {
                let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
                    return text.to_string();
                };
                out.push_str(&text[..first.start]);
                let mut any = false;
                for (i, (r, &k)) in ranges.iter().zip(keep).enumerate() {
                    if !k {
                        continue;
                    }
                    if any {
                        out.push_str(&text[ranges[i - 1].end..r.start]);
                    }
                    out.push_str(&text[r.clone()]);
                    any = true;
                }
                out.push_str(&text[last.end..]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ccnet_normalization() {
        let n = Normalize::Ccnet;
        assert_eq!(n.apply("  Hello, World 2024！ "), "hello, world 0000");
        assert_eq!(n.apply("Prix：１２€「x」\t"), "prix00€x");
        assert_eq!(n.apply("a\u{7}b"), "ab");
        // Checked against CCNet's normalize_for_dedup (Python 3.12): final sigma, a letter
        // number (not a digit), an Arabic-Indic digit.
        assert_eq!(n.apply("ΣΑΣ Ⅻ ٣"), "σας ⅻ 0");
        assert_eq!(n.apply(" \t "), "");
        // Python's strip() also removes the information separators U+001C-U+001F.
        assert_eq!(n.apply("\u{1c} A\u{1f}"), "a");
        assert_eq!(Normalize::Whitespace.apply(" A  b\tC "), "a b c");
        assert_eq!(Normalize::None.apply(" A "), " A ");
    }

    #[test]
    fn split_and_rebuild_lines_and_paragraphs() {
        let t = "a\nb\n\nc\nd\n\n\ne";
        let l = Unit::Line.split(t);
        assert_eq!(l.len(), 8);
        let keep: Vec<bool> = l
            .iter()
            .map(|r| &t[r.clone()] != "b" && &t[r.clone()] != "e")
            .collect();
        assert_eq!(Unit::Line.rebuild(t, &l, &keep), "a\n\nc\nd\n\n");
        let p = Unit::Paragraph.split(t);
        let texts: Vec<&str> = p.iter().map(|r| &t[r.clone()]).collect();
        assert_eq!(texts, ["a\nb", "c\nd", "e"]);
        assert_eq!(
            Unit::Paragraph.rebuild(t, &p, &[false, true, true]),
            "c\nd\n\n\ne"
        );
        assert_eq!(
            Unit::Paragraph.rebuild(t, &p, &[true, false, true]),
            "a\nb\n\n\ne"
        );
        assert_eq!(
            Unit::Paragraph.rebuild("\nx\n", &Unit::Paragraph.split("\nx\n"), &[false]),
            "\n\n"
        );
        assert_eq!(
            Unit::Line.rebuild("x\ny\n", &Unit::Line.split("x\ny\n"), &[true, false]),
            "x\n"
        );
    }
}

/// datatrove 0.10.1's `simplify_text` with the default `TextNormConfig`.
pub mod datatrove {
    use datamill_filters::pystr;
    use regex::Regex;
    use std::sync::OnceLock;
    use unicode_normalization::UnicodeNormalization;

    /// `datatrove.utils.text.PUNCTUATION` (the marks `simplify_text` turns into spaces; the
    /// control characters U+0000–0008, U+000B–001F and U+007F–009F follow the listed marks).
    const PUNCTUATION: &str = "!/\u{2014}\u{201d}:\u{ff05}\u{ff11}\u{3008}&(\u{3001}\u{2501}\u{5c}\u{3010}#%\u{300c}\u{300d}\u{ff0c}\u{3011}\u{ff1b}+^]~\u{201c}\u{300a}\u{201e}';\u{2019}{|\u{2236}\u{b4}[=-`*\u{ff0e}\u{ff08}\u{2013}\u{ff1f}\u{ff01}\u{ff1a}$\u{ff5e}\u{ab}\u{3009},><\u{300b})?\u{ff09}\u{3002}\u{2026}@_.\u{22}}\u{25ba}\u{bb}";

    fn is_punct(c: char) -> bool {
        static SET: OnceLock<Vec<char>> = OnceLock::new();
        let u = c as u32;
        if u <= 0x08 || (0x0b..=0x1f).contains(&u) || (0x7f..=0x9f).contains(&u) {
            return true;
        }
        let set = SET.get_or_init(|| {
            let mut v: Vec<char> = PUNCTUATION.chars().collect();
            v.sort_unstable();
            v
        });
        set.binary_search(&c).is_ok()
    }

    fn numbers() -> &'static Regex {
        static R: OnceLock<Regex> = OnceLock::new();
        R.get_or_init(|| Regex::new(r"\p{Nd}+(?:[.,،٫⎖⎗⎘]\p{Nd}+)?").expect("valid regex"))
    }

    fn marks() -> &'static Regex {
        static R: OnceLock<Regex> = OnceLock::new();
        R.get_or_init(|| Regex::new(r"\p{Mn}+").expect("valid regex"))
    }

    /// `simplify_text(text)`: lowercase (Python `str.lower`), numbers → `0`, punctuation →
    /// space, strip and collapse whitespace, NFD and drop nonspacing marks, strip.
    pub fn simplify_text(text: &str) -> String {
        let lower = pystr::lower(text);
        let t = numbers().replace_all(&lower, "0");
        let mut out = String::with_capacity(t.len());
        let mut pending = false;
        for c in t.chars() {
            let c = if is_punct(c) { ' ' } else { c };
            if pystr::is_space(c) {
                pending = !out.is_empty();
            } else {
                if pending {
                    out.push(' ');
                    pending = false;
                }
                out.push(c);
            }
        }
        if out.is_ascii() {
            return out;
        }
        let nfd: String = out.nfd().collect();
        let stripped = marks().replace_all(&nfd, "");
        pystr::strip(&stripped).to_string()
    }

    /// datatrove's `HashConfig` (`precision`, `hash_fc`) and the function
    /// `create_hash_func` makes of it, on a string's UTF-8 bytes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct HashConfig {
        /// 32 or 64 bits.
        pub precision: u32,
        /// `hash_fc = "sha1"` (else `"xxhash"`).
        pub sha1: bool,
    }

    impl HashConfig {
        /// Checks the two parameters (`hash_precision`, `hash_fc`), naming the wrong one.
        pub fn new(precision: u32, hash_fc: &str) -> Result<HashConfig, datamill_core::StageError> {
            use datamill_core::StageError;
            if precision != 32 && precision != 64 {
                return Err(StageError::config(
                    "hash_precision",
                    format!("must be 32 or 64, got {precision}"),
                ));
            }
            let sha1 = match hash_fc {
                "xxhash" => false,
                "sha1" => true,
                other => {
                    return Err(StageError::config(
                        "hash_fc",
                        format!("must be \"xxhash\" or \"sha1\", got {other:?}"),
                    ));
                }
            };
            Ok(HashConfig { precision, sha1 })
        }

        /// `xxh32_intdigest` / `xxh64_intdigest` (seed 0), or the first 4 / 8 bytes of the
        /// SHA-1 digest read little-endian.
        pub fn hash(&self, s: &str) -> u64 {
            let b = s.as_bytes();
            match (self.sha1, self.precision) {
                (false, 32) => u64::from(xxhash_rust::xxh32::xxh32(b, 0)),
                (false, _) => xxhash_rust::xxh64::xxh64(b, 0),
                (true, p) => {
                    use sha1::Digest;
                    let d = sha1::Sha1::digest(b);
                    let mut v = [0u8; 8];
                    let n = if p == 32 { 4 } else { 8 };
                    v[..n].copy_from_slice(&d[..n]);
                    u64::from_le_bytes(v)
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn hashes_match_python() {
            // xxhash 3.8.2 xxh64_intdigest / xxh32_intdigest, hashlib.sha1 (Python 3.11)
            let h = |p, f| HashConfig::new(p, f).unwrap().hash("héllo world");
            assert_eq!(h(64, "xxhash"), 17738080058144340485);
            assert_eq!(h(32, "xxhash"), 687050040);
            assert_eq!(h(64, "sha1"), 11118227003299948399);
            assert_eq!(h(32, "sha1"), 2010736495);
            assert!(HashConfig::new(16, "xxhash").is_err());
            assert!(HashConfig::new(64, "md5").is_err());
        }

        #[test]
        fn matches_datatrove() {
            // outputs of datatrove 0.10.1 simplify_text (Python 3.11)
            for (i, o) in [
                (
                    "Hello, World! 3.14 and 1,000,000 cafés — naïve Ünïcödé",
                    "hello world 0 and 0 0 cafes naive unicode",
                ),
                (
                    "  Tabs\tand\nnewlines\u{a0}nbsp ΣΑΣ ΟΔΟΣ x² ١٢٣ don't",
                    "tabs and newlines nbsp σας οδος x² 0 don t",
                ),
                ("İstanbul ǅ ﬁ e\u{301}\u{301}", "istanbul ǆ ﬁ e"),
                ("a\x07b_c€d", "a b c€d"),
            ] {
                assert_eq!(simplify_text(i), o, "{i:?}");
            }
        }
    }
}
