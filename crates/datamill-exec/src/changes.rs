//! Before/after examples of the stages that rewrite text (normalize, pii, symbol_lines,
//! line_dedup's and substring_dedup's transforms, ...), for the run report.
//!
//! Per task and stage, the [`K`] kept documents whose text the stage changed with the
//! smallest xxh3 hash of their id; merging the tasks' lists keeps the run's `K` smallest, so
//! the examples are the same whatever the thread count or the executor. Cheap: the text a
//! stage replaces is kept (moved, not copied: [`Doc::keep_earlier_text`]) only for a
//! document whose id hash could enter that stage's list, and each text is cut to a window
//! of [`MAX_TEXT`] bytes around its first change.

use std::collections::BTreeMap;

use datamill_core::Doc;
use serde::{Deserialize, Serialize};

/// Examples kept per stage.
pub const K: usize = 8;

/// Bytes of text kept per side of an example.
pub const MAX_TEXT: usize = 3000;

/// One document a stage rewrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// xxh3 of the id.
    pub hash: u64,
    /// The id.
    pub id: String,
    /// Byte offset in both texts where the windows start (the texts agree before it).
    pub offset: usize,
    /// The text before the stage, from `offset`, at most [`MAX_TEXT`] bytes.
    pub before: String,
    /// The text after the stage, from `offset`, at most [`MAX_TEXT`] bytes.
    pub after: String,
    /// Lengths of the whole texts, in bytes.
    pub len: (usize, usize),
}

/// The examples of one task (or merged), per stage index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// Per stage: the examples, smallest (hash, id) first.
    pub stages: BTreeMap<usize, Vec<Change>>,
}

/// The id hash the examples are chosen by.
pub fn id_hash(doc: &Doc) -> u64 {
    xxhash_rust::xxh3::xxh3_64(doc.id().as_bytes())
}

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Changes {
    /// Whether a document of id hash `hash` could enter stage `stage`'s examples (the
    /// executor then asks it to keep the text the stage replaces).
    pub fn wants(&self, stage: usize, hash: u64) -> bool {
        self.stages
            .get(&stage)
            .is_none_or(|l| l.len() < K || l.last().is_some_and(|c| hash < c.hash))
    }

    /// Offers a document stage `stage` kept, whose text was `before` and is now the
    /// document's; nothing happens when the text is unchanged.
    pub fn offer(&mut self, stage: usize, hash: u64, doc: &Doc, before: &str) {
        let after = doc.text();
        if before == after {
            return;
        }
        let common = before
            .bytes()
            .zip(after.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        // Some context before the first change.
        let offset = floor(before, common.saturating_sub(MAX_TEXT / 4));
        let cut = |s: &str| s[offset..floor(s, offset + MAX_TEXT)].to_string();
        self.insert(
            stage,
            Change {
                hash,
                id: doc.id().to_string(),
                offset,
                before: cut(before),
                after: cut(after),
                len: (before.len(), after.len()),
            },
        );
    }

    fn insert(&mut self, stage: usize, c: Change) {
        let l = self.stages.entry(stage).or_default();
        let at = l.partition_point(|x| (x.hash, &x.id) < (c.hash, &c.id));
        if l.get(at).is_some_and(|x| x.hash == c.hash && x.id == c.id) {
            return;
        }
        l.insert(at, c);
        l.truncate(K);
    }

    /// Adds another task's examples (keeping the `K` smallest per stage).
    pub fn merge(&mut self, other: Changes) {
        for (s, list) in other.stages {
            for c in list {
                self.insert(s, c);
            }
        }
    }

    /// Whether no stage changed a document.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_smallest_hashes_of_changed_documents_whatever_the_order() {
        let docs: Vec<Doc> = (0..50)
            .map(|i| Doc::new(format!("d{i}"), format!("text {i} after")))
            .collect();
        let mut all = Changes::default();
        for d in &docs {
            all.offer(3, id_hash(d), d, &format!("text {} before", &d.id()[1..]));
            // Unchanged: never an example.
            all.offer(4, id_hash(d), d, d.text());
        }
        assert_eq!(all.stages[&3].len(), K);
        assert!(!all.stages.contains_key(&4));
        let mut want: Vec<u64> = docs.iter().map(id_hash).collect();
        want.sort();
        let got: Vec<u64> = all.stages[&3].iter().map(|c| c.hash).collect();
        assert_eq!(got, want[..K]);
        // Two tasks in reverse order, merged: the same examples.
        let (mut a, mut b) = (Changes::default(), Changes::default());
        for (i, d) in docs.iter().enumerate().rev() {
            let t = if i % 2 == 0 { &mut a } else { &mut b };
            if t.wants(3, id_hash(d)) {
                t.offer(3, id_hash(d), d, &format!("text {} before", &d.id()[1..]));
            }
        }
        a.merge(b);
        assert_eq!(a, all);
        // The window starts before the first change, at a character boundary.
        let c = &all.stages[&3][0];
        assert_eq!(c.offset, 0);
        assert!(c.before.ends_with("before") && c.after.ends_with("after"));
        let long = "é".repeat(2000) + "x";
        let d = Doc::new("l", "é".repeat(2000) + "y");
        let mut w = Changes::default();
        w.offer(0, 1, &d, &long);
        let c = &w.stages[&0][0];
        assert!(c.offset > 0 && c.offset < 4000 && c.before.ends_with('x'));
        assert!(c.after.ends_with('y') && c.before.len() <= MAX_TEXT);
    }
}
