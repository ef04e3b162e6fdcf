//! Seeded, deterministic sampling: the training sequence of a plan.
//!
//! * **Epochs (RS2-style).** Each source is read as a stream of epochs. Epoch *e* of source *s*
//!   (both counted from 0, sources in file order) visits the source's documents in the order
//!   `np.random.default_rng([seed, s, e]).permutation(n_docs)` (numpy's PCG64, ported bit for
//!   bit in `datamill-npsort`). A source drawn for 2.3 epochs therefore gives two full passes
//!   in two different orders, then the first 30 % of a third order: a fresh subset drawn
//!   without replacement. The stream continues across phases.
//! * **Interleaving by weight.** Within a phase, the next document comes from the source with
//!   the smallest `tokens drawn in this phase / weight` (ties: the first source), so at every
//!   point of the phase each source has drawn its share of the tokens up to one document —
//!   sources are mixed, never concatenated.
//! * **Exact boundaries.** A phase takes documents until the mixture reaches the phase's end
//!   token; the last document may cross it, and the next phase starts where this one really
//!   ended and stops at its own planned end. So the mixture's total and every phase boundary
//!   are off by less than one document, and errors do not accumulate.
//!
//! Sampling needs only the token count of each document; it runs once, in one thread, so the
//! sequence does not depend on the number of workers.

use crate::plan::Plan;
use datamill_npsort::random::Pcg64;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Bits of a packed draw: source (12), epoch (12), document (40).
const DOC_BITS: u32 = 40;
const EPOCH_BITS: u32 = 12;
/// The most sources a mixture can have.
pub const MAX_SOURCES: usize = 1 << 12;
/// The most epochs of one source.
pub const MAX_EPOCHS: u64 = 1 << EPOCH_BITS;
/// The most documents in one source.
pub const MAX_DOCS: u64 = 1 << DOC_BITS;

/// One drawn document, packed in 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Draw(pub u64);

impl Draw {
    /// Packs `(source, epoch, doc)`.
    pub fn new(source: usize, epoch: u64, doc: u64) -> Draw {
        debug_assert!(source < MAX_SOURCES && epoch < MAX_EPOCHS && doc < MAX_DOCS);
        Draw((source as u64) << (DOC_BITS + EPOCH_BITS) | epoch << DOC_BITS | doc)
    }
    /// The source's index.
    pub fn source(self) -> usize {
        (self.0 >> (DOC_BITS + EPOCH_BITS)) as usize
    }
    /// The epoch of the source this draw belongs to (from 0).
    pub fn epoch(self) -> u64 {
        (self.0 >> DOC_BITS) & (MAX_EPOCHS - 1)
    }
    /// The document: its index among the source's drawable documents, in input order.
    pub fn doc(self) -> u64 {
        self.0 & (MAX_DOCS - 1)
    }
}

/// What one phase realized.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseRealized {
    /// Index of the phase's first draw in the sequence.
    pub first_doc: u64,
    /// One past its last draw.
    pub end_doc: u64,
    /// First token of the phase in the mixture (as realized).
    pub start_token: u64,
    /// One past its last token.
    pub end_token: u64,
    /// Documents drawn from each source.
    pub docs: Vec<u64>,
    /// Tokens drawn from each source.
    pub tokens: Vec<u64>,
}

/// What one source gave over the whole sequence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRealized {
    /// Documents drawn (with repetition).
    pub draws: u64,
    /// Tokens drawn.
    pub tokens: u64,
    /// Complete epochs.
    pub full_epochs: u64,
    /// Documents drawn from the last, partial epoch (0 if none).
    pub partial_docs: u64,
}

/// The training sequence and its accounting.
#[derive(Clone, Debug, Default)]
pub struct Mixture {
    /// The drawn documents in training order.
    pub draws: Vec<Draw>,
    /// Token count of each draw (parallel to `draws`).
    pub lens: Vec<u32>,
    /// Per phase.
    pub phases: Vec<PhaseRealized>,
    /// Per source.
    pub sources: Vec<SourceRealized>,
}

impl Mixture {
    /// Tokens in the sequence.
    pub fn tokens(&self) -> u64 {
        self.phases.last().map_or(0, |p| p.end_token)
    }
}

/// Why sampling is impossible.
#[derive(Clone, Debug, PartialEq)]
pub enum SampleError {
    /// A source would be drawn for more epochs than the packed format holds.
    TooManyEpochs(usize),
    /// A source has more documents than the packed format holds.
    TooManyDocs(usize),
    /// More sources than the packed format holds.
    TooManySources,
}

#[derive(Clone, Copy, PartialEq)]
struct Key(f64, usize);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}

/// One source's epoch stream.
struct Stream {
    source: usize,
    n: u64,
    drawn: u64,
    perm: Vec<u64>,
}

impl Stream {
    fn next(&mut self, seed: u64) -> Result<(u64, u64), SampleError> {
        let epoch = self.drawn / self.n;
        let pos = self.drawn % self.n;
        if pos == 0 {
            if epoch >= MAX_EPOCHS {
                return Err(SampleError::TooManyEpochs(self.source));
            }
            self.perm = Pcg64::from_entropy(&[seed, self.source as u64, epoch])
                .permutation(self.n as usize);
        }
        self.drawn += 1;
        Ok((epoch, self.perm[pos as usize]))
    }
}

/// The epoch order of source `source` (numpy: `default_rng([seed, source, epoch])
/// .permutation(n)`).
pub fn epoch_order(seed: u64, source: usize, epoch: u64, n: usize) -> Vec<u64> {
    Pcg64::from_entropy(&[seed, source as u64, epoch]).permutation(n)
}

/// Draws the training sequence of `plan`; `lens[s][d]` is the token count of drawable
/// document `d` of source `s` (all positive).
pub fn sample(plan: &Plan, lens: &[Vec<u32>]) -> Result<Mixture, SampleError> {
    let ns = lens.len();
    if ns > MAX_SOURCES {
        return Err(SampleError::TooManySources);
    }
    for (s, l) in lens.iter().enumerate() {
        if l.len() as u64 >= MAX_DOCS {
            return Err(SampleError::TooManyDocs(s));
        }
    }
    let mut streams: Vec<Stream> = lens
        .iter()
        .enumerate()
        .map(|(s, l)| Stream {
            source: s,
            n: l.len() as u64,
            drawn: 0,
            perm: Vec::new(),
        })
        .collect();
    let mut m = Mixture {
        sources: vec![SourceRealized::default(); ns],
        ..Default::default()
    };
    let mut emitted = 0u64;
    for ph in &plan.phases {
        let mut r = PhaseRealized {
            first_doc: m.draws.len() as u64,
            start_token: emitted,
            docs: vec![0; ns],
            tokens: vec![0; ns],
            ..Default::default()
        };
        let mut heap: BinaryHeap<Reverse<Key>> = (0..ns)
            .filter(|&s| ph.weights[s] > 0.0 && !lens[s].is_empty())
            .map(|s| Reverse(Key(0.0, s)))
            .collect();
        while emitted < ph.end {
            let Some(Reverse(Key(_, s))) = heap.pop() else {
                break;
            };
            let (epoch, doc) = streams[s].next(plan.seed)?;
            let len = lens[s][doc as usize];
            m.draws.push(Draw::new(s, epoch, doc));
            m.lens.push(len);
            r.docs[s] += 1;
            r.tokens[s] += len as u64;
            emitted += len as u64;
            heap.push(Reverse(Key(r.tokens[s] as f64 / ph.weights[s], s)));
        }
        r.end_doc = m.draws.len() as u64;
        r.end_token = emitted;
        m.phases.push(r);
    }
    for (s, st) in streams.iter().enumerate() {
        let src = &mut m.sources[s];
        src.draws = st.drawn;
        src.tokens = m.phases.iter().map(|p| p.tokens[s]).sum();
        src.full_epochs = st.drawn / st.n.max(1);
        src.partial_docs = st.drawn % st.n.max(1);
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MixFile;
    use crate::plan::{SourceCounts, plan};
    use std::collections::HashMap;
    use std::path::Path;

    fn lens_for(sizes: &[(usize, u32)], seed: u64) -> Vec<Vec<u32>> {
        // Deterministic pseudo-random lengths in 1..=max.
        let mut x = seed | 1;
        sizes
            .iter()
            .map(|&(n, max)| {
                (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        1 + (x % max as u64) as u32
                    })
                    .collect()
            })
            .collect()
    }

    fn counts(lens: &[Vec<u32>]) -> Vec<SourceCounts> {
        lens.iter()
            .map(|l| SourceCounts {
                docs: l.len() as u64,
                tokens: l.iter().map(|&x| x as u64).sum(),
                max_doc_tokens: l.iter().copied().max().unwrap_or(0) as u64,
                ..Default::default()
            })
            .collect()
    }

    fn mixfile(src: &str) -> MixFile {
        MixFile::from_source(Path::new("m.toml"), src, Path::new(".")).unwrap()
    }

    const SRC3: &str = "[[source]]\nname = \"a\"\npaths = [\"a\"]\n[[source]]\nname = \"b\"\n\
                        paths = [\"b\"]\n[[source]]\nname = \"c\"\npaths = [\"c\"]\n";

    #[test]
    fn draws_pack_and_unpack() {
        let d = Draw::new(4095, 4095, MAX_DOCS - 1);
        assert_eq!((d.source(), d.epoch(), d.doc()), (4095, 4095, MAX_DOCS - 1));
        let d = Draw::new(3, 2, 17);
        assert_eq!((d.source(), d.epoch(), d.doc()), (3, 2, 17));
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn epochs_are_rs2_passes_and_every_document_is_accounted_for() {
        let lens = lens_for(&[(50, 40), (300, 40), (1000, 40)], 7);
        let c = counts(&lens);
        let budget = 40_000u64;
        let f = mixfile(&format!(
            "version = 1\nbudget = {budget}\nseed = 11\ntoken_field = \"n\"\n{SRC3}[weights]\n\
             method = \"unimax\"\nmax_epochs = 8\n"
        ));
        let p = plan(&f, &c).unwrap();
        let m = sample(&p, &lens).unwrap();
        // The total is the budget up to one document.
        let max_len = 40;
        assert!(m.tokens() >= budget && m.tokens() < budget + max_len);
        for s in 0..3 {
            let st = &m.sources[s];
            let n = lens[s].len() as u64;
            assert_eq!(st.draws, st.full_epochs * n + st.partial_docs);
            // Each full epoch is a permutation; the partial epoch is a prefix of the next one.
            let mut seen: HashMap<(u64, u64), u32> = HashMap::new();
            let mut per_epoch: HashMap<u64, Vec<u64>> = HashMap::new();
            for d in m.draws.iter().filter(|d| d.source() == s) {
                *seen.entry((d.epoch(), d.doc())).or_default() += 1;
                per_epoch.entry(d.epoch()).or_default().push(d.doc());
            }
            assert!(
                seen.values().all(|&k| k == 1),
                "a document repeated in one epoch"
            );
            for e in 0..st.full_epochs {
                let order = &per_epoch[&e];
                assert_eq!(order, &epoch_order(11, s, e, n as usize));
            }
            if st.partial_docs > 0 {
                let order = &per_epoch[&st.full_epochs];
                let full = epoch_order(11, s, st.full_epochs, n as usize);
                assert_eq!(order[..], full[..st.partial_docs as usize]);
            }
            // Different epochs visit documents in different orders.
            if st.full_epochs >= 2 {
                assert_ne!(per_epoch[&0], per_epoch[&1]);
            }
            // Tokens realized are within one document of the plan.
            let planned = p.sources[s].tokens;
            assert!(
                (st.tokens as f64 - planned).abs() <= max_len as f64 + 1.0,
                "source {s}: {} vs {planned}",
                st.tokens
            );
        }
        // The small source is repeated ~8 epochs, the large one less than one.
        assert!(m.sources[0].full_epochs >= 7, "{:?}", m.sources[0]);
        assert_eq!(m.sources[2].full_epochs, 0);
    }

    #[test]
    fn phases_end_within_one_document_of_their_boundaries_and_interleave() {
        let lens = lens_for(&[(400, 30), (400, 30), (400, 30)], 3);
        let c = counts(&lens);
        let f = mixfile(&format!(
            "version = 1\nbudget = 20000\ntoken_field = \"n\"\n{SRC3}\
             [[phase]]\nname = \"main\"\nfraction = 0.8\n\
             [[phase]]\nname = \"anneal\"\nfraction = 0.2\nweights = {{ a = 0.1, b = 0.1, c = 0.8 }}\n"
        ));
        let p = plan(&f, &c).unwrap();
        let m = sample(&p, &lens).unwrap();
        assert_eq!(m.phases.len(), 2);
        for (ph, r) in p.phases.iter().zip(&m.phases) {
            assert!(r.end_token >= ph.end && r.end_token < ph.end + 30);
            assert_eq!(r.tokens.iter().sum::<u64>(), r.end_token - r.start_token);
            assert_eq!(r.docs.iter().sum::<u64>(), r.end_doc - r.first_doc);
            for s in 0..3 {
                let want = ph.weights[s] * (r.end_token - r.start_token) as f64;
                assert!(
                    (r.tokens[s] as f64 - want).abs() <= 30.0,
                    "{s}: {} vs {want}",
                    r.tokens[s]
                );
            }
        }
        // Interleaved: in the first phase no run of one source is longer than a few documents.
        let main = &m.draws[..m.phases[0].end_doc as usize];
        let mut longest = 0;
        let mut run = 0;
        for w in main.windows(2) {
            run = if w[0].source() == w[1].source() {
                run + 1
            } else {
                0
            };
            longest = longest.max(run);
        }
        assert!(longest < 6, "longest run {longest}");
        // Every prefix of the phase has each source's share of its tokens, up to a document.
        let mut toks = [0u64; 3];
        let mut total = 0u64;
        for (d, &l) in main.iter().zip(&m.lens) {
            toks[d.source()] += l as u64;
            total += l as u64;
            for (s, t) in toks.iter().enumerate() {
                let want = p.phases[0].weights[s] * total as f64;
                assert!((*t as f64 - want).abs() <= 60.0, "{s}: {t} vs {want}");
            }
        }
    }

    #[test]
    fn same_seed_same_sequence_other_seed_other_sequence() {
        let lens = lens_for(&[(100, 20), (200, 20)], 5);
        let c = counts(&lens);
        let src = |seed: u64| {
            format!(
                "version = 1\nbudget = 5000\nseed = {seed}\ntoken_field = \"n\"\n[[source]]\nname = \"a\"\n\
                 paths = [\"a\"]\n[[source]]\nname = \"b\"\npaths = [\"b\"]\n"
            )
        };
        let a = sample(&plan(&mixfile(&src(1)), &c).unwrap(), &lens).unwrap();
        let b = sample(&plan(&mixfile(&src(1)), &c).unwrap(), &lens).unwrap();
        let d = sample(&plan(&mixfile(&src(2)), &c).unwrap(), &lens).unwrap();
        assert_eq!(a.draws, b.draws);
        assert_ne!(a.draws, d.draws);
    }
}
