//! numpy's legacy global generator, as far as DSIR's `resample` uses it:
//! `np.random.seed(int)` (MT19937 `init_genrand`) and `np.random.gumbel(size=n)`
//! (`random_gumbel` on `next_double`, numpy `random/src/distributions/distributions.c`).

/// The Mersenne Twister MT19937 with numpy's legacy integer seeding.
pub struct Mt19937 {
    mt: [u32; 624],
    idx: usize,
}

impl Mt19937 {
    /// `np.random.seed(seed)` for an integer seed in `0..2^32`.
    pub fn new(seed: u32) -> Mt19937 {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1812433253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { mt, idx: 624 }
    }

    fn refill(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..624 {
            let y = (self.mt[i] & UPPER) | (self.mt[(i + 1) % 624] & LOWER);
            let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= MATRIX_A;
            }
            self.mt[i] = v;
        }
        self.idx = 0;
    }

    /// The next 32-bit output (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.idx >= 624 {
            self.refill();
        }
        let mut y = self.mt[self.idx];
        self.idx += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A double in [0, 1) with 53 random bits (`mt19937_next_double`).
    pub fn next_f64(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67108864.0 + b) / 9007199254740992.0
    }

    /// A standard Gumbel variate (`random_gumbel(loc=0, scale=1)`): `-ln(-ln(1 - U))`,
    /// redrawing when `1 - U == 1`.
    pub fn gumbel(&mut self) -> f64 {
        loop {
            let u = 1.0 - self.next_f64();
            if u < 1.0 {
                return -(-u.ln()).ln();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_mt19937() {
        // The first outputs of init_genrand(5489), the reference implementation's default.
        let mut r = Mt19937::new(5489);
        assert_eq!(r.next_u32(), 3499211612);
        assert_eq!(r.next_u32(), 581869302);
        let mut r = Mt19937::new(5489);
        for _ in 0..9999 {
            r.next_u32();
        }
        assert_eq!(r.next_u32(), 4123659995);
    }
}
