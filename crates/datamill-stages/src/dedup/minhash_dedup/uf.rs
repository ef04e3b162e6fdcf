//! Union-find structures.
//!
//! [`ConcurrentUf`]: shared by every worker; a root is only ever linked below a *smaller* root,
//! so the root of a set is its smallest element whatever the order of the unions and the
//! thread interleaving: the components and their roots are deterministic.
//!
//! [`DatatroveUf`]: datatrove's `MinhashDedupCluster` union-find (union by size, ties keep
//! the first argument's root), applied sequentially in datatrove's pair order, so the root
//! (the kept document) is the one datatrove keeps.

use std::sync::atomic::{AtomicU32, Ordering};

/// A lock-free union-find over `0..n` whose roots are the minimum of their set.
pub struct ConcurrentUf {
    parent: Vec<AtomicU32>,
}

impl ConcurrentUf {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        ConcurrentUf {
            parent: (0..n as u32).map(AtomicU32::new).collect(),
        }
    }

    /// The root of `x`'s set (with path halving; parents only ever decrease, so concurrent
    /// halving never breaks a path).
    pub fn find(&self, mut x: u32) -> u32 {
        loop {
            let p = self.parent[x as usize].load(Ordering::Acquire);
            if p == x {
                return x;
            }
            let gp = self.parent[p as usize].load(Ordering::Acquire);
            if gp != p {
                let _ = self.parent[x as usize].compare_exchange_weak(
                    p,
                    gp,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
            }
            x = gp;
        }
    }

    /// Merges the sets of `a` and `b`: the larger root is linked below the smaller.
    pub fn union(&self, a: u32, b: u32) {
        let (mut a, mut b) = (a, b);
        loop {
            let ra = self.find(a);
            let rb = self.find(b);
            if ra == rb {
                return;
            }
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            if self.parent[hi as usize]
                .compare_exchange(hi, lo, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
            (a, b) = (lo, hi);
        }
    }

    /// The root of every element, consuming the structure.
    pub fn into_roots(self) -> Vec<u32> {
        let mut p: Vec<u32> = self.parent.into_iter().map(AtomicU32::into_inner).collect();
        for i in 0..p.len() {
            // parents are smaller than their children: one forward pass resolves every root
            let q = p[i] as usize;
            p[i] = p[q];
        }
        p
    }
}

/// datatrove's union-find (`MinhashDedupCluster.run`), sequential.
pub struct DatatroveUf {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl DatatroveUf {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        DatatroveUf {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, x: u32) -> u32 {
        let mut r = x;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        let mut x = x;
        while self.parent[x as usize] != r {
            let next = self.parent[x as usize];
            self.parent[x as usize] = r;
            x = next;
        }
        r
    }

    /// `union(a, b)`: the root of the smaller set joins the other; on a tie `b`'s root joins
    /// `a`'s.
    pub fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }

    /// The root of every element.
    pub fn into_roots(mut self) -> Vec<u32> {
        for i in 0..self.parent.len() as u32 {
            self.find(i);
        }
        self.parent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_roots_are_set_minima_whatever_the_order() {
        let edges: Vec<(u32, u32)> = (0..2000u32)
            .map(|i| ((i * 7919) % 1000, (i * 104_729 + 3) % 1000))
            .collect();
        let uf = ConcurrentUf::new(1000);
        for &(a, b) in &edges {
            uf.union(a, b);
        }
        let seq = uf.into_roots();
        let uf = ConcurrentUf::new(1000);
        std::thread::scope(|s| {
            for t in 0..4 {
                let (uf, edges) = (&uf, &edges);
                s.spawn(move || {
                    for &(a, b) in edges.iter().rev().skip(t).step_by(4) {
                        uf.union(b, a);
                    }
                });
            }
        });
        let par = uf.into_roots();
        assert_eq!(seq, par);
        for (i, &r) in seq.iter().enumerate() {
            assert!(r as usize <= i);
            assert_eq!(seq[r as usize], r);
        }
    }

    #[test]
    fn datatrove_union_by_size_ties_keep_first_root() {
        let mut uf = DatatroveUf::new(5);
        uf.union(3, 1); // tie: 1 joins 3
        uf.union(0, 1); // {3,1} larger: 0 joins 3
        uf.union(4, 2); // tie: 2 joins 4
        assert_eq!(uf.into_roots(), vec![3, 3, 4, 3, 4]);
    }
}
