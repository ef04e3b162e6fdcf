//! fastText 0.9.2's tokenization and hashing, shared by inference (this crate's dictionary)
//! and training (`datamill-learn`), so a model datamill trains addresses the rows datamill
//! reads:
//! * `readWord`'s separators and the `</s>` token a line ends with;
//! * `Dictionary::hash`: 32-bit FNV-1a that XORs each byte *sign-extended* (`int8_t`);
//! * `computeSubwords`: the char n-grams (`minn..=maxn` UTF-8 characters) of a word wrapped in
//!   `<` `>`, single characters at the boundaries skipped;
//! * `addWordNgrams`: word n-grams `h = h * 116049371 + hash` over hashes kept as `int32_t` and
//!   sign-extended to 64 bits.
//!
//! Callers take the hashes modulo their bucket count and add their row offset.

/// End-of-sentence token fastText emits for a newline.
pub const EOS: &[u8] = b"</s>";

/// Whether fastText's `readWord` treats `c` as a separator (space, `\t`, `\n`, `\v`, `\f`,
/// `\r`, NUL).
#[inline(always)]
pub fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c | 0)
}

/// fastText's `Dictionary::hash`: 32-bit FNV-1a over *signed* chars.
#[inline]
pub fn hash(bytes: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in bytes {
        h = fnv_step(h, b);
    }
    h
}

#[inline(always)]
fn fnv_step(h: u32, b: u8) -> u32 {
    (h ^ (b as i8 as i32 as u32)).wrapping_mul(16_777_619)
}

/// `computeSubwords` on a word already wrapped in `<` `>`: calls `f` with the hash of every
/// char n-gram of `minn..=maxn` UTF-8 characters, in fastText's order (by start, then length),
/// skipping the one-character n-grams `<` and `>`.
#[inline]
pub fn subword_hashes(word: &[u8], minn: usize, maxn: usize, mut f: impl FnMut(u32)) {
    let n = word.len();
    for i in 0..n {
        if word[i] & 0xC0 == 0x80 {
            continue;
        }
        let mut h: u32 = 2_166_136_261;
        let mut j = i;
        let mut len = 1usize;
        while j < n && len <= maxn {
            h = fnv_step(h, word[j]);
            j += 1;
            while j < n && word[j] & 0xC0 == 0x80 {
                h = fnv_step(h, word[j]);
                j += 1;
            }
            if len >= minn && !(len == 1 && (i == 0 || j == n)) {
                f(h);
            }
            len += 1;
        }
    }
}

/// `addWordNgrams`: calls `f` with the hash of every word n-gram of 2..=`n` words of a line
/// whose word hashes are `hashes`, in fastText's order (by start, then length).
#[inline]
pub fn word_ngram_hashes(hashes: &[i32], n: usize, mut f: impl FnMut(u64)) {
    for i in 0..hashes.len() {
        let mut h = hashes[i] as i64 as u64;
        for &hj in hashes.iter().take((i + n).min(hashes.len())).skip(i + 1) {
            h = h.wrapping_mul(116_049_371).wrapping_add(hj as i64 as u64);
            f(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_uses_signed_chars() {
        // Reference values computed with fastText 0.9.2's Dictionary::hash.
        assert_eq!(hash(b""), 2_166_136_261);
        assert_eq!(hash(b"a"), 0xe40c_292c);
        // For bytes >= 0x80 the signed-char quirk XORs 0xffffff80.. instead of 0x80..
        let plain = (2_166_136_261u32 ^ 0xc3).wrapping_mul(16_777_619);
        let quirk = (2_166_136_261u32 ^ 0xffff_ffc3).wrapping_mul(16_777_619);
        assert_eq!(hash(&[0xc3]), quirk);
        assert_ne!(plain, quirk);
    }

    #[test]
    fn subwords_skip_the_boundary_characters_and_count_utf8_characters() {
        let mut got = Vec::new();
        subword_hashes("<é>".as_bytes(), 1, 2, |h| got.push(h));
        // n-grams: "é" (1 char, inner), "<é", "é>" — not "<" or ">" alone.
        let want = [
            hash("<é".as_bytes()),
            hash("é".as_bytes()),
            hash("é>".as_bytes()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn word_ngrams_extend_left_to_right() {
        let hs = [1i32, -2, 3];
        let mut got = Vec::new();
        word_ngram_hashes(&hs, 3, |h| got.push(h));
        let step = |h: u64, x: i32| h.wrapping_mul(116_049_371).wrapping_add(x as i64 as u64);
        let h12 = step(1, -2);
        assert_eq!(got, vec![h12, step(h12, 3), step(-2i64 as u64, 3)]);
    }

    #[test]
    fn separators_match_fasttext_read_word() {
        for c in [b' ', b'\n', b'\r', b'\t', 0x0b, 0x0c, 0] {
            assert!(is_separator(c));
        }
        assert!(!is_separator(b'a'));
        assert!(!is_separator(0xa0));
    }
}
