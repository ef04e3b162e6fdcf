//! Python 3.11 `str` semantics the filters depend on.
//!
//! Every predicate is driven by tables generated from CPython 3.11's own character database
//! (Unicode 14.0.0, `tools/gen_tables.py`), not by Rust's `char` methods, whose Unicode version and
//! definitions differ (e.g. Rust's `char::is_whitespace` is false for U+001C..U+001F, which
//! `str.isspace()` treats as whitespace; Python's `re` `\w` excludes combining marks, Rust's `\w`
//! includes them). Lengths are in code points (`len(s)` in Python), never bytes.

use crate::pytables;

#[inline]
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

/// `c.isspace()`: also the characters `str.split()`, `str.strip()` and spaCy split on.
#[inline]
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ')
    } else {
        in_table(c, pytables::SPACE)
    }
}

/// `c.isalpha()` (general category Lu, Ll, Lt, Lm or Lo).
#[inline]
pub fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        in_table(c, pytables::ALPHA)
    }
}

/// Python `re` `\w` for `str` patterns: `c.isalnum() or c == "_"`.
#[inline]
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        in_table(c, pytables::WORD)
    }
}

/// Python `re` `\d` for `str` patterns (general category Nd).
#[inline]
pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        in_table(c, pytables::DIGIT)
    }
}

/// `unicodedata.category(c).startswith("P")`.
#[inline]
pub fn is_punct_category(c: char) -> bool {
    in_table(c, pytables::PUNCT_CAT)
}

/// `len(s)`: the number of code points.
#[inline]
pub fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// `s.strip()`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `s.lstrip()`.
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// `s.rstrip()`.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// `s.split()` (no argument): runs of whitespace separate, no empty items.
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|w| !w.is_empty())
}

/// Is `c` a line boundary of `str.splitlines()`?
#[inline]
pub fn is_line_boundary(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// `s.splitlines()`: splits on every line boundary (`\r\n` counts as one), drops the
/// terminators, and yields no trailing empty line.
pub fn splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if is_line_boundary(c) {
            out.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' && bytes.get(end) == Some(&b'\n') {
                it.next();
                end += 1;
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn lower_char(c: char) -> Option<&'static str> {
    let cp = c as u32;
    pytables::LOWER
        .binary_search_by_key(&cp, |&(k, _)| k)
        .ok()
        .map(|i| pytables::LOWER[i].1)
}

/// `s.lower()`: full lowercase mapping of Python 3.11, including the final-sigma rule.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c == '\u{3a3}' {
            out.push(if final_sigma(s, i) { 'ς' } else { 'σ' });
        } else if let Some(l) = lower_char(c) {
            out.push_str(l);
        } else {
            out.push(c);
        }
    }
    out
}

/// CPython's `handle_capital_sigma`: `\p{cased}\p{case-ignorable}* U+03A3
/// !(\p{case-ignorable}* \p{cased})`.
fn final_sigma(s: &str, i: usize) -> bool {
    let ignorable = |c: char| in_table(c, pytables::CASE_IGNORABLE);
    let cased = |c: char| in_table(c, pytables::CASED);
    let before = s[..i].chars().rev().find(|&c| !ignorable(c));
    if !before.is_some_and(cased) {
        return false;
    }
    let after = s[i + 'Σ'.len_utf8()..].chars().find(|&c| !ignorable(c));
    !after.is_some_and(cased)
}

/// `s.count(sub)` for a non-empty `sub`: non-overlapping occurrences.
pub fn count(s: &str, sub: &str) -> usize {
    s.matches(sub).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_matches_python() {
        for c in [
            '\t', '\n', '\x0b', '\x0c', '\r', '\x1c', '\x1f', ' ', '\u{85}', '\u{a0}', '\u{2028}',
            '\u{3000}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in ['a', '\u{200b}', '\u{feff}', '_'] {
            assert!(!is_space(c), "{c:?}");
        }
    }

    #[test]
    fn splitlines_like_python() {
        assert_eq!(splitlines(""), Vec::<&str>::new());
        assert_eq!(splitlines("a\nb\n"), vec!["a", "b"]);
        assert_eq!(
            splitlines("a\r\nb\rc\x0bd\u{2028}e"),
            vec!["a", "b", "c", "d", "e"]
        );
        assert_eq!(splitlines("\n\na"), vec!["", "", "a"]);
    }

    #[test]
    fn split_and_strip() {
        assert_eq!(
            split_whitespace("  a\u{a0}b \x1c c ").collect::<Vec<_>>(),
            vec!["a", "b", "c"]
        );
        assert_eq!(strip("\x1c x \u{3000}"), "x");
        assert_eq!(lstrip("  x "), "x ");
        assert_eq!(rstrip("  x "), "  x");
    }

    #[test]
    fn lower_like_python() {
        assert_eq!(lower("ΟΔΟΣ Σ"), "οδος σ");
        assert_eq!(lower("ΑΣ."), "ας.");
        assert_eq!(lower("İ"), "i\u{307}");
        assert_eq!(lower("\u{212a}ELVIN"), "kelvin");
        assert_eq!(lower("ABC"), "abc");
    }

    #[test]
    fn predicates() {
        assert!(is_alpha('é') && !is_alpha('\u{301}') && !is_alpha('1'));
        assert!(is_word('²') && is_word('_') && !is_word('\u{301}') && !is_word('-'));
        assert!(is_digit('٣') && !is_digit('²'));
        assert!(is_punct_category('¿') && !is_punct_category('$'));
        assert_eq!(char_len("héllo"), 5);
        assert_eq!(count("a...b....", "..."), 2);
    }
}
