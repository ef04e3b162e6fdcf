//! Replaces e-mail addresses and public IP addresses (and optionally phone numbers) in the text, as datatrove's `PIIFormatter`.
//!
//! The e-mail and IPv4 regular expressions are datatrove 0.10.1's (`formatters/pii.py`), with
//! Python's semantics: `\b` before an e-mail address uses Python's Unicode word characters
//! (letters, numbers and `_`); a match is replaced by the next string of the replacement list,
//! used in a circle. An IPv4 match is replaced only if Python's `ipaddress.ip_address` accepts
//! it (no octet with a leading zero such as `01`) and, with `only_remove_public_ips` (default),
//! only if it `is_global` as in CPython 3.11.7: not in `100.64.0.0/10` and not in `0.0.0.0/8`,
//! `10.0.0.0/8`, `127.0.0.0/8`, `169.254.0.0/16`, `172.16.0.0/12`, `192.0.0.0/29`,
//! `192.0.0.170/31`, `192.0.2.0/24`, `192.168.0.0/16`, `198.18.0.0/15`, `198.51.100.0/24`,
//! `203.0.113.0/24`, `240.0.0.0/4`, `255.255.255.255/32` (so multicast `224.0.0.0/4` counts as
//! public, as in that Python). An IP regex match that is not replaced is left as is and does
//! not advance the replacement circle. E-mails are replaced first, then IPs, then phones.
//!
//! **One difference from datatrove**: datatrove's replacement circle continues from one
//! document to the next (its position depends on every earlier document a worker saw); datamill
//! restarts it at the first replacement string in every document, so the output does not
//! depend on how documents are split among threads. (datatrove with a fresh `PIIFormatter` per
//! document gives byte-identical text; the golden test checks exactly that.)
//!
//! **Phone numbers** (datamill's addition, off by default): an optional `+` country code of 1-3
//! digits, an optional area code in parentheses, then 2 to 5 groups of 2-4 digits separated by
//! single spaces, `-` or `.`; the whole match must hold 9 to 15 digits (E.164's maximum), must
//! not touch a letter, digit, `_`, `+`, `.`, `-` or `/` on either side (so version strings,
//! paths and longer numbers are left alone), and is left alone when it looks like a dotted IPv4
//! address (four groups of at most 3 digits joined by `.`) or an ISO date (`2024-01-31`).
//!
//! Counters (in stats): `emails_replaced`, `ips_replaced`, `phones_replaced`.
//!
//! Parameters: `remove_emails` (default `true`), `remove_ips` (default `true`),
//! `only_remove_public_ips` (default `true`), `email_replacement` (a string or a non-empty
//! list; default `["email@example.com", "firstname.lastname@example.org"]`), `ip_replacement`
//! (default datatrove's six addresses `22.214.171.124`, `126.96.36.199`, `188.8.131.52`,
//! `184.108.40.206`, `220.127.116.11`, `18.104.22.168`), `remove_phones` (default `false`),
//! `phone_replacement` (default `["+1-202-555-0100", "+1-202-555-0143"]`, numbers reserved for
//! fiction). The stage never drops documents.
//!
//! ```toml
//! [[stage]]
//! type = "pii"
//!
//! [[stage]]
//! type = "pii"
//! email_replacement = "<EMAIL>"
//! ip_replacement = ["<IP>"]
//! only_remove_public_ips = false
//! remove_phones = true
//! phone_replacement = "<PHONE>"
//! ```

use crate::annotate::language::OneOrMany;
use crate::{BuildCx, StageSpec, Step};
use datamill_core::{Doc, Stage, StageCx, StageError, Verdict};
use regex::Regex;
use serde::Deserialize;

/// datatrove's e-mail regex without its leading `\b` (checked by hand with Python's rules).
const EMAIL_RE: &str = concat!(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:[",
    r"A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[",
    r"01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)\])",
);

/// datatrove's IPv4 regex.
const IP_RE: &str =
    r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)";

/// datamill's phone regex (see the module doc; context is checked by hand).
const PHONE_RE: &str =
    r"(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{2,4}(?:[ .-][0-9]{2,4}){1,4}";

fn default_true() -> bool {
    true
}

/// The `pii` stage's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pii {
    /// Replace e-mail addresses.
    #[serde(default = "default_true")]
    pub remove_emails: bool,
    /// Replace IPv4 addresses.
    #[serde(default = "default_true")]
    pub remove_ips: bool,
    /// Only replace public IPv4 addresses.
    #[serde(default = "default_true")]
    pub only_remove_public_ips: bool,
    /// E-mail replacements, used in a circle.
    pub email_replacement: Option<OneOrMany>,
    /// IP replacements, used in a circle.
    pub ip_replacement: Option<OneOrMany>,
    /// Replace phone numbers too.
    #[serde(default)]
    pub remove_phones: bool,
    /// Phone replacements, used in a circle.
    pub phone_replacement: Option<OneOrMany>,
}

fn replacements(
    param: &str,
    given: &Option<OneOrMany>,
    default: &[&str],
) -> Result<Vec<String>, StageError> {
    let v = match given {
        Some(g) => g.to_vec(),
        None => default.iter().map(|s| s.to_string()).collect(),
    };
    if v.is_empty() {
        return Err(StageError::config(
            param,
            "needs at least one replacement string",
        ));
    }
    Ok(v)
}

impl StageSpec for Pii {
    fn build(&self, _: &BuildCx) -> Result<Step, StageError> {
        let stage = PiiStage {
            emails: self
                .remove_emails
                .then(|| Regex::new(EMAIL_RE).expect("valid regex")),
            ips: self
                .remove_ips
                .then(|| Regex::new(IP_RE).expect("valid regex")),
            phones: self
                .remove_phones
                .then(|| Regex::new(PHONE_RE).expect("valid regex")),
            only_public: self.only_remove_public_ips,
            email_rep: replacements(
                "email_replacement",
                &self.email_replacement,
                &["email@example.com", "firstname.lastname@example.org"],
            )?,
            ip_rep: replacements(
                "ip_replacement",
                &self.ip_replacement,
                &[
                    "22.214.171.124",
                    "126.96.36.199",
                    "188.8.131.52",
                    "184.108.40.206",
                    "220.127.116.11",
                    "18.104.22.168",
                ],
            )?,
            phone_rep: replacements(
                "phone_replacement",
                &self.phone_replacement,
                &["+1-202-555-0100", "+1-202-555-0143"],
            )?,
            word: Regex::new(r"^[\p{L}\p{N}_]$").expect("valid regex"),
        };
        Ok(Step::Map(Box::new(stage)))
    }
}

/// The built `pii` stage.
pub struct PiiStage {
    emails: Option<Regex>,
    ips: Option<Regex>,
    phones: Option<Regex>,
    only_public: bool,
    email_rep: Vec<String>,
    ip_rep: Vec<String>,
    phone_rep: Vec<String>,
    /// Python's Unicode `\w` for one character.
    word: Regex,
}

impl PiiStage {
    fn is_word(&self, c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphanumeric() || c == '_';
        }
        let mut b = [0u8; 4];
        self.word.is_match(c.encode_utf8(&mut b))
    }
}

/// `re.sub` with a rotating replacement list; `accept(text, start, end)` is both Python's `\b`
/// emulation (a rejected start makes the search resume one character later, as Python's scan
/// does) and datatrove's validator (a rejected match is kept and the search goes on after it).
/// Returns the new text if anything was replaced, and the count.
fn substitute(
    re: &Regex,
    text: &str,
    reps: &[String],
    starts_ok: impl Fn(&str, usize) -> bool,
    valid: impl Fn(&str, usize, usize) -> bool,
) -> (Option<String>, u64) {
    let mut out = String::new();
    let (mut pos, mut last, mut n) = (0usize, 0usize, 0u64);
    while pos <= text.len() {
        let Some(m) = re.find_at(text, pos) else {
            break;
        };
        if !starts_ok(text, m.start()) {
            pos = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        pos = m.end();
        if !valid(text, m.start(), m.end()) {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str(&reps[n as usize % reps.len()]);
        last = m.end();
        n += 1;
    }
    if n == 0 {
        return (None, 0);
    }
    out.push_str(&text[last..]);
    (Some(out), n)
}

/// Python 3.11.7's `ipaddress.ip_address(s)` succeeds and (when `public_only`) `.is_global`.
pub(crate) fn ip_ok(s: &str, public_only: bool) -> bool {
    let mut ip = 0u32;
    let mut parts = 0;
    for octet in s.split('.') {
        if octet.is_empty() || octet.len() > 3 || (octet.len() > 1 && octet.starts_with('0')) {
            return false;
        }
        let Ok(v) = octet.parse::<u32>() else {
            return false;
        };
        if v > 255 {
            return false;
        }
        ip = (ip << 8) | v;
        parts += 1;
    }
    if parts != 4 {
        return false;
    }
    if !public_only {
        return true;
    }
    const NON_GLOBAL: [(u32, u32); 15] = [
        (0x6440_0000, 10), // 100.64.0.0/10 (shared address space)
        (0x0000_0000, 8),
        (0x0a00_0000, 8),
        (0x7f00_0000, 8),
        (0xa9fe_0000, 16),
        (0xac10_0000, 12),
        (0xc000_0000, 29),
        (0xc000_00aa, 31),
        (0xc000_0200, 24),
        (0xc0a8_0000, 16),
        (0xc612_0000, 15),
        (0xc633_6400, 24),
        (0xcb00_7100, 24),
        (0xf000_0000, 4),
        (0xffff_ffff, 32),
    ];
    !NON_GLOBAL
        .iter()
        .any(|&(net, bits)| (ip ^ net) >> (32 - bits) == 0)
}

impl PiiStage {
    fn phone_ok(&self, text: &str, start: usize, end: usize) -> bool {
        let blocks = |c: char| self.is_word(c) || "+.-/".contains(c);
        if text[..start].chars().next_back().is_some_and(blocks)
            || text[end..].chars().next().is_some_and(blocks)
        {
            return false;
        }
        let m = &text[start..end];
        let digits = m.bytes().filter(u8::is_ascii_digit).count();
        if !(9..=15).contains(&digits) {
            return false;
        }
        let groups: Vec<&str> = m.split('.').collect();
        if groups.len() == 4
            && groups
                .iter()
                .all(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()))
        {
            return false;
        }
        let b = m.as_bytes();
        let is_date = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        !is_date
    }
}

impl Stage for PiiStage {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let mut text: Option<String> = None;
        if let Some(re) = &self.emails {
            let cur = text.as_deref().unwrap_or(doc.text());
            let starts_ok = |t: &str, s: usize| {
                // `\b` at s: the match's first character is ASCII; compare with the one before.
                let cur_word = t.as_bytes()[s].is_ascii_alphanumeric() || t.as_bytes()[s] == b'_';
                let prev_word = t[..s].chars().next_back().is_some_and(|c| self.is_word(c));
                cur_word != prev_word
            };
            let (new, n) = substitute(re, cur, &self.email_rep, starts_ok, |_, _, _| true);
            if let Some(new) = new {
                cx.count("emails_replaced", n);
                text = Some(new);
            }
        }
        if let Some(re) = &self.ips {
            let cur = text.as_deref().unwrap_or(doc.text());
            let valid = |t: &str, s: usize, e: usize| ip_ok(&t[s..e], self.only_public);
            let (new, n) = substitute(re, cur, &self.ip_rep, |_, _| true, valid);
            if let Some(new) = new {
                cx.count("ips_replaced", n);
                text = Some(new);
            }
        }
        if let Some(re) = &self.phones {
            let cur = text.as_deref().unwrap_or(doc.text());
            let valid = |t: &str, s: usize, e: usize| self.phone_ok(t, s, e);
            let (new, n) = substitute(re, cur, &self.phone_rep, |_, _| true, valid);
            if let Some(new) = new {
                cx.count("phones_replaced", n);
                text = Some(new);
            }
        }
        if let Some(t) = text {
            doc.set_text(t);
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn stage(src: &str) -> Box<dyn Stage> {
        let c: Pii = toml::from_str(src).unwrap();
        match c.build(&BuildCx::default()).unwrap() {
            Step::Map(s) => s,
            Step::Global(_) => unreachable!(),
        }
    }

    fn run(s: &dyn Stage, text: &str) -> (String, Vec<(&'static str, u64)>) {
        let mut d = Doc::new("x", text);
        let mut cx = StageCx::default();
        assert_eq!(s.process(&mut d, &mut cx).unwrap(), Verdict::Keep);
        (d.text().to_string(), cx.take_counters())
    }

    #[test]
    fn emails_and_ips_rotate_per_document() {
        let s = stage("");
        let (t, c) = run(
            &*s,
            "Write to a.b@c.org, x@y.io or z@w.net; server 8.8.8.8, lan 192.168.1.1, 1.1.1.1.",
        );
        assert_eq!(
            t,
            "Write to email@example.com, firstname.lastname@example.org or email@example.com; \
             server 22.214.171.124, lan 192.168.1.1, 126.96.36.199."
        );
        assert_eq!(c, vec![("emails_replaced", 3), ("ips_replaced", 2)]);
        // The circle restarts in every document.
        assert_eq!(run(&*s, "me@x.org").0, "email@example.com");
    }

    #[test]
    fn ip_validation_is_python_311s() {
        assert!(ip_ok("8.8.8.8", true));
        assert!(!ip_ok("010.1.1.1", false)); // leading zeros are refused by ipaddress
        assert!(ip_ok("0.1.1.1", false));
        assert!(!ip_ok("0.1.1.1", true));
        assert!(!ip_ok("100.64.0.1", true));
        assert!(ip_ok("100.128.0.1", true));
        assert!(!ip_ok("172.31.255.255", true));
        assert!(ip_ok("172.32.0.1", true));
        assert!(!ip_ok("192.0.0.7", true));
        assert!(ip_ok("192.0.0.8", true));
        assert!(!ip_ok("192.0.0.171", true));
        assert!(ip_ok("224.0.0.1", true)); // multicast is "global" in 3.11.7
        assert!(!ip_ok("250.1.1.1", true));
        let s = stage("");
        // No \b around IPs in datatrove's regex: digits around are part of nothing.
        assert_eq!(run(&*s, "v1234.5.6.7890").0, "v122.214.171.12490");
        assert_eq!(run(&*s, "256.1.1.1").0, "222.214.171.124"); // 56.1.1.1 matches
    }

    #[test]
    fn email_word_boundary_is_pythons() {
        let s = stage("remove_ips = false");
        // `\b` fails between two word characters (é is a word char in Python).
        assert_eq!(run(&*s, "éa@b.com").0, "éa@b.com");
        assert_eq!(run(&*s, "é a@b.com").0, "é email@example.com");
        // A combining mark is not a word character in Python: boundary holds.
        assert_eq!(run(&*s, "e\u{301}a@b.com").0, "e\u{301}email@example.com");
        // Punctuation start: `\b` needs a word char before it.
        assert_eq!(run(&*s, "x-a@b.com").0, "email@example.com");
        assert_eq!(run(&*s, " -a@b.com").0, " -email@example.com");
        assert_eq!(run(&*s, "user@[10.0.0.1]").0, "email@example.com");
    }

    #[test]
    fn phones_are_optional_and_conservative() {
        let off = stage("");
        assert_eq!(run(&*off, "call +1 415 555 2671").0, "call +1 415 555 2671");
        let s = stage(
            "remove_phones = true\nphone_replacement = \"<P>\"\nonly_remove_public_ips = true",
        );
        let (t, c) = run(
            &*s,
            "call +1 415 555 2671, (030) 1234-5678 or 06.12.34.56.78; v1.2.3, 2024-01-31, 10.0.0.12 id 123456789012345678",
        );
        assert_eq!(
            t,
            "call <P>, <P> or <P>; v1.2.3, 2024-01-31, 10.0.0.12 id 123456789012345678"
        );
        assert_eq!(c, vec![("phones_replaced", 3)]);
    }

    #[test]
    fn bad_parameters() {
        let c: Pii = toml::from_str("email_replacement = []").unwrap();
        let e = c.build(&BuildCx::default()).err().unwrap();
        assert!(e.to_string().contains("email_replacement"), "{e}");
        assert!(toml::from_str::<Pii>("remove_email = true").is_err());
    }

    /// Byte-for-byte parity with datatrove 0.10.1's `PIIFormatter` (a fresh one per document) on
    /// the en_prose and code samples and hand-made edge cases; see `tests/golden/pii/README.md`.
    #[test]
    fn golden_datatrove_pii() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/pii/");
        let golden = std::fs::read_to_string(format!("{dir}pii_golden.jsonl")).unwrap();
        let mut expected: HashMap<(String, String), serde_json::Value> = HashMap::new();
        for l in golden.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let key = (
                v["file"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
            );
            expected.insert(key, v);
        }
        let s = stage("");
        let inputs = [
            (
                "en_prose_sample.jsonl",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/data/samples/en_prose_sample.jsonl"
                ),
            ),
            (
                "code_sample.jsonl",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/data/samples/code_sample.jsonl"
                ),
            ),
            (
                "pii_cases.jsonl",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/golden/pii/pii_cases.jsonl"
                ),
            ),
        ];
        let (mut docs, mut changed, mut emails, mut ips) = (0, 0, 0, 0);
        for (name, path) in inputs {
            let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            for line in src.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let id = v["id"].as_str().unwrap().to_string();
                let text = v["text"].as_str().unwrap();
                let mut doc = Doc::new(id.clone(), text);
                let mut cx = StageCx::default();
                s.process(&mut doc, &mut cx).unwrap();
                let g = &expected[&(name.to_string(), id.clone())];
                let want = g["text"].as_str().unwrap_or(text);
                assert_eq!(doc.text(), want, "{name} {id}");
                let counters: HashMap<_, _> = cx.take_counters().into_iter().collect();
                assert_eq!(
                    counters.get("emails_replaced").copied().unwrap_or(0),
                    g["emails"].as_u64().unwrap(),
                    "{name} {id}"
                );
                assert_eq!(
                    counters.get("ips_replaced").copied().unwrap_or(0),
                    g["ips"].as_u64().unwrap(),
                    "{name} {id}"
                );
                docs += 1;
                changed += usize::from(doc.text() != text);
                emails += g["emails"].as_u64().unwrap();
                ips += g["ips"].as_u64().unwrap();
            }
        }
        assert_eq!(docs, expected.len());
        assert!(
            changed > 20 && emails > 20 && ips > 5,
            "{changed} {emails} {ips}"
        );
    }
}
