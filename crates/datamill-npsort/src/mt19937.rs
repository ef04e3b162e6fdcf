//! numpy's legacy generator (`np.random.seed(s)`, `np.random.RandomState(s)`): the Mersenne
//! Twister MT19937 (Matsumoto & Nishimura 1998) seeded with `init_genrand` from an integer
//! seed, and the draws of numpy's `random/src/legacy` and `distributions.c` that datamill
//! reproduces bit for bit: `randint`/`choice` (masked rejection), `random_sample` (53-bit
//! doubles) and `gumbel`.
//!
//! Users: the scaling bootstrap (`np.random.choice(n, n)` resamples, as Epoch AI's), DSIR's
//! Gumbel top-k (data-selection's `np.random.gumbel`), MinHash's permutation parameters
//! (datatrove's `RandomState(seed).randint(1, 2^61 - 1, dtype=uint64)`).

/// MT19937 with numpy's legacy integer seeding.
#[derive(Clone)]
pub struct Mt19937 {
    mt: [u32; 624],
    idx: usize,
}

impl Mt19937 {
    /// `np.random.seed(seed)` / `RandomState(seed)` for an integer seed in `0..2^32`.
    pub fn new(seed: u32) -> Mt19937 {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { mt, idx: 624 }
    }

    /// Regenerates the 624-word state.
    fn twist(&mut self) {
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
            self.twist();
        }
        let mut y = self.mt[self.idx];
        self.idx += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// The next 64-bit output: two 32-bit outputs, the first in the high half (numpy's
    /// `mt19937_next64`).
    pub fn next_u64(&mut self) -> u64 {
        let hi = self.next_u32() as u64;
        (hi << 32) | self.next_u32() as u64
    }

    /// A double in `[0, 1)` with 53 random bits (`mt19937_next_double`, `random_sample`).
    pub fn next_f64(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67108864.0 + b) / 9007199254740992.0
    }

    /// A uniform integer in `[0, n)` by numpy's legacy masked rejection sampling on 32-bit
    /// outputs: `randint(0, n)` and `choice(n)` for `n ≤ 2^32`.
    pub fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        let max = n - 1;
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `randint(low, high, dtype=np.uint64)` for a range `high - low` wider than `2^32`:
    /// masked rejection sampling on 64-bit outputs (numpy's `random_bounded_uint64` without
    /// the 32-bit shortcut, which only narrower ranges take).
    pub fn randint_u64(&mut self, low: u64, high: u64) -> u64 {
        let rng = high - 1 - low;
        debug_assert!(
            rng > u64::from(u32::MAX),
            "narrow ranges draw 32-bit words in numpy"
        );
        let mask = u64::MAX >> rng.leading_zeros();
        loop {
            let v = self.next_u64() & mask;
            if v <= rng {
                return low + v;
            }
        }
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

    #[test]
    fn matches_numpy_seed_42() {
        // numpy: np.random.seed(42); np.random.randint(0, 2**32, 3, dtype=np.uint64)
        let mut r = Mt19937::new(42);
        assert_eq!(r.next_u32(), 1608637542);
        assert_eq!(r.next_u32(), 3421126067);
        assert_eq!(r.next_u32(), 4083286876);
        // numpy: np.random.seed(42); np.random.choice(np.arange(240), 10, replace=True)
        let mut r = Mt19937::new(42);
        let got: Vec<u32> = (0..10).map(|_| r.below(240)).collect();
        assert_eq!(got, vec![102, 179, 92, 14, 106, 71, 188, 20, 102, 121]);
    }
}
