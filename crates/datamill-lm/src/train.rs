//! Interpolated modified Kneser-Ney estimation (Chen & Goodman 1998), as KenLM's `lmplz`
//! does it, written as ARPA.
//!
//! 1. Each sentence is wrapped as `<s> w1 .. wn </s>`; the n-grams of the highest order N
//!    are counted, and so are the shorter n-grams that start at `<s>` (they cannot be
//!    extended to the left).
//! 2. Lower orders get *adjusted* counts: the number of distinct words seen to their left
//!    (continuation counts), except n-grams starting with `<s>`, which keep their counts.
//! 3. Per order, the discounts come from the counts of counts t1..t4 of the (adjusted)
//!    counts: `Y = t1 / (t1 + 2 t2)`, `D1 = 1 - 2Y t2/t1`, `D2 = 2 - 3Y t3/t2`,
//!    `D3+ = 3 - 4Y t4/t3`. When a t is zero or a discount falls outside `[0, j]` for Dj (tiny
//!    corpora), the order uses the fallback discounts (`lmplz --discount_fallback`'s
//!    0.5, 1, 1.5).
//! 4. `p(w | h) = (a(hw) - D(a(hw))) / Σx a(hx) + γ(h) p(w | h')`, with
//!    `γ(h) = (D1 N1(h•) + D2 N2(h•) + D3+ N3+(h•)) / Σx a(hx)`; unigrams interpolate with
//!    the uniform distribution over the vocabulary (`<unk>` and `</s>` included, `<s>`
//!    excluded), as `lmplz`'s default `--interpolate_unigrams`. The ARPA backoff of a context
//!    `h` is `log10 γ(h)`.
//!
//! Differences from `lmplz`: no pruning and no vocabulary limit; all counts are held in
//! memory (hash maps of word-id sequences); `<s>` gets the log10 probability -99 (SRILM's
//! convention) rather than `lmplz`'s 0; empty sentences are skipped.

use crate::{LmError, MAX_ORDER};
use std::collections::HashMap;
use std::fmt::Write;

const UNK: u32 = 0;
const BOS: u32 = 1;
const EOS: u32 = 2;

/// Training options.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// The model's order (1..=[`MAX_ORDER`]).
    pub order: usize,
    /// Discounts D1, D2, D3+ used for an order whose counts of counts give no valid ones.
    pub discount_fallback: [f64; 3],
}

impl TrainOptions {
    /// Options for an order, with `lmplz`'s fallback discounts.
    pub fn new(order: usize) -> TrainOptions {
        TrainOptions {
            order,
            discount_fallback: [0.5, 1.0, 1.5],
        }
    }
}

/// Accumulates counts sentence by sentence; [`Trainer::finish`] estimates the model.
#[derive(Debug)]
pub struct Trainer {
    opts: TrainOptions,
    vocab: HashMap<String, u32, foldhash::fast::FixedState>,
    words: Vec<String>,
    /// `counts[k]`: n-grams of order `k + 1`.
    counts: Vec<HashMap<Vec<u32>, u64, foldhash::fast::FixedState>>,
    seq: Vec<u32>,
    sentences: u64,
}

/// A trained model.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The model as ARPA text.
    pub arpa: String,
    /// The discounts D1, D2, D3+ of each order (index 0: unigrams).
    pub discounts: Vec<[f64; 3]>,
    /// Whether each order used the fallback discounts.
    pub fallback: Vec<bool>,
    /// Sentences counted.
    pub sentences: u64,
}

impl Trainer {
    /// A trainer for the given options.
    pub fn new(opts: TrainOptions) -> Result<Trainer, LmError> {
        if opts.order == 0 || opts.order > MAX_ORDER {
            return Err(LmError::Train(format!(
                "order {} is not supported (1..={MAX_ORDER})",
                opts.order
            )));
        }
        let mut vocab = HashMap::default();
        let words: Vec<String> = ["<unk>", "<s>", "</s>"].map(String::from).into();
        for (i, w) in words.iter().enumerate() {
            vocab.insert(w.clone(), i as u32);
        }
        Ok(Trainer {
            counts: (0..opts.order).map(|_| HashMap::default()).collect(),
            opts,
            vocab,
            words,
            seq: Vec::new(),
            sentences: 0,
        })
    }

    /// Counts one sentence given as tokens. Tokens `<s>` and `</s>` are ignored; `<unk>` is
    /// the unknown word. An empty sentence is skipped.
    pub fn add_sentence<'a>(&mut self, tokens: impl IntoIterator<Item = &'a str>) {
        let mut seq = std::mem::take(&mut self.seq);
        seq.clear();
        seq.push(BOS);
        for t in tokens {
            if t == "<s>" || t == "</s>" || t.is_empty() {
                continue;
            }
            let id = match self.vocab.get(t) {
                Some(&id) => id,
                None => {
                    let id = self.words.len() as u32;
                    self.words.push(t.to_string());
                    self.vocab.insert(t.to_string(), id);
                    id
                }
            };
            seq.push(id);
        }
        if seq.len() > 1 {
            seq.push(EOS);
            self.sentences += 1;
            let n = self.opts.order;
            for i in 1..seq.len() {
                let g = if i + 1 >= n {
                    &seq[i + 1 - n..=i]
                } else {
                    &seq[..=i]
                };
                let m = &mut self.counts[g.len() - 1];
                match m.get_mut(g) {
                    Some(c) => *c += 1,
                    None => {
                        m.insert(g.to_vec(), 1);
                    }
                }
            }
        }
        self.seq = seq;
    }

    /// Estimates the model and writes it as ARPA.
    pub fn finish(mut self) -> Result<Trained, LmError> {
        let n = self.opts.order;
        if self.sentences == 0 {
            return Err(LmError::Train("no sentences to train on".into()));
        }
        // Adjusted counts: continuation counts of every suffix.
        for k in (1..n).rev() {
            let (lower, higher) = self.counts.split_at_mut(k);
            let lower = &mut lower[k - 1];
            for g in higher[0].keys() {
                let s = &g[1..];
                match lower.get_mut(s) {
                    Some(c) => *c += 1,
                    None => {
                        lower.insert(s.to_vec(), 1);
                    }
                }
            }
        }
        // Discounts.
        let mut discounts = Vec::with_capacity(n);
        let mut fallback = Vec::with_capacity(n);
        for m in &self.counts {
            let mut t = [0u64; 5];
            for &c in m.values() {
                if c <= 4 {
                    t[c as usize] += 1;
                }
            }
            let [_, t1, t2, t3, t4] = t.map(|x| x as f64);
            let y = t1 / (t1 + 2.0 * t2);
            let d = [
                1.0 - 2.0 * y * t2 / t1,
                2.0 - 3.0 * y * t3 / t2,
                3.0 - 4.0 * y * t4 / t3,
            ];
            let ok = d
                .iter()
                .enumerate()
                .all(|(i, &x)| x.is_finite() && x >= 0.0 && x <= (i + 1) as f64);
            discounts.push(if ok { d } else { self.opts.discount_fallback });
            fallback.push(!ok);
        }
        let disc = |k: usize, c: u64| discounts[k][(c.min(3) - 1) as usize];

        // Context statistics per order: Σ a, then γ.
        #[derive(Clone, Copy, Default)]
        struct Ctx {
            total: u64,
            mass: f64,
        }
        let mut probs: Vec<HashMap<&[u32], f64, foldhash::fast::FixedState>> = Vec::new();
        let mut gammas: Vec<HashMap<&[u32], f64, foldhash::fast::FixedState>> = Vec::new();
        for k in 0..n {
            let mut ctx: HashMap<&[u32], Ctx, foldhash::fast::FixedState> = HashMap::default();
            for (g, &c) in &self.counts[k] {
                let e = ctx.entry(&g[..k]).or_default();
                e.total += c;
                e.mass += disc(k, c);
            }
            let gamma: HashMap<&[u32], f64, foldhash::fast::FixedState> = ctx
                .iter()
                .map(|(h, c)| (*h, c.mass / c.total as f64))
                .collect();
            let mut p: HashMap<&[u32], f64, foldhash::fast::FixedState> = HashMap::default();
            if k == 0 {
                let mut vocab = self.counts[0].len();
                if !self.counts[0].contains_key(&[UNK][..]) {
                    vocab += 1;
                }
                let c = ctx[&[][..]];
                let uniform = gamma[&[][..]] / vocab as f64;
                for (g, &a) in &self.counts[0] {
                    p.insert(g, (a as f64 - disc(0, a)) / c.total as f64 + uniform);
                }
                p.entry(&[UNK][..]).or_insert(uniform);
            } else {
                for (g, &a) in &self.counts[k] {
                    let h = &g[..k];
                    let lower = probs[k - 1].get(&g[1..]).copied().ok_or_else(|| {
                        LmError::Train("internal: a suffix n-gram is missing".into())
                    })?;
                    let v = (a as f64 - disc(k, a)) / ctx[h].total as f64 + gamma[h] * lower;
                    p.insert(g, v);
                }
            }
            probs.push(p);
            gammas.push(gamma);
        }

        // ARPA.
        let mut arpa = String::from("\\data\\\n");
        let mut sizes: Vec<usize> = probs.iter().map(HashMap::len).collect();
        sizes[0] += 1; // <s>
        for (k, s) in sizes.iter().enumerate() {
            writeln!(arpa, "ngram {}={s}", k + 1).expect("string");
        }
        let lg = |x: f64| x.log10() as f32;
        for (k, probs) in probs.iter().enumerate() {
            write!(arpa, "\n\\{}-grams:\n", k + 1).expect("string");
            let mut grams: Vec<(&[u32], f64)> = probs.iter().map(|(g, p)| (*g, *p)).collect();
            if k == 0 {
                grams.push((&[BOS][..], f64::NAN));
            }
            grams.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (g, p) in grams {
                let prob = if g == [BOS] { -99.0 } else { lg(p) };
                write!(arpa, "{prob}\t").expect("string");
                for (i, w) in g.iter().enumerate() {
                    if i > 0 {
                        arpa.push(' ');
                    }
                    arpa.push_str(&self.words[*w as usize]);
                }
                if k + 1 < n {
                    let bo = gammas
                        .get(k + 1)
                        .and_then(|m| m.get(g))
                        .map_or(0.0, |&x| lg(x));
                    write!(arpa, "\t{bo}").expect("string");
                }
                arpa.push('\n');
            }
        }
        arpa.push_str("\n\\end\\\n");
        Ok(Trained {
            arpa,
            discounts,
            fallback,
            sentences: self.sentences,
        })
    }
}

/// Trains a model of `opts.order` on tokenized sentences and returns it as ARPA text.
pub fn train_arpa<'a, S>(
    sentences: impl IntoIterator<Item = S>,
    opts: &TrainOptions,
) -> Result<String, LmError>
where
    S: IntoIterator<Item = &'a str>,
{
    let mut t = Trainer::new(opts.clone())?;
    for s in sentences {
        t.add_sentence(s);
    }
    Ok(t.finish()?.arpa)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Model, State};

    fn corpus() -> Vec<&'static str> {
        vec![
            "the cat sat on the mat",
            "the dog sat on the log",
            "a cat and a dog",
            "the cat ate the fish",
            "on the mat the cat sat",
            "a dog ate a fish on the log",
            "the the the",
            "fish",
        ]
    }

    /// Σ_w p(w | context) over the vocabulary (without <s>) must be 1 for every context,
    /// seen or not.
    #[test]
    fn conditional_distributions_sum_to_one() {
        for order in 1..=4 {
            let arpa = train_arpa(
                corpus().iter().map(|l| l.split(' ')),
                &TrainOptions::new(order),
            )
            .unwrap();
            let m = Model::from_arpa_str(&arpa).unwrap();
            let vocab: Vec<u32> = m
                .vocab()
                .filter(|(w, _)| *w != "<s>")
                .map(|x| x.1)
                .collect();
            let mut contexts: Vec<(bool, Vec<&str>)> = vec![(true, vec![]), (false, vec![])];
            for l in corpus() {
                let w: Vec<&str> = l.split(' ').collect();
                for i in 0..w.len() {
                    for j in i..w.len().min(i + order) {
                        contexts.push((i == 0, w[i..=j].to_vec()));
                        contexts.push((false, w[i..=j].to_vec()));
                    }
                }
            }
            contexts.push((false, vec!["fish", "the", "zebra"]));
            for (bos, ctx) in contexts {
                let mut s = if bos {
                    m.begin_sentence()
                } else {
                    m.null_context()
                };
                let mut out = State::default();
                for w in &ctx {
                    m.base_full_score(&s, m.index(w), &mut out);
                    s = out;
                }
                let total: f64 = vocab
                    .iter()
                    .map(|&w| 10f64.powf(f64::from(m.base_full_score(&s, w, &mut out).prob)))
                    .sum();
                assert!(
                    (total - 1.0).abs() < 1e-5,
                    "order {order}, context {bos} {ctx:?}: {total}"
                );
            }
        }
    }

    #[test]
    fn known_values_and_fallback() {
        let t = {
            let mut t = Trainer::new(TrainOptions::new(2)).unwrap();
            for l in corpus() {
                t.add_sentence(l.split(' '));
            }
            t.finish().unwrap()
        };
        // A tiny corpus has no valid discounts for the bigrams (t3 or t4 is 0).
        assert_eq!(t.sentences, 8);
        assert_eq!(t.discounts.len(), 2);
        assert!(
            t.arpa.starts_with("\\data\\\nngram 1=14\n"),
            "{}",
            &t.arpa[..40]
        );
        let m = Model::from_arpa_str(&t.arpa).unwrap();
        // Seen bigrams beat unseen ones.
        assert!(m.score("the cat", true, false) > m.score("cat the", true, false));
        // Deterministic output.
        let again =
            train_arpa(corpus().iter().map(|l| l.split(' ')), &TrainOptions::new(2)).unwrap();
        assert_eq!(again, t.arpa);
    }

    #[test]
    fn bad_orders_and_empty_input() {
        assert!(Trainer::new(TrainOptions::new(0)).is_err());
        assert!(Trainer::new(TrainOptions::new(MAX_ORDER + 1)).is_err());
        let e = train_arpa(Vec::<Vec<&str>>::new(), &TrainOptions::new(3)).unwrap_err();
        assert!(e.to_string().contains("no sentences"));
    }
}
