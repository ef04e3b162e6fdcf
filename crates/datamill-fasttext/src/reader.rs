//! A bounds-checked little-endian cursor over the model bytes.

use crate::error::FormatError;

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn truncated(&self, what: &'static str, needed: u64) -> FormatError {
        FormatError::Truncated {
            what,
            offset: self.pos,
            needed,
            available: self.remaining(),
        }
    }

    pub(crate) fn invalid(&self, what: &'static str, detail: impl Into<String>) -> FormatError {
        FormatError::Invalid {
            what,
            offset: self.pos,
            detail: detail.into(),
        }
    }

    /// Takes `n` bytes, where `n` may come from an untrusted header (`u64` to avoid overflow).
    pub(crate) fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], FormatError> {
        if n > self.remaining() as u64 {
            return Err(self.truncated(what, n));
        }
        let n = n as usize;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], FormatError> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, FormatError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A C++ `bool` written as one byte.
    pub(crate) fn bool(&mut self, what: &'static str) -> Result<bool, FormatError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => {
                self.pos -= 1;
                Err(self.invalid(what, format!("boolean byte is {b}, expected 0 or 1")))
            }
        }
    }

    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32, FormatError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, FormatError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn f64(&mut self, what: &'static str) -> Result<f64, FormatError> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }

    /// `n` little-endian `f32`s; checks the length before allocating.
    pub(crate) fn f32s(&mut self, n: u64, what: &'static str) -> Result<Vec<f32>, FormatError> {
        let bytes = n
            .checked_mul(4)
            .ok_or_else(|| self.invalid(what, format!("{n} floats overflow")))?;
        let s = self.take(bytes, what)?;
        Ok(s.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// A NUL-terminated byte string (the NUL is consumed, not returned).
    pub(crate) fn cstr(&mut self, what: &'static str) -> Result<&'a [u8], FormatError> {
        let rest = &self.buf[self.pos..];
        match memchr::memchr(0, rest) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(FormatError::Truncated {
                what,
                offset: self.pos,
                needed: rest.len() as u64 + 1,
                available: rest.len(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scalars_and_reports_truncation() {
        let bytes = [1u8, 0, 0, 0, b'h', b'i', 0, 7];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.i32("a").unwrap(), 1);
        assert_eq!(r.cstr("w").unwrap(), b"hi");
        assert!(matches!(r.bool("b"), Err(FormatError::Invalid { .. })));
        assert_eq!(r.u8("c").unwrap(), 7);
        assert!(matches!(
            r.i64("d"),
            Err(FormatError::Truncated {
                needed: 8,
                available: 0,
                ..
            })
        ));
        assert!(matches!(r.cstr("w"), Err(FormatError::Truncated { .. })));
        let mut r = Reader::new(&bytes);
        assert!(r.f32s(u64::MAX, "f").is_err());
        assert!(r.take(9, "t").is_err());
    }
}
