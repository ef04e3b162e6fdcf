//! A small little-endian byte codec for the state a global stage's decision hands to its
//! transform ([`Decider::finish`](crate::Decider::finish) →
//! [`GlobalStage::transform`](crate::GlobalStage::transform)) and for the notes a transform
//! leaves for its report. The executor stores these bytes without knowing what they mean;
//! floats travel as their exact bits.
//!
//! ```
//! use datamill_core::codec::{Dec, Enc};
//! let mut e = Enc::default();
//! e.u64(7);
//! e.f64(0.1);
//! e.str("ok");
//! let bytes = e.finish();
//! let mut d = Dec::new(&bytes, "example");
//! assert_eq!((d.u64().unwrap(), d.f64().unwrap(), d.str().unwrap()), (7, 0.1, "ok".into()));
//! d.end().unwrap();
//! ```

use crate::error::StageError;

/// Appends values to a byte buffer.
#[derive(Clone, Debug, Default)]
pub struct Enc(Vec<u8>);

impl Enc {
    /// Appends a byte.
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    /// Appends a `u16`.
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// Appends an `f64` (its bits).
    pub fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    /// Appends a length (as `u64`).
    pub fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }
    /// Appends bytes, prefixed with their length.
    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
    /// Appends a string, prefixed with its length.
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    /// The encoded bytes.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Reads values back in the order they were appended; every read checks the length, so a
/// truncated or corrupt buffer is an error naming `what`, never a panic.
#[derive(Clone, Debug)]
pub struct Dec<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Dec<'a> {
    /// Reads `b`; `what` names the data in errors (e.g. `"line_dedup decision"`).
    pub fn new(b: &'a [u8], what: &'static str) -> Dec<'a> {
        Dec { b, what }
    }

    fn corrupt(&self) -> StageError {
        StageError::Other(format!("{}: corrupt or truncated data", self.what))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], StageError> {
        if self.b.len() < n {
            return Err(self.corrupt());
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }

    /// Reads a byte.
    pub fn u8(&mut self) -> Result<u8, StageError> {
        Ok(self.take(1)?[0])
    }
    /// Reads a `u16`.
    pub fn u16(&mut self) -> Result<u16, StageError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    /// Reads a `u32`.
    pub fn u32(&mut self) -> Result<u32, StageError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64, StageError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// Reads an `f64`.
    pub fn f64(&mut self) -> Result<f64, StageError> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// Reads a length written by [`Enc::len`], checked against the bytes left (each item
    /// takes at least `min_item` bytes), so a corrupt length cannot make a caller allocate
    /// without bound.
    pub fn len(&mut self, min_item: usize) -> Result<usize, StageError> {
        let n = self.u64()?;
        if n > (self.b.len() / min_item.max(1)) as u64 {
            return Err(self.corrupt());
        }
        Ok(n as usize)
    }
    /// Reads bytes written by [`Enc::bytes`].
    pub fn bytes(&mut self) -> Result<&'a [u8], StageError> {
        let n = self.len(1)?;
        self.take(n)
    }
    /// Reads a string written by [`Enc::str`].
    pub fn str(&mut self) -> Result<String, StageError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| self.corrupt())
    }
    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }
    /// Checks that every byte has been read.
    pub fn end(self) -> Result<(), StageError> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(self.corrupt())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation_is_an_error() {
        let mut e = Enc::default();
        e.u8(1);
        e.u16(2);
        e.u32(3);
        e.f64(f64::NAN);
        e.bytes(b"xy");
        e.len(2);
        let b = e.finish();
        let mut d = Dec::new(&b, "t");
        assert_eq!(d.u8().unwrap(), 1);
        assert_eq!(d.u16().unwrap(), 2);
        assert_eq!(d.u32().unwrap(), 3);
        assert!(d.f64().unwrap().is_nan());
        assert_eq!(d.bytes().unwrap(), b"xy");
        // A length larger than what is left is refused.
        assert!(d.clone().len(1).is_err());
        assert_eq!(d.u64().unwrap(), 2);
        d.end().unwrap();
        let mut d = Dec::new(&b[..5], "t");
        d.u8().unwrap();
        d.u16().unwrap();
        let e = d.u32().unwrap_err();
        assert!(e.to_string().contains("t: corrupt"), "{e}");
    }
}
