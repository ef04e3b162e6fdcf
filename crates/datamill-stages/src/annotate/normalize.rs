//! Normalizes the text: Unicode NFC/NFKC, control characters, whitespace, and optional repair of UTF-8 mojibake.
//!
//! Steps, in this order (each only when enabled):
//!
//! 1. **Mojibake repair** (`fix_mojibake`, default `false`): text that was UTF-8 but was decoded
//!    as Windows-1252 (or Latin-1) — `CafÃ©`, `â€œquotedâ€\u{9d}`, `Ã¼ber`, `æ—¥æœ¬èªž`,
//!    `ðŸ˜€` — is turned back into `Café`, `“quoted”`, `über`, `日本語`, `😀`. Exactly: every
//!    character that Windows-1252 can encode as a byte `0x80..=0xFF` (U+00A0–U+00FF, the 27
//!    Windows-1252 symbols such as `€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ`, and
//!    the C1 controls U+0080–U+009F, which Latin-1 decoding produces) maps to that byte; a
//!    sequence of such characters whose bytes form one well-formed UTF-8 character is replaced
//!    by that character when it is a 3- or 4-byte character (`â€™` → `’`), or a 2-byte one in
//!    U+0080–U+052F (Latin-1 Supplement, Latin Extended, IPA, Greek, Cyrillic: `Ã©` → `é`). Other
//!    2-byte results are left alone, so German `Fuß“` (bytes `DF 93`, NKo U+07D3) is not
//!    "repaired". ASCII is never touched, and text without such sequences is unchanged. This
//!    fixes one level of the common case only; it is not ftfy (no double mojibake, no other code
//!    pages, no HTML entities).
//! 2. **Control characters** (`remove_control_chars`, default `true`): `\r\n` and a lone `\r`
//!    become `\n`, then every other character of Unicode category Cc (U+0000–U+001F,
//!    U+007F–U+009F) except `\n` and `\t` is removed. With `remove_format_chars` (default
//!    `false`) the category Cf characters U+00AD (soft hyphen), U+200B (zero-width space),
//!    U+2060 (word joiner) and U+FEFF (byte-order mark) are removed too (ZWJ/ZWNJ, which
//!    emoji and Persian need, are kept).
//! 3. **Unicode normalization** (`form`, default `"NFC"`): `"NFC"`, `"NFKC"` (also folds
//!    compatibility characters: full-width letters, ligatures, `ﬁ` → `fi`, `²` → `2`) or
//!    `"none"`.
//! 4. **Whitespace**: `unicode_spaces` (default `false`) turns every Unicode space separator
//!    (category Zs: no-break space, en/em spaces, U+3000, ...) into an ASCII space;
//!    `collapse_spaces` (default `false`) turns each run of spaces and tabs into one space;
//!    `strip_lines` (default `false`) removes spaces and tabs at the end of every line;
//!    `max_blank_lines` (default: no limit) keeps at most that many consecutive empty lines;
//!    `strip` (default `false`) removes leading and trailing whitespace of the whole text.
//!
//! The stage never drops documents. Counters: `mojibake_fixed` (characters repaired),
//! `control_chars_removed`, `docs_changed`.
//!
//! ```toml
//! [[stage]]
//! type = "normalize"
//!
//! [[stage]]
//! type = "normalize"
//! form = "NFKC"
//! fix_mojibake = true
//! unicode_spaces = true
//! collapse_spaces = true
//! strip_lines = true
//! max_blank_lines = 1
//! strip = true
//! ```

use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::{IsNormalized, is_nfc_quick, is_nfkc_quick};

/// The Unicode normalization form.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum Form {
    /// Canonical composition.
    #[default]
    #[serde(rename = "NFC")]
    Nfc,
    /// Compatibility composition.
    #[serde(rename = "NFKC")]
    Nfkc,
    /// No normalization.
    #[serde(rename = "none")]
    None,
}

fn default_true() -> bool {
    true
}

/// The `normalize` stage's configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalize {
    /// Unicode normalization form.
    #[serde(default)]
    pub form: Form,
    /// Remove control characters (keeping `\n`, `\t`).
    #[serde(default = "default_true")]
    pub remove_control_chars: bool,
    /// Remove soft hyphens, zero-width spaces, word joiners and BOMs.
    #[serde(default)]
    pub remove_format_chars: bool,
    /// Repair UTF-8 decoded as Windows-1252/Latin-1.
    #[serde(default)]
    pub fix_mojibake: bool,
    /// Unicode space separators become ASCII spaces.
    #[serde(default)]
    pub unicode_spaces: bool,
    /// Runs of spaces and tabs become one space.
    #[serde(default)]
    pub collapse_spaces: bool,
    /// Remove trailing spaces and tabs of every line.
    #[serde(default)]
    pub strip_lines: bool,
    /// At most this many consecutive empty lines.
    pub max_blank_lines: Option<u32>,
    /// Trim the whole text.
    #[serde(default)]
    pub strip: bool,
}

impl StageSpec for Normalize {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        Ok(Step::Map(Box::new(self.clone())))
    }
}

/// The Windows-1252 byte of `c`, for the characters that map to `0x80..=0xFF` (C1 controls
/// map to themselves, as Latin-1 decoding produces them).
fn cp1252_byte(c: char) -> Option<u8> {
    let b = match c as u32 {
        v @ 0x80..=0xFF => v as u8,
        0x20AC => 0x80,
        0x201A => 0x82,
        0x0192 => 0x83,
        0x201E => 0x84,
        0x2026 => 0x85,
        0x2020 => 0x86,
        0x2021 => 0x87,
        0x02C6 => 0x88,
        0x2030 => 0x89,
        0x0160 => 0x8A,
        0x2039 => 0x8B,
        0x0152 => 0x8C,
        0x017D => 0x8E,
        0x2018 => 0x91,
        0x2019 => 0x92,
        0x201C => 0x93,
        0x201D => 0x94,
        0x2022 => 0x95,
        0x2013 => 0x96,
        0x2014 => 0x97,
        0x02DC => 0x98,
        0x2122 => 0x99,
        0x0161 => 0x9A,
        0x203A => 0x9B,
        0x0153 => 0x9C,
        0x017E => 0x9E,
        0x0178 => 0x9F,
        _ => return None,
    };
    Some(b)
}

/// Repairs one level of UTF-8-as-Windows-1252 mojibake (see the module doc); returns the new
/// text and the number of characters repaired, or `None` if nothing changed.
pub fn fix_mojibake(text: &str) -> Option<(String, u64)> {
    // Fast path: mojibake needs a lead byte character U+00C2..=U+00F4.
    if !text.chars().any(|c| ('\u{C2}'..='\u{F4}').contains(&c)) {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut fixed = 0u64;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let need = match c as u32 {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 0,
        };
        if need > 0 && i + need <= chars.len() {
            let mut bytes = [0u8; 4];
            let mut ok = true;
            for k in 0..need {
                match cp1252_byte(chars[i + k]) {
                    Some(b) => bytes[k] = b,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok && let Ok(s) = std::str::from_utf8(&bytes[..need]) {
                let d = s.chars().next().unwrap_or('\0');
                if need > 2 || ('\u{80}'..='\u{52F}').contains(&d) {
                    out.push(d);
                    fixed += 1;
                    i += need;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    (fixed > 0).then_some((out, fixed))
}

fn is_format_removed(c: char) -> bool {
    matches!(c, '\u{AD}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Unicode category Zs.
fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

impl Normalize {
    fn whitespace(&self, text: &str) -> String {
        let mut lines: Vec<String> = Vec::new();
        for line in text.split('\n') {
            let mut l = String::with_capacity(line.len());
            let mut prev_space = false;
            for c in line.chars() {
                let c = if self.unicode_spaces && is_space_separator(c) {
                    ' '
                } else {
                    c
                };
                if self.collapse_spaces && (c == ' ' || c == '\t') {
                    if !prev_space {
                        l.push(' ');
                    }
                    prev_space = true;
                    continue;
                }
                prev_space = false;
                l.push(c);
            }
            if self.strip_lines {
                l.truncate(l.trim_end_matches([' ', '\t']).len());
            }
            lines.push(l);
        }
        if let Some(max) = self.max_blank_lines {
            let n = lines.len();
            let mut kept = Vec::with_capacity(n);
            let mut blanks = 0;
            for (i, l) in lines.into_iter().enumerate() {
                // Interior empty lines only: the first line and the final "" after a trailing
                // newline are not blank lines between paragraphs.
                if l.is_empty() && i > 0 && i + 1 < n {
                    blanks += 1;
                    if blanks > max {
                        continue;
                    }
                } else {
                    blanks = 0;
                }
                kept.push(l);
            }
            lines = kept;
        }
        let joined = lines.join("\n");
        if self.strip {
            joined.trim().to_string()
        } else {
            joined
        }
    }

    fn whitespace_enabled(&self) -> bool {
        self.unicode_spaces
            || self.collapse_spaces
            || self.strip_lines
            || self.max_blank_lines.is_some()
            || self.strip
    }
}

impl Stage for Normalize {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let mut text: Option<String> = None;
        if self.fix_mojibake
            && let Some((t, n)) = fix_mojibake(doc.text())
        {
            cx.count("mojibake_fixed", n);
            text = Some(t);
        }
        let cur = text.as_deref().unwrap_or(doc.text());
        let removable = |c: char| {
            (self.remove_control_chars && c.is_control() && c != '\n' && c != '\t')
                || (self.remove_format_chars && is_format_removed(c))
        };
        if cur.chars().any(removable) {
            let mut out = String::with_capacity(cur.len());
            let mut removed = 0u64;
            let mut it = cur.chars().peekable();
            while let Some(c) = it.next() {
                if self.remove_control_chars && c == '\r' {
                    if it.peek() != Some(&'\n') {
                        out.push('\n');
                    }
                    continue;
                }
                if removable(c) {
                    removed += 1;
                    continue;
                }
                out.push(c);
            }
            cx.count("control_chars_removed", removed);
            text = Some(out);
        }
        let cur = text.as_deref().unwrap_or(doc.text());
        let normalized = match self.form {
            Form::Nfc if is_nfc_quick(cur.chars()) != IsNormalized::Yes => {
                Some(cur.nfc().collect::<String>())
            }
            Form::Nfkc if is_nfkc_quick(cur.chars()) != IsNormalized::Yes => {
                Some(cur.nfkc().collect::<String>())
            }
            _ => None,
        };
        if let Some(n) = normalized {
            text = Some(n);
        }
        if self.whitespace_enabled() {
            let cur = text.as_deref().unwrap_or(doc.text());
            text = Some(self.whitespace(cur));
        }
        if let Some(t) = text
            && t != doc.text()
        {
            cx.count("docs_changed", 1);
            doc.set_text(t);
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(src: &str) -> Normalize {
        toml::from_str(src).unwrap()
    }

    fn run(s: &Normalize, text: &str) -> String {
        let mut d = Doc::new("x", text);
        assert_eq!(
            s.process(&mut d, &mut StageCx::default()).unwrap(),
            Verdict::Keep
        );
        d.text().to_string()
    }

    #[test]
    fn mojibake_real_examples() {
        // Each broken string is `good.encode("utf-8")` decoded as Windows-1252, with Latin-1 for the
        // 5 bytes Windows-1252 leaves undefined (checked with Python).
        for (good, bad) in [
            ("Café", "CafÃ©"),
            ("über straße", "Ã¼ber straÃŸe"),
            ("“quoted” – it’s", "â€œquotedâ€\u{9d} â€“ itâ€™s"),
            ("日本語", "æ—¥æœ¬èªž"),
            ("😀 ok", "ðŸ˜€ ok"),
            ("Привет", "ÐŸÑ€Ð¸Ð²ÐµÑ‚"),
            ("naïve résumé", "naÃ¯ve rÃ©sumÃ©"),
            ("こんにちは", "ã\u{81}“ã‚“ã\u{81}«ã\u{81}¡ã\u{81}¯"),
        ] {
            assert_eq!(fix_mojibake(bad).unwrap().0, good);
        }
        // Correct text is left alone.
        for ok in [
            "café naïve",
            "Fuß“ und „Maß“",
            "ÀÉÎÕÜ",
            "plain ascii",
            "Ã alone",
            "«Ça va»",
        ] {
            assert_eq!(fix_mojibake(ok), None, "{ok}");
        }
        let s = stage("fix_mojibake = true");
        let mut cx = StageCx::default();
        let mut d = Doc::new("x", "CafÃ© â€œ");
        s.process(&mut d, &mut cx).unwrap();
        assert_eq!(d.text(), "Café “");
        assert_eq!(
            cx.take_counters(),
            vec![("mojibake_fixed", 2), ("docs_changed", 1)]
        );
        // Off by default.
        assert_eq!(run(&stage(""), "CafÃ©"), "CafÃ©");
    }

    #[test]
    fn control_chars_and_forms() {
        let s = stage("");
        assert_eq!(
            run(&s, "a\u{0}b\u{7}c\td\r\ne\rf\u{85}g\u{7f}"),
            "abc\td\ne\nfg"
        );
        // NFC by default: e + combining acute → é.
        assert_eq!(run(&s, "e\u{301}"), "é");
        assert_eq!(run(&s, "ﬁ ²"), "ﬁ ²");
        assert_eq!(run(&stage("form = \"NFKC\""), "ﬁ ² Ａ"), "fi 2 A");
        assert_eq!(run(&stage("form = \"none\""), "e\u{301}"), "e\u{301}");
        assert_eq!(
            run(
                &stage("remove_format_chars = true"),
                "\u{feff}soft\u{ad}ware\u{200b}x\u{200d}"
            ),
            "softwarex\u{200d}"
        );
        assert_eq!(
            run(&stage("remove_control_chars = false"), "a\u{0}\r\n"),
            "a\u{0}\r\n"
        );
        assert!(toml::from_str::<Normalize>("form = \"NFD\"").is_err());
    }

    #[test]
    fn whitespace_options() {
        let s = stage(
            "unicode_spaces = true\ncollapse_spaces = true\nstrip_lines = true\nmax_blank_lines = 1\nstrip = true",
        );
        assert_eq!(
            run(&s, "  a\u{a0}\u{3000} b \t\n\n\n\nc  \n \nd\n"),
            "a b\n\nc\n\nd"
        );
        let s = stage("max_blank_lines = 0");
        assert_eq!(run(&s, "a\n\n\nb\n"), "a\nb\n");
        // Nothing enabled: code indentation survives.
        assert_eq!(
            run(&stage(""), "fn x() {\n    y  \n}\n"),
            "fn x() {\n    y  \n}\n"
        );
    }
}
