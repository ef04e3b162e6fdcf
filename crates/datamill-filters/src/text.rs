//! `datatrove.utils.text` pieces the filters use: punctuation sets and word/sentence splitting.

use std::sync::OnceLock;

use crate::dt_text;
use crate::tokenizer::Tokenizer;

struct Sets {
    ascii_punct: [bool; 128],
    punct_set: Vec<char>,
    terminal: Vec<char>,
}

fn sets() -> &'static Sets {
    static S: OnceLock<Sets> = OnceLock::new();
    S.get_or_init(|| {
        let mut all: Vec<char> = dt_text::PUNCTUATION
            .chars()
            .chain(dt_text::TERMINAL_PUNCTUATION.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut ascii_punct = [false; 128];
        for &c in &all {
            if c.is_ascii() {
                ascii_punct[c as usize] = true;
            }
        }
        let mut terminal = dt_text::TERMINAL_PUNCTUATION.to_vec();
        terminal.sort_unstable();
        Sets {
            ascii_punct,
            punct_set: all,
            terminal,
        }
    })
}

/// `c in PUNCTUATION_SET` (`PUNCTUATION` ∪ `TERMINAL_PUNCTUATION`, 281 code points, including
/// ASCII/Latin-1 control characters other than tab and newline).
#[inline]
pub fn is_punctuation(c: char) -> bool {
    let s = sets();
    if c.is_ascii() {
        s.ascii_punct[c as usize]
    } else {
        s.punct_set.binary_search(&c).is_ok()
    }
}

/// `c in TERMINAL_PUNCTUATION` (159 sentence-final marks across scripts).
#[inline]
pub fn is_terminal_punctuation(c: char) -> bool {
    sets().terminal.binary_search(&c).is_ok()
}

/// `split_into_words(text, "en")` (other languages: [`crate::lang::word_tokenizer`]): spaCy English tokens, stripped, empty ones dropped.
pub fn split_into_words(text: &str) -> Vec<&str> {
    Tokenizer::english().words(text)
}

/// `len(split_into_sentences(text, "en"))`: the sentencizer's sentence count (at least 1).
pub fn count_sentences(text: &str) -> usize {
    Tokenizer::english().sentence_count(text)
}

/// `split_into_sentences(text, "en")`: the text cut after each sentence but the last.
pub fn split_into_sentences(text: &str) -> Vec<&str> {
    Tokenizer::english().sentences(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_have_datatrove_sizes() {
        assert_eq!(dt_text::TERMINAL_PUNCTUATION.len(), 159);
        assert_eq!(sets().punct_set.len(), 281);
        assert!(
            is_punctuation('!')
                && is_punctuation('\x00')
                && !is_punctuation('\t')
                && !is_punctuation('\n')
        );
        assert!(is_punctuation('１') && is_punctuation('。') && !is_punctuation('a'));
        assert!(
            is_terminal_punctuation('.')
                && is_terminal_punctuation('।')
                && !is_terminal_punctuation('"')
        );
    }
}
