//! numpy's `Generator` as far as exact permutations need it: `np.random.default_rng(seed)`
//! (`SeedSequence` → `PCG64`) and `Generator.permutation(n)` / `shuffle`, bit for bit.
//!
//! * [`SeedSequence`] is numpy's entropy pool (`numpy/random/bit_generator.pyx`): the entropy
//!   (one integer or a list of them) is cut into 32-bit words, hashed into a pool of four words,
//!   and `generate_state` draws the generator's state from the pool.
//! * [`Pcg64`] is numpy's PCG64 (`pcg64.h`): the 128-bit LCG with the XSL-RR output, seeded from
//!   four 64-bit words of the seed sequence, with numpy's buffering of the upper half of a 64-bit
//!   draw for 32-bit requests.
//! * [`Pcg64::permutation`] is `Generator.permutation(n)`: `arange(n)` shuffled by Fisher–Yates
//!   from the end, each index drawn by `random_interval` (masked rejection on 32-bit draws while
//!   the bound fits in 32 bits).
//!
//! So `Pcg64::from_entropy(&[seed, a, b]).permutation(n)` equals
//! `np.random.default_rng([seed, a, b]).permutation(n)` (golden-tested against numpy 2.4.6).

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
const POOL_SIZE: usize = 4;

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut v = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    v = v.wrapping_mul(*hash_const);
    v ^ (v >> XSHIFT)
}

fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> XSHIFT)
}

/// numpy's `SeedSequence` (no spawn key), built from non-negative integer entropy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSequence {
    pool: [u32; POOL_SIZE],
}

impl SeedSequence {
    /// `SeedSequence(entropy)` for a list of non-negative integers (one integer = a list of
    /// one): each is cut into little-endian 32-bit words (0 gives one zero word), the words are
    /// concatenated and mixed into the pool.
    pub fn new(entropy: &[u64]) -> SeedSequence {
        let mut words: Vec<u32> = Vec::with_capacity(entropy.len() * 2);
        for &e in entropy {
            words.push(e as u32);
            if e >> 32 != 0 {
                words.push((e >> 32) as u32);
            }
        }
        let mut pool = [0u32; POOL_SIZE];
        let mut hc = INIT_A;
        for (i, p) in pool.iter_mut().enumerate() {
            *p = hashmix(words.get(i).copied().unwrap_or(0), &mut hc);
        }
        for src in 0..POOL_SIZE {
            for dst in 0..POOL_SIZE {
                if src != dst {
                    let h = hashmix(pool[src], &mut hc);
                    pool[dst] = mix(pool[dst], h);
                }
            }
        }
        for &w in words.iter().skip(POOL_SIZE) {
            for p in pool.iter_mut() {
                let h = hashmix(w, &mut hc);
                *p = mix(*p, h);
            }
        }
        SeedSequence { pool }
    }

    /// `generate_state(n, np.uint32)`.
    pub fn generate_state_u32(&self, n: usize) -> Vec<u32> {
        let mut hc = INIT_B;
        (0..n)
            .map(|i| {
                let mut v = self.pool[i % POOL_SIZE] ^ hc;
                hc = hc.wrapping_mul(MULT_B);
                v = v.wrapping_mul(hc);
                v ^ (v >> XSHIFT)
            })
            .collect()
    }

    /// `generate_state(n, np.uint64)`: pairs of 32-bit words, low word first.
    pub fn generate_state_u64(&self, n: usize) -> Vec<u64> {
        self.generate_state_u32(2 * n)
            .chunks(2)
            .map(|c| c[0] as u64 | (c[1] as u64) << 32)
            .collect()
    }
}

const PCG_MULT: u128 = 0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645;

/// numpy's PCG64 bit generator.
#[derive(Clone, Debug)]
pub struct Pcg64 {
    state: u128,
    inc: u128,
    buffered: Option<u32>,
}

impl Pcg64 {
    /// `PCG64(SeedSequence(..))`.
    pub fn from_seed_sequence(ss: &SeedSequence) -> Pcg64 {
        let v = ss.generate_state_u64(4);
        let initstate = (v[0] as u128) << 64 | v[1] as u128;
        let initseq = (v[2] as u128) << 64 | v[3] as u128;
        let mut g = Pcg64 {
            state: 0,
            inc: (initseq << 1) | 1,
            buffered: None,
        };
        g.step();
        g.state = g.state.wrapping_add(initstate);
        g.step();
        g
    }

    /// `np.random.default_rng(entropy)`'s bit generator (entropy: one or more integers).
    pub fn from_entropy(entropy: &[u64]) -> Pcg64 {
        Pcg64::from_seed_sequence(&SeedSequence::new(entropy))
    }

    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.inc);
    }

    /// The next 64-bit output (`random_raw`).
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let s = self.state;
        ((s >> 64) as u64 ^ s as u64).rotate_right((s >> 122) as u32)
    }

    /// The next 32-bit output: the low half of a 64-bit draw, then its high half.
    pub fn next_u32(&mut self) -> u32 {
        if let Some(v) = self.buffered.take() {
            return v;
        }
        let x = self.next_u64();
        self.buffered = Some((x >> 32) as u32);
        x as u32
    }

    /// A double in [0, 1) (`Generator.random()`): the top 53 bits of a 64-bit draw.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9007199254740992.0)
    }

    /// A uniform integer in `0..=max` (numpy's `random_interval`: masked rejection).
    pub fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        if max <= u32::MAX as u64 {
            loop {
                let v = (self.next_u32() as u64) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `Generator.shuffle(x)` for a one-dimensional array.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.interval(i as u64) as usize;
            x.swap(i, j);
        }
    }

    /// `Generator.permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<u64> {
        let mut v: Vec<u64> = (0..n as u64).collect();
        self.shuffle(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values printed by numpy 2.4.6 (see tests/golden/make_golden_random.py for the full set).
    #[test]
    fn seed_sequence_and_raw_draws() {
        assert_eq!(
            SeedSequence::new(&[0]).generate_state_u64(4),
            [
                15793235383387715774,
                12390638538380655177,
                2361836109651742017,
                3188717715514472916
            ]
        );
        let mut g = Pcg64::from_entropy(&[0]);
        assert_eq!(
            [g.next_u64(), g.next_u64(), g.next_u64()],
            [
                11749869230777074271,
                4976686463289251617,
                755828109848996024
            ]
        );
    }

    #[test]
    fn permutations() {
        assert_eq!(
            Pcg64::from_entropy(&[0]).permutation(10),
            [4, 6, 2, 7, 3, 5, 9, 0, 8, 1]
        );
        assert_eq!(
            Pcg64::from_entropy(&[1, 2, 3]).permutation(10),
            [9, 5, 6, 2, 4, 7, 1, 3, 8, 0]
        );
        assert_eq!(
            Pcg64::from_entropy(&[(1 << 40) + 5]).permutation(20),
            [
                12, 3, 7, 13, 18, 2, 9, 16, 17, 10, 1, 5, 6, 0, 19, 8, 14, 4, 15, 11
            ]
        );
    }
}
