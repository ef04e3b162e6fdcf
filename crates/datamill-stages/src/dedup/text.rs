//! Text units (lines, paragraphs) and the normalizations line and paragraph dedup hash.

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
