//! Sizes in bytes as pipeline files and the command line write them.

use serde::{Deserialize, Deserializer, Serialize};

/// A size in bytes, written as an integer or a string such as `"256MB"`, `"64 MiB"`, `"1G"`
/// (`unit_size`, `--memory`, the dedup stages' `memory`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `"256MB"`, `"64MiB"`, `"1g"`, `"1000"`; decimal units are powers of 1000,
    /// binary units (`KiB`, `MiB`, `GiB`) and bare letters (`K`, `M`, `G`) powers of 1024.
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: f64 = num.parse().map_err(|_| {
            format!("`{s}` is not a size (examples: 1000, \"64KB\", \"256MB\", \"1GiB\")")
        })?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            "k" | "kib" => 1 << 10,
            "m" | "mib" => 1 << 20,
            "g" | "gib" => 1 << 30,
            "t" | "tib" => 1 << 40,
            u => {
                return Err(format!(
                    "unknown size unit `{u}` in `{s}` (allowed: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
                ));
            }
        };
        Ok(ByteSize((num * mult as f64) as u64))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => ByteSize::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(ByteSize::parse("256MB").unwrap(), ByteSize(256_000_000));
        assert_eq!(ByteSize::parse("64 MiB").unwrap(), ByteSize(64 << 20));
        assert_eq!(ByteSize::parse("1.5k").unwrap(), ByteSize(1536));
        assert!(ByteSize::parse("MB").is_err());
        let e = ByteSize::parse("3 parsecs").unwrap_err();
        assert!(e.contains("unknown size unit") && e.contains("MiB"), "{e}");
    }
}
