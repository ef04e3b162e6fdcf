//! datamill-npsort: numerics that must match a reference (numpy, libstdc++) bit for bit.
//!
//! * [`std_sort`]: libstdc++'s `std::sort` (introsort + final insertion sort), the order fastText
//!   gives to equal-count vocabulary entries.
//! * [`np_argsort`]: numpy 2.4.6's `np.argsort(x)` (default `kind="quicksort"`) of a float64
//!   array on an x86-64 CPU with AVX-512 (numpy's `AVX512_SKX` dispatch target, found on Intel
//!   Skylake-SP and later and AMD Zen 4 and later): numpy hands the array to the vendored
//!   x86-simd-sort library (`avx512_argsort`: quicksort with a vectorized partition, 256-element
//!   bitonic key-index networks at the leaves, `std::sort` when the recursion gets too deep,
//!   `std::sort` with a NaN-last comparison when the array holds a NaN). This is what cleanlab's
//!   rankings go through. The argsort is not stable, and which of several equal keys comes first
//!   depends on those networks; the same call on an AVX2-only CPU (or another architecture) orders
//!   equal keys differently. The port below replays each vector instruction lane by lane (one
//!   8-lane register = `[T; 8]`), so equal keys come out in the AVX-512 order on any machine.
//!   Golden test: `tests/npsort_golden.rs` against numpy on this dispatch target.
//! * [`random`]: numpy's `default_rng` (SeedSequence + PCG64) and `Generator.permutation`, bit
//!   for bit (the mixer's epoch orders can be recomputed in numpy).
//! * [`np_sum`]: numpy's pairwise summation of float64, whose rounding `np.sum` / `np.mean`
//!   results carry (cleanlab's means, datatrove's score averages, data-selection's shares).
//! * [`np_dot`] / [`np_dot_sparse`]: numpy's float64 `np.dot` of two vectors as OpenBLAS's
//!   AVX-512 `ddot` kernel rounds it (data-selection's importance weights).
//! * [`Mt19937`]: numpy's legacy `RandomState` generator and the draws datamill replays
//!   (`randint`, `choice`, `random_sample`, `gumbel`): the scaling bootstrap, DSIR's Gumbel
//!   top-k, MinHash's permutation parameters.
//! * [`percentile`]: `np.percentile` (linear), to the last bit (numpy's `_lerp`).

mod dot;
pub mod random;
pub use dot::{np_dot, np_dot_sparse};

/// numpy's pairwise summation (`DOUBLE_pairwise_sum`), which `np.sum`, `np.mean` and row sums
/// of contiguous arrays use: a plain loop below 8 values, 8 partial sums up to 128, halves
/// above.
pub fn np_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        np_sum(&a[..n2]) + np_sum(&a[n2..])
    }
}

mod mt19937;
mod percentile;

pub use mt19937::Mt19937;
pub use percentile::percentile;

/// libstdc++ `std::sort(v.begin(), v.end(), less)`, element order included.
pub fn std_sort<T: Clone>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
    stdsort::sort(v, less)
}

mod stdsort {
    pub(super) fn sort<T: Clone>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
        let n = v.len();
        if n < 2 {
            return;
        }
        let lg = usize::BITS - 1 - n.leading_zeros();
        introsort_loop(v, 0, n, 2 * lg as usize, less);
        final_insertion_sort(v, 0, n, less);
    }

    const THRESHOLD: usize = 16;

    fn introsort_loop<T: Clone>(
        v: &mut [T],
        first: usize,
        mut last: usize,
        mut depth: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        while last - first > THRESHOLD {
            if depth == 0 {
                heap_sort(&mut v[first..last], less);
                return;
            }
            depth -= 1;
            let cut = partition_pivot(v, first, last, less);
            introsort_loop(v, cut, last, depth, less);
            last = cut;
        }
    }

    fn partition_pivot<T: Clone>(
        v: &mut [T],
        first: usize,
        last: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) -> usize {
        let mid = first + (last - first) / 2;
        move_median_to_first(v, first, first + 1, mid, last - 1, less);
        // __unguarded_partition(first + 1, last, first)
        let (mut lo, mut hi) = (first + 1, last);
        loop {
            while less(&v[lo], &v[first]) {
                lo += 1;
            }
            hi -= 1;
            while less(&v[first], &v[hi]) {
                hi -= 1;
            }
            if lo >= hi {
                return lo;
            }
            v.swap(lo, hi);
            lo += 1;
        }
    }

    fn move_median_to_first<T>(
        v: &mut [T],
        result: usize,
        a: usize,
        b: usize,
        c: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        let pick = if less(&v[a], &v[b]) {
            if less(&v[b], &v[c]) {
                b
            } else if less(&v[a], &v[c]) {
                c
            } else {
                a
            }
        } else if less(&v[a], &v[c]) {
            a
        } else if less(&v[b], &v[c]) {
            c
        } else {
            b
        };
        v.swap(result, pick);
    }

    fn final_insertion_sort<T: Clone>(
        v: &mut [T],
        first: usize,
        last: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        if last - first > THRESHOLD {
            insertion_sort(v, first, first + THRESHOLD, less);
            for i in first + THRESHOLD..last {
                unguarded_linear_insert(v, i, less);
            }
        } else {
            insertion_sort(v, first, last, less);
        }
    }

    fn insertion_sort<T: Clone>(
        v: &mut [T],
        first: usize,
        last: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        for i in first + 1..last {
            if less(&v[i], &v[first]) {
                let val = v[i].clone();
                for j in (first..i).rev() {
                    v[j + 1] = v[j].clone();
                }
                v[first] = val;
            } else {
                unguarded_linear_insert(v, i, less);
            }
        }
    }

    fn unguarded_linear_insert<T: Clone>(
        v: &mut [T],
        mut last: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        let val = v[last].clone();
        let mut next = last - 1;
        while less(&val, &v[next]) {
            v[last] = v[next].clone();
            last = next;
            next -= 1;
        }
        v[last] = val;
    }

    fn adjust_heap<T: Clone>(
        v: &mut [T],
        mut hole: usize,
        len: usize,
        value: T,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        let top = hole;
        let mut second = hole;
        while second < (len - 1) / 2 {
            second = 2 * (second + 1);
            if less(&v[second], &v[second - 1]) {
                second -= 1;
            }
            v[hole] = v[second].clone();
            hole = second;
        }
        if len & 1 == 0 && second == (len - 2) / 2 {
            second = 2 * (second + 1);
            v[hole] = v[second - 1].clone();
            hole = second - 1;
        }
        // __push_heap
        while hole > top {
            let parent = (hole - 1) / 2;
            if !less(&v[parent], &value) {
                break;
            }
            v[hole] = v[parent].clone();
            hole = parent;
        }
        v[hole] = value;
    }

    fn heap_sort<T: Clone>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
        let len = v.len();
        if len >= 2 {
            let mut parent = (len - 2) / 2;
            loop {
                let value = v[parent].clone();
                adjust_heap(v, parent, len, value, less);
                if parent == 0 {
                    break;
                }
                parent -= 1;
            }
        }
        let mut last = len;
        while last > 1 {
            last -= 1;
            let value = v[last].clone();
            v[last] = v[0].clone();
            adjust_heap(v, 0, last, value, less);
        }
    }
}

/// numpy's `np.argsort(keys)` for float64 on an AVX-512 x86-64 CPU (see the module docs): the
/// indices that sort `keys` ascending, NaNs last, equal keys in numpy's order there.
pub fn np_argsort(keys: &[f64]) -> Vec<usize> {
    let n = keys.len();
    let mut arg: Vec<usize> = (0..n).collect();
    if n <= 1 {
        return arg;
    }
    // (x86-simd-sort pads its registers with +inf keys, so an +inf key could trade places
    // with padding; numpy's result is then unreliable: datamill uses `std::sort` order.)
    if keys.iter().any(|k| k.is_nan() || *k == f64::INFINITY) {
        // std_argsort_withnan
        std_sort(&mut arg, &|&a: &usize, &b: &usize| {
            let (x, y) = (keys[a], keys[b]);
            if !x.is_nan() && !y.is_nan() {
                x < y
            } else {
                !x.is_nan()
            }
        });
        return arg;
    }
    // Already sorted (non-decreasing; no NaN here): the identity.
    if keys.windows(2).all(|w| w[1] >= w[0]) {
        return arg;
    }
    let max_iters = 2 * (usize::BITS - 1 - n.leading_zeros()) as usize;
    let mut s = Simd { arr: keys };
    s.argsort(&mut arg, 0, n - 1, max_iters);
    arg
}

/// numpy's `np.argpartition(keys, kth)` for float64 on an AVX-512 x86-64 CPU: indices with
/// `keys[result[kth]]` the kth smallest, no larger key before it and no smaller after, in the
/// arrangement numpy leaves there (x86-simd-sort's `argselect`), so `result[..kth]` is the set
/// numpy's `argpartition(keys, kth)[:kth]` gives, ties included.
///
/// Panics if `kth >= keys.len()` (numpy raises). With a NaN or +inf key, numpy takes another
/// path (`std::nth_element`), not ported: the result is then [`np_argsort`]'s order, a valid
/// partition but not necessarily numpy's choice among ties.
pub fn np_argpartition(keys: &[f64], kth: usize) -> Vec<usize> {
    let n = keys.len();
    assert!(kth < n, "kth {kth} out of bounds for {n} keys");
    if n <= 1 || keys.iter().any(|k| k.is_nan() || *k == f64::INFINITY) {
        return np_argsort(keys);
    }
    let mut arg: Vec<usize> = (0..n).collect();
    let max_iters = 2 * (usize::BITS - 1 - n.leading_zeros()) as usize;
    let s = Simd { arr: keys };
    s.argselect(&mut arg, kth, 0, n - 1, max_iters);
    arg
}

/// Lanes of one AVX-512 register of 64-bit elements.
const LANES: usize = 8;
/// Keys of one register.
type KReg = [f64; LANES];
/// Indices of one register.
type IReg = [usize; LANES];

/// x86-simd-sort's 64-bit key/index argsort, one AVX-512 instruction at a time.
struct Simd<'a> {
    arr: &'a [f64],
}

/// `_mm512_min_pd(a, b)`: `a < b ? a : b`.
#[inline]
fn vmin(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// `_mm512_max_pd(a, b)`: `a > b ? a : b`.
#[inline]
fn vmax(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// A lane permutation `i -> i ^ x`: `swap_n<2>` = 1, `swap_n<4>` = 2, `swap_n<8>` = 4,
/// `reverse_n<2>` = 1, `reverse_n<4>` = 3, `reverse_n<8>` = 7.
#[inline]
fn permute<T: Copy>(r: &[T; LANES], x: usize) -> [T; LANES] {
    std::array::from_fn(|i| r[i ^ x])
}

/// Key-index `cmp_merge(in1, in2 = permute(in1), mask)`: lanes whose mask bit is set take the
/// max, the others the min; a lane keeps its own index where the chosen key equals its key.
#[inline]
fn cmp_merge(k: &mut KReg, ix: &mut IReg, x: usize, mask: u8) {
    let (k2, i2) = (permute(k, x), permute(ix, x));
    for l in 0..LANES {
        let t = if mask >> l & 1 == 1 {
            vmax(k2[l], k[l])
        } else {
            vmin(k2[l], k[l])
        };
        if t != k[l] {
            ix[l] = i2[l];
        }
        k[l] = t;
    }
}

/// `sort_reg_8lanes` (key-index): a bitonic network sorting one register.
fn sort_reg(k: &mut KReg, ix: &mut IReg) {
    cmp_merge(k, ix, 1, 0xAA);
    cmp_merge(k, ix, 3, 0xCC);
    cmp_merge(k, ix, 1, 0xAA);
    cmp_merge(k, ix, 7, 0xF0);
    cmp_merge(k, ix, 2, 0xCC);
    cmp_merge(k, ix, 1, 0xAA);
}

/// `bitonic_merge_reg_8lanes` (key-index): sorts a bitonic register.
fn bitonic_merge_reg(k: &mut KReg, ix: &mut IReg) {
    cmp_merge(k, ix, 4, 0xF0);
    cmp_merge(k, ix, 2, 0xCC);
    cmp_merge(k, ix, 1, 0xAA);
}

/// `COEX` of two key-index register pairs: lane-wise min into the first, max into the second;
/// each index follows its key (the first keeps its own index on ties).
fn coex(keys: &mut [KReg], idx: &mut [IReg], a: usize, b: usize) {
    for l in 0..LANES {
        let (k1, k2) = (keys[a][l], keys[b][l]);
        let (t1, t2) = (vmin(k1, k2), vmax(k1, k2));
        let (i1, i2) = (idx[a][l], idx[b][l]);
        if t1 == k1 {
            idx[a][l] = i1;
            idx[b][l] = i2;
        } else {
            idx[a][l] = i2;
            idx[b][l] = i1;
        }
        keys[a][l] = t1;
        keys[b][l] = t2;
    }
}

fn reverse(keys: &mut [KReg], idx: &mut [IReg], i: usize) {
    keys[i] = permute(&keys[i], 7);
    idx[i] = permute(&idx[i], 7);
}

/// `bitonic_merge_n_vec<m>` over `keys[..m]`.
fn bitonic_merge_n_vec(keys: &mut [KReg], idx: &mut [IReg]) {
    let m = keys.len();
    for i in 0..m / 2 {
        let j = m - i - 1;
        reverse(keys, idx, j);
        coex(keys, idx, i, j);
        reverse(keys, idx, j);
    }
    // bitonic_clean_n_vec
    let mut num = m / 2;
    while num >= 2 {
        for j in (0..m).step_by(num) {
            for i in 0..num / 2 {
                coex(keys, idx, i + j, i + j + num / 2);
            }
        }
        num /= 2;
    }
    for i in 0..m {
        bitonic_merge_reg(&mut keys[i], &mut idx[i]);
    }
}

impl Simd<'_> {
    fn key(&self, i: usize) -> f64 {
        self.arr[i]
    }

    /// `argsort_n<256>`: sorts `arg[..n]` (n <= 256) with key-index bitonic networks.
    fn argsort_n(&self, arg: &mut [usize]) {
        let n = arg.len();
        let mut vecs = 32usize;
        while vecs > 1 && n * 2 <= vecs * LANES {
            vecs /= 2;
        }
        let mut keys = vec![[f64::INFINITY; LANES]; vecs];
        let mut idx = vec![[usize::MAX; LANES]; vecs];
        for v in 0..vecs {
            for l in 0..LANES {
                let p = v * LANES + l;
                if p < n {
                    idx[v][l] = arg[p];
                    keys[v][l] = self.key(arg[p]);
                }
            }
        }
        for v in 0..vecs {
            sort_reg(&mut keys[v], &mut idx[v]);
        }
        // bitonic_fullmerge_n_vec
        let mut per = 2;
        while per <= vecs {
            for i in 0..vecs / per {
                bitonic_merge_n_vec(
                    &mut keys[i * per..(i + 1) * per],
                    &mut idx[i * per..(i + 1) * per],
                );
            }
            per *= 2;
        }
        for (p, a) in arg.iter_mut().enumerate() {
            *a = idx[p / LANES][p % LANES];
        }
    }

    /// `get_pivot_64bit`: the median (5th smallest) of 8 evenly spaced keys of
    /// `arg[left..=right]`.
    fn pivot(&self, arg: &[usize], left: usize, right: usize) -> f64 {
        let size = (right - left) / 8;
        let mut v: Vec<f64> = (1..=8).map(|j| self.key(arg[left + j * size])).collect();
        v.sort_by(f64::total_cmp);
        v[4]
    }

    /// `partition_vec_avx512`: writes the lanes below the pivot to `arg[l_store..]` and the
    /// others to the end of `arg[..right]`, each group in lane order; returns how many were not
    /// below.
    fn partition_vec(
        &self,
        arg: &mut [usize],
        l_store: usize,
        right: usize,
        v: &IReg,
        pivot: f64,
        bounds: &mut (f64, f64),
    ) -> usize {
        let ge: Vec<bool> = v.iter().map(|&i| self.key(i) >= pivot).collect();
        let amount = ge.iter().filter(|&&g| g).count();
        let mut lo = l_store;
        let mut hi = right - amount;
        for (l, &i) in v.iter().enumerate() {
            let k = self.key(i);
            bounds.0 = vmin(k, bounds.0);
            bounds.1 = vmax(k, bounds.1);
            if ge[l] {
                arg[hi] = i;
                hi += 1;
            } else {
                arg[lo] = i;
                lo += 1;
            }
        }
        amount
    }

    fn load(arg: &[usize], at: usize) -> IReg {
        std::array::from_fn(|l| arg[at + l])
    }

    /// `argpartition_unrolled<4>` of `arg[left..right]` (more than 256 elements) around
    /// `pivot`; returns the first index of the upper part and the smallest and biggest keys.
    fn partition(
        &self,
        arg: &mut [usize],
        mut left: usize,
        mut right: usize,
        pivot: f64,
    ) -> (usize, f64, f64) {
        const UNROLL: usize = 4;
        const STEP: usize = UNROLL * LANES;
        let mut smallest = f64::INFINITY;
        let mut biggest = f64::NEG_INFINITY;
        for _ in 0..(right - left) % STEP {
            let k = self.key(arg[left]);
            // std::min / std::max with `a < b`.
            if k < smallest {
                smallest = k;
            }
            if biggest < k {
                biggest = k;
            }
            if k >= pivot {
                right -= 1;
                arg.swap(left, right);
            } else {
                left += 1;
            }
        }
        if left == right {
            return (left, smallest, biggest);
        }
        let mut bounds = (smallest, biggest);
        let vec_left: [IReg; UNROLL] = std::array::from_fn(|i| Self::load(arg, left + LANES * i));
        let vec_right: [IReg; UNROLL] =
            std::array::from_fn(|i| Self::load(arg, right - LANES * (UNROLL - i)));
        let mut r_store = right - LANES;
        let mut l_store = left;
        left += STEP;
        right -= STEP;
        while right != left {
            let cur: [IReg; UNROLL] =
                if r_store.wrapping_add(LANES).wrapping_sub(right) < left - l_store {
                    right -= STEP;
                    std::array::from_fn(|i| Self::load(arg, right + i * LANES))
                } else {
                    let c = std::array::from_fn(|i| Self::load(arg, left + i * LANES));
                    left += STEP;
                    c
                };
            for v in &cur {
                let amount = self.partition_vec(
                    arg,
                    l_store,
                    r_store.wrapping_add(LANES),
                    v,
                    pivot,
                    &mut bounds,
                );
                l_store += LANES - amount;
                r_store = r_store.wrapping_sub(amount);
            }
        }
        for v in vec_left.iter().chain(&vec_right) {
            let amount = self.partition_vec(
                arg,
                l_store,
                r_store.wrapping_add(LANES),
                v,
                pivot,
                &mut bounds,
            );
            l_store += LANES - amount;
            r_store = r_store.wrapping_sub(amount);
        }
        // (r_store may wrap below 0 after the last store, as the C++ `size_t` does; unused.)
        (l_store, bounds.0, bounds.1)
    }

    /// `argselect_`: partitions `arg[left..=right]` around position `pos`.
    fn argselect(
        &self,
        arg: &mut [usize],
        pos: usize,
        left: usize,
        right: usize,
        max_iters: usize,
    ) {
        if max_iters == 0 {
            let keys = self.arr;
            std_sort(&mut arg[left..=right], &|&a: &usize, &b: &usize| {
                keys[a] < keys[b]
            });
            return;
        }
        if right + 1 - left <= 256 {
            self.argsort_n(&mut arg[left..=right]);
            return;
        }
        let pivot = self.pivot(arg, left, right);
        let (at, smallest, biggest) = self.partition(arg, left, right + 1, pivot);
        if pivot != smallest && pos < at {
            self.argselect(arg, pos, left, at - 1, max_iters - 1);
        } else if pivot != biggest && pos >= at {
            self.argselect(arg, pos, at, right, max_iters - 1);
        }
    }

    /// `argsort_` of `arg[left..=right]`.
    fn argsort(&mut self, arg: &mut [usize], left: usize, right: usize, max_iters: usize) {
        if max_iters == 0 {
            let keys = self.arr;
            std_sort(&mut arg[left..=right], &|&a: &usize, &b: &usize| {
                keys[a] < keys[b]
            });
            return;
        }
        if right + 1 - left <= 256 {
            self.argsort_n(&mut arg[left..=right]);
            return;
        }
        let pivot = self.pivot(arg, left, right);
        let (at, smallest, biggest) = self.partition(arg, left, right + 1, pivot);
        if pivot != smallest {
            self.argsort(arg, left, at - 1, max_iters - 1);
        }
        if pivot != biggest {
            self.argsort(arg, at, right, max_iters - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_numpy_blocks() {
        // 0.1 added 10 times sequentially is 0.9999999999999999; numpy's pairwise sum gives 1.0.
        let a = vec![0.1f64; 10];
        let mut seq = 0.0;
        for x in &a {
            seq += x;
        }
        assert_ne!(seq, 1.0);
        assert_eq!(np_sum(&a), 1.0);
        assert_eq!(np_sum(&[]), 0.0);
        assert_eq!(np_sum(&[1.5, 2.0]), 3.5);
        let v: Vec<f64> = (0..300).map(|i| 0.1 * i as f64 + 1e-3).collect();
        // Same association as numpy: blocks of 8 accumulators, recursive halves above 128.
        assert!((np_sum(&v) - v.iter().sum::<f64>()).abs() < 1e-9);
    }

    #[test]
    fn std_sort_matches_a_stable_sort_on_distinct_keys_and_sorts_ties() {
        let mut v: Vec<(i64, usize)> = (0..500).map(|i| ((i * 7919 % 503) as i64, i)).collect();
        let mut expect = v.clone();
        std_sort(&mut v, &|a: &(i64, usize), b: &(i64, usize)| a.0 > b.0);
        expect.sort_by_key(|a| std::cmp::Reverse(a.0));
        assert_eq!(v, expect);
        let mut w: Vec<(i64, usize)> = (0..300).map(|i| ((i % 5) as i64, i)).collect();
        std_sort(&mut w, &|a: &(i64, usize), b: &(i64, usize)| a.0 > b.0);
        assert!(w.windows(2).all(|p| p[0].0 >= p[1].0));
        let mut ids: Vec<usize> = w.iter().map(|p| p.1).collect();
        ids.sort();
        assert_eq!(ids, (0..300).collect::<Vec<_>>());
    }

    #[test]
    fn np_argsort_sorts_every_size() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for n in (0..600).chain([1000, 4096, 10_007]) {
            for distinct in [1u64, 3, 50, 1 << 40] {
                let keys: Vec<f64> = (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x % distinct) as f64 * 0.25 - 3.0
                    })
                    .collect();
                let a = np_argsort(&keys);
                let mut seen = vec![false; n];
                for &i in &a {
                    assert!(!seen[i], "n={n} distinct={distinct}: {i} twice");
                    seen[i] = true;
                }
                assert!(
                    a.windows(2).all(|w| keys[w[0]] <= keys[w[1]]),
                    "n={n} distinct={distinct}: not sorted"
                );
            }
        }
        for n in [2usize, 9, 300, 1000, 5000] {
            let keys: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64).collect();
            for kth in [0, n / 3, n - 1] {
                let a = np_argpartition(&keys, kth);
                let v = keys[a[kth]];
                assert!(a[..kth].iter().all(|&i| keys[i] <= v), "n={n} kth={kth}");
                assert!(a[kth..].iter().all(|&i| keys[i] >= v), "n={n} kth={kth}");
                let mut s = a.clone();
                s.sort();
                assert_eq!(s, (0..n).collect::<Vec<_>>());
            }
        }
        let a = np_argsort(&[2.0, f64::NAN, 1.0, f64::NAN, 0.5]);
        assert_eq!(&a[..3], &[4, 2, 0]);
    }
}
