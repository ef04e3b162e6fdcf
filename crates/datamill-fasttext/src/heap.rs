//! libstdc++'s `std::push_heap` / `std::pop_heap` / `std::sort_heap`, reproduced exactly so that
//! ties between equal scores are broken in the same order as C++ fastText (built with GCC).
//!
//! fastText keeps `(score, label)` pairs in a heap ordered by `comparePairs(l, r) = l.first > r.first`
//! (so `heap[0]` holds the *lowest* score).

pub(crate) type Pair = (f32, i32);

#[inline(always)]
fn comp(a: &Pair, b: &Pair) -> bool {
    a.0 > b.0
}

/// `std::__push_heap`.
fn push_heap_hole(h: &mut [Pair], mut hole: usize, top: usize, value: Pair) {
    while hole > top {
        let parent = (hole - 1) / 2;
        if !comp(&h[parent], &value) {
            break;
        }
        h[hole] = h[parent];
        hole = parent;
    }
    h[hole] = value;
}

/// `std::__adjust_heap`.
fn adjust_heap(h: &mut [Pair], mut hole: usize, len: usize, value: Pair) {
    let top = hole;
    let mut second = hole;
    while len >= 1 && second < (len - 1) / 2 {
        second = 2 * (second + 1);
        if comp(&h[second], &h[second - 1]) {
            second -= 1;
        }
        h[hole] = h[second];
        hole = second;
    }
    if len & 1 == 0 && len >= 2 && second == (len - 2) / 2 {
        second = 2 * (second + 1);
        h[hole] = h[second - 1];
        hole = second - 1;
    }
    push_heap_hole(h, hole, top, value);
}

/// `std::__pop_heap(first, last, result)` with `result = last`.
fn pop_heap_into_last(h: &mut [Pair]) {
    let last = h.len() - 1;
    let value = h[last];
    h[last] = h[0];
    adjust_heap(&mut h[..last], 0, last, value);
}

/// `std::push_heap(v.begin(), v.end(), comparePairs)` after the new element was pushed.
pub(crate) fn push_heap(h: &mut [Pair]) {
    if h.is_empty() {
        return;
    }
    let last = h.len() - 1;
    let value = h[last];
    push_heap_hole(h, last, 0, value);
}

/// `std::pop_heap(v.begin(), v.end(), comparePairs)`: moves the front to the back.
pub(crate) fn pop_heap(h: &mut [Pair]) {
    if h.len() > 1 {
        pop_heap_into_last(h);
    }
}

/// `std::sort_heap(v.begin(), v.end(), comparePairs)`: ends sorted by descending score.
pub(crate) fn sort_heap(h: &mut [Pair]) {
    let mut n = h.len();
    while n > 1 {
        pop_heap_into_last(&mut h[..n]);
        n -= 1;
    }
}

/// fastText's bounded insert: push, and drop the lowest element if the heap exceeds `k`.
#[inline]
pub(crate) fn push_bounded(h: &mut Vec<Pair>, p: Pair, k: usize) {
    h.push(p);
    push_heap(h);
    if h.len() > k {
        pop_heap(h);
        h.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_top_k_sorted_descending() {
        let mut h = Vec::new();
        for (i, s) in [0.1f32, 0.5, 0.3, 0.9, 0.7, 0.2].iter().enumerate() {
            push_bounded(&mut h, (*s, i as i32), 3);
        }
        sort_heap(&mut h);
        assert_eq!(h, vec![(0.9, 3), (0.7, 4), (0.5, 1)]);
    }

    #[test]
    fn tie_order_follows_libstdcxx() {
        // Expected orders produced by the same sequence of std::push_heap / pop_heap /
        // sort_heap calls compiled with g++ (libstdc++).
        let mut h = Vec::new();
        for i in 0..5 {
            push_bounded(&mut h, (1.0, i), 10);
        }
        sort_heap(&mut h);
        let ids: Vec<i32> = h.iter().map(|p| p.1).collect();
        assert_eq!(ids, vec![3, 1, 4, 2, 0]);

        let mut h = Vec::new();
        for (i, s) in [0.5f32, 0.5, 0.7, 0.5, 0.7, 0.1, 0.7, 0.5]
            .iter()
            .enumerate()
        {
            push_bounded(&mut h, (*s, i as i32), 3);
        }
        sort_heap(&mut h);
        assert_eq!(h, vec![(0.7, 4), (0.7, 2), (0.7, 6)]);
    }
}
