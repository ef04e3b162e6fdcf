//! Text normalization and word n-gram shingling.

use crate::dedup::text::datatrove as dt;
use xxhash_rust::xxh3::xxh3_64;

/// How a text becomes words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalize {
    /// Lowercase; words are maximal runs of alphanumeric characters or `_` (Python's `\w+`).
    Words,
    /// Words are the whitespace-separated pieces of the raw text (case and punctuation kept).
    Whitespace,
    /// datatrove's `simplify_text` (lowercase, numbers → `0`, its punctuation → space,
    /// whitespace collapsed, diacritics removed), then split on spaces.
    Simplify,
    /// datatrove 0.10.1 exactly: `simplify_text`, then spaCy's blank-English tokenizer.
    Datatrove,
    /// As [`Normalize::Datatrove`], the n-grams hashed with xxh32 (`HashConfig(precision=32)`).
    Datatrove32,
}

/// Reusable buffers for [`shingles`].
#[derive(Default)]
pub struct Scratch {
    buf: String,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

/// Appends the 64-bit hashes of the word `n`-grams of `text` (words joined by one space) to
/// `out`, in text order, duplicates included. A text with fewer than `n` words gives none.
/// Hash: xxh3-64 of the UTF-8 n-gram, except [`Normalize::Datatrove`]: xxh64 (seed 0), as
/// datatrove's default `HashConfig` does.
pub fn shingles(text: &str, norm: Normalize, n: usize, s: &mut Scratch, out: &mut Vec<u64>) {
    s.buf.clear();
    s.starts.clear();
    s.ends.clear();
    match norm {
        Normalize::Words => words_lower(text, s),
        Normalize::Whitespace => {
            for w in text.split_whitespace() {
                if !s.buf.is_empty() {
                    s.buf.push(' ');
                }
                s.starts.push(s.buf.len());
                s.buf.push_str(w);
                s.ends.push(s.buf.len());
            }
        }
        Normalize::Simplify => {
            s.buf = dt::simplify_text(text);
            let mut start = 0;
            for (i, b) in s.buf.bytes().enumerate() {
                if b == b' ' {
                    s.starts.push(start);
                    s.ends.push(i);
                    start = i + 1;
                }
            }
            if start < s.buf.len() {
                s.starts.push(start);
                s.ends.push(s.buf.len());
            }
        }
        Normalize::Datatrove | Normalize::Datatrove32 => {
            let simple = dt::simplify_text(text);
            let words = datamill_filters::tokenizer::Tokenizer::english().words(&simple);
            if words.len() < n {
                return;
            }
            out.reserve(words.len() + 1 - n);
            for w in words.windows(n) {
                s.buf.clear();
                for (k, t) in w.iter().enumerate() {
                    if k > 0 {
                        s.buf.push(' ');
                    }
                    s.buf.push_str(t);
                }
                out.push(if norm == Normalize::Datatrove32 {
                    u64::from(xxhash_rust::xxh32::xxh32(s.buf.as_bytes(), 0))
                } else {
                    xxhash_rust::xxh64::xxh64(s.buf.as_bytes(), 0)
                });
            }
            return;
        }
    }
    let k = s.starts.len();
    if k < n || n == 0 {
        return;
    }
    out.reserve(k + 1 - n);
    let bytes = s.buf.as_bytes();
    for i in 0..=k - n {
        out.push(xxh3_64(&bytes[s.starts[i]..s.ends[i + n - 1]]));
    }
}

/// Lowercased `\w+` words joined by single spaces into `s.buf`.
fn words_lower(text: &str, s: &mut Scratch) {
    let mut in_word = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (is_word, len) = if b.is_ascii() {
            (b.is_ascii_alphanumeric() || b == b'_', 1)
        } else {
            let c = text[i..].chars().next().expect("char boundary");
            (c.is_alphanumeric(), c.len_utf8())
        };
        if is_word {
            if !in_word {
                if !s.buf.is_empty() {
                    s.buf.push(' ');
                }
                s.starts.push(s.buf.len());
                in_word = true;
            }
            if len == 1 {
                s.buf.push(b.to_ascii_lowercase() as char);
            } else {
                let c = text[i..].chars().next().expect("char boundary");
                s.buf.extend(c.to_lowercase());
            }
        } else if in_word {
            s.ends.push(s.buf.len());
            in_word = false;
        }
        i += len;
    }
    if in_word {
        s.ends.push(s.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str, norm: Normalize) -> String {
        let mut s = Scratch::default();
        let mut out = Vec::new();
        shingles(t, norm, 1, &mut s, &mut out);
        s.buf
    }

    #[test]
    fn word_normalizations() {
        assert_eq!(
            words("Hello, WORLD!  don't_stop Ünï", Normalize::Words),
            "hello world don t_stop ünï"
        );
        assert_eq!(
            words(" Hello,  WORLD! ", Normalize::Whitespace),
            "Hello, WORLD!"
        );
    }

    #[test]
    fn shingles_hash_joined_ngrams() {
        let mut s = Scratch::default();
        let mut out = Vec::new();
        shingles("A b, c D", Normalize::Words, 2, &mut s, &mut out);
        assert_eq!(out, [xxh3_64(b"a b"), xxh3_64(b"b c"), xxh3_64(b"c d")]);
        out.clear();
        shingles("a b", Normalize::Words, 3, &mut s, &mut out);
        assert!(out.is_empty());
    }
}
