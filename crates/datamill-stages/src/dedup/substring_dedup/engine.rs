//! The decider and transform of `substring_dedup` (the suffix-array work is in the
//! `datamill-suffix` crate).

use super::SubstringDedup;
use crate::dedup::{io_err, pack};
use datamill_core::codec::{Dec, Enc};
use datamill_core::{
    DecideCx, Decider, Doc, DocRef, GlobalStage, ReportSink, Stage, StageCx, StageError, Verdict,
    Verdicts,
};
use datamill_suffix::{Corpus, CorpusWriter, Options, SuffixError, find_spans};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The built stage.
pub(super) struct Built {
    pub(super) cfg: SubstringDedup,
}

fn suffix_err(e: SuffixError) -> StageError {
    StageError::Other(format!("substring_dedup: {e}"))
}

impl GlobalStage for Built {
    /// The summary: the id's length (u32 LE), the id, then the text.
    fn summarize(&self, doc: &Doc, out: &mut Vec<u8>) -> Result<(), StageError> {
        out.extend_from_slice(&(doc.id().len() as u32).to_le_bytes());
        out.extend_from_slice(doc.id().as_bytes());
        out.extend_from_slice(doc.text().as_bytes());
        Ok(())
    }

    fn decider(&self, cx: &DecideCx) -> Result<Box<dyn Decider + '_>, StageError> {
        let budget = self.cfg.memory.map(|b| b.0).or(cx.memory_budget);
        let work = if cx.work_dir.as_os_str().is_empty() {
            std::env::temp_dir().join(format!("datamill-substring-{}", std::process::id()))
        } else {
            cx.work_dir.clone()
        };
        std::fs::create_dir_all(&work).map_err(|e| io_err(&work, e))?;
        let corpus_path = work.join("substring-corpus.bin");
        let ids_path = work.join("substring-ids.bin");
        let ids = File::create(&ids_path).map_err(|e| io_err(&ids_path, e))?;
        Ok(Box::new(Decide {
            st: self,
            budget,
            corpus: Some(CorpusWriter::create(&corpus_path).map_err(suffix_err)?),
            ids: BufWriter::new(ids),
            ids_path,
            id_offs: vec![0],
            refs: Vec::new(),
            work,
            report: cx.report.clone(),
        }))
    }

    fn transform(&self, state: &[u8]) -> Result<Box<dyn Stage + '_>, StageError> {
        let mut d = Dec::new(state, "substring_dedup decision");
        let n = d.len(28)?;
        let mut cuts = Vec::with_capacity(n);
        for _ in 0..n {
            cuts.push(Cut {
                pos: d.u64()?,
                text_hash: d.u64()?,
                first: d.u64()? as usize,
                n: d.u32()?,
            });
        }
        let n = d.len(8)?;
        let mut spans = Vec::with_capacity(n);
        for _ in 0..n {
            spans.push((d.u32()?, d.u32()?));
        }
        d.end()?;
        if cuts.iter().any(|c| c.first + c.n as usize > spans.len()) {
            return Err(StageError::Other(
                "substring_dedup decision: corrupt data".into(),
            ));
        }
        Ok(Box::new(Apply {
            cfg: &self.cfg,
            cuts,
            spans,
        }))
    }
}

struct Decide<'a> {
    st: &'a Built,
    budget: Option<u64>,
    corpus: Option<CorpusWriter>,
    ids: BufWriter<File>,
    ids_path: PathBuf,
    /// Offsets of the ids in the ids file (one more than documents).
    id_offs: Vec<u64>,
    /// Packed [`DocRef`] of every document, in input (= corpus) order.
    refs: Vec<u64>,
    work: PathBuf,
    report: ReportSink,
}

/// The spans of one edited document.
#[derive(Clone, Copy, Debug)]
struct Cut {
    pos: u64,
    text_hash: u64,
    first: usize,
    n: u32,
}

/// A distinct removed span text.
struct Agg {
    len: u32,
    count: u64,
    doc: usize,
    start: u32,
}

impl Decider for Decide<'_> {
    fn observe(&mut self, at: DocRef, summary: &[u8], _: &mut Verdicts) -> Result<(), StageError> {
        let bad = || StageError::Other("substring_dedup: corrupt summary".into());
        let n = u32::from_le_bytes(summary.get(..4).ok_or_else(bad)?.try_into().expect("4"));
        let (id, text) = summary[4..].split_at_checked(n as usize).ok_or_else(bad)?;
        self.corpus
            .as_mut()
            .expect("observe before finish")
            .push(text)
            .map_err(suffix_err)?;
        self.ids
            .write_all(id)
            .map_err(|e| io_err(&self.ids_path, e))?;
        self.id_offs
            .push(self.id_offs.last().copied().unwrap_or(0) + id.len() as u64);
        self.refs.push(pack(at));
        Ok(())
    }

    fn finish(&mut self, _: &mut Verdicts) -> Result<Option<Vec<u8>>, StageError> {
        let cfg = &self.st.cfg;
        self.ids.flush().map_err(|e| io_err(&self.ids_path, e))?;
        let corpus = self
            .corpus
            .take()
            .expect("finish once")
            .finish()
            .map_err(suffix_err)?;
        let opts = Options {
            min_length: cfg.min_length,
            keep_first: cfg.keep_first,
            memory: self.budget,
            work_dir: self.work.clone(),
        };
        let mut cuts: Vec<Cut> = Vec::new();
        let mut spans: Vec<(u32, u32)> = Vec::new();
        let mut agg: HashMap<u64, Agg, foldhash::fast::FixedState> = HashMap::default();
        let refs = &self.refs;
        let stats = find_spans::<SuffixError>(&corpus, &opts, |d, text, s| {
            if s.is_empty() {
                return Ok(());
            }
            cuts.push(Cut {
                pos: refs[d],
                text_hash: xxhash_rust::xxh3::xxh3_64(text),
                first: spans.len(),
                n: s.len() as u32,
            });
            spans.extend_from_slice(s);
            if cfg.report_top > 0 {
                for &(a, b) in s {
                    let h = xxhash_rust::xxh3::xxh3_64(&text[a as usize..b as usize]);
                    agg.entry(h)
                        .or_insert(Agg {
                            len: b - a,
                            count: 0,
                            doc: d,
                            start: a,
                        })
                        .count += 1;
                }
            }
            Ok(())
        })
        .map_err(suffix_err)?;
        let bytes: u64 = spans.iter().map(|&(a, b)| u64::from(b - a)).sum();
        self.report(&corpus, agg)?;
        let mut summary = self.report.jsonl("summary.json")?;
        summary.write(&serde_json::json!({
                "min_length": cfg.min_length,
                "keep_first": cfg.keep_first,
                "memory_budget": self.budget,
                "documents": corpus.docs(),
                "corpus_bytes": corpus.len(),
                "partitions": stats.partitions,
                "suffix_arrays": stats.suffix_arrays,
                "sorted_bytes": stats.sorted_bytes,
                "duplicate_windows": stats.windows,
                "documents_edited": cuts.len(),
                "spans": spans.len(),
                "bytes": bytes,
        }))?;
        summary.finish()?;
        let _ = std::fs::remove_file(corpus.path());
        let _ = std::fs::remove_file(&self.ids_path);
        // The transform's state: the edited documents (sorted by position) and their spans.
        let mut e = Enc::default();
        e.len(cuts.len());
        for c in &cuts {
            e.u64(c.pos);
            e.u64(c.text_hash);
            e.u64(c.first as u64);
            e.u32(c.n);
        }
        e.len(spans.len());
        for &(a, b) in &spans {
            e.u32(a);
            e.u32(b);
        }
        Ok(Some(e.finish()))
    }
}

impl Decide<'_> {
    /// Writes `clusters.jsonl`: the top rows by bytes removed, with examples read back from
    /// the corpus and ids files.
    fn report(
        &self,
        corpus: &Corpus,
        agg: HashMap<u64, Agg, foldhash::fast::FixedState>,
    ) -> Result<(), StageError> {
        let top = self.st.cfg.report_top;
        let mut rows: Vec<(u64, Agg)> = agg.into_iter().collect();
        let key = |r: &(u64, Agg)| (std::cmp::Reverse(u64::from(r.1.len) * r.1.count), r.0);
        if rows.len() > top {
            rows.select_nth_unstable_by_key(top, key);
            rows.truncate(top);
        }
        rows.sort_unstable_by_key(key);
        let text_file = File::open(corpus.path()).map_err(|e| io_err(corpus.path(), e))?;
        let id_file = File::open(&self.ids_path).map_err(|e| io_err(&self.ids_path, e))?;
        let read = |f: &File, path: &Path, at: u64, len: usize| -> Result<Vec<u8>, StageError> {
            let mut buf = vec![0; len];
            f.read_exact_at(&mut buf, at).map_err(|e| io_err(path, e))?;
            Ok(buf)
        };
        let mut w = self.report.jsonl("clusters.jsonl")?;
        for (hash, a) in &rows {
            let at = corpus.doc_range(a.doc).start + u64::from(a.start);
            // 500 characters take at most 2000 bytes.
            let ex = read(&text_file, corpus.path(), at, (a.len as usize).min(2000))?;
            let ex: String = String::from_utf8_lossy(&ex).chars().take(500).collect();
            let id_at = self.id_offs[a.doc];
            let id = read(
                &id_file,
                &self.ids_path,
                id_at,
                (self.id_offs[a.doc + 1] - id_at) as usize,
            )?;
            w.write(&serde_json::json!({
                "cluster": format!("{hash:016x}"),
                "length": a.len,
                "occurrences": a.count,
                "bytes_removed": u64::from(a.len) * a.count,
                "example": ex,
                "example_id": String::from_utf8_lossy(&id),
            }))?;
        }
        w.finish()
    }
}

/// The transform: cuts the spans out of each edited document.
struct Apply<'a> {
    cfg: &'a SubstringDedup,
    /// Sorted by `pos`.
    cuts: Vec<Cut>,
    spans: Vec<(u32, u32)>,
}

impl Stage for Apply<'_> {
    fn process(&self, doc: &mut Doc, cx: &mut StageCx) -> Result<Verdict, StageError> {
        let Some(at) = cx.doc_ref() else {
            return Err(StageError::Other(
                "substring_dedup needs the document's position (run it through the executor)"
                    .into(),
            ));
        };
        let pos = pack(at);
        let cut = match self.cuts.binary_search_by_key(&pos, |c| c.pos) {
            Ok(i) => self.cuts[i],
            Err(_) => {
                if !self.cfg.count_field.is_empty() {
                    doc.set(&self.cfg.count_field, &0u64);
                }
                return Ok(Verdict::Keep);
            }
        };
        let text = doc.text();
        if xxhash_rust::xxh3::xxh3_64(text.as_bytes()) != cut.text_hash {
            return Err(StageError::Other(format!(
                "substring_dedup: document {} changed between summary and transform",
                doc.id()
            )));
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut removed = 0u64;
        for &(a, b) in &self.spans[cut.first..cut.first + cut.n as usize] {
            let (a, b) = (a as usize, b as usize);
            out.push_str(&text[last..a]);
            out.push_str(&self.cfg.replacement);
            removed += (b - a) as u64;
            last = b;
        }
        out.push_str(&text[last..]);
        cx.count("bytes_removed", removed);
        cx.count("spans_removed", u64::from(cut.n));
        if out.trim().is_empty() {
            return Ok(Verdict::drop("empty_after_dedup"));
        }
        if self.cfg.min_doc_chars > 0 && out.chars().count() < self.cfg.min_doc_chars {
            return Ok(Verdict::drop("too_short_after_dedup"));
        }
        doc.set_text(out);
        if !self.cfg.count_field.is_empty() {
            doc.set(&self.cfg.count_field, &removed);
        }
        Ok(Verdict::Keep)
    }
}
