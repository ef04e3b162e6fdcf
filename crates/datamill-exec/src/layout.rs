//! Where every file of a run lives in its output folder. One place names them, so the
//! tasks, the executors, the resume logic and the documentation cannot disagree.
//!
//! ```text
//! OUT/
//!   00000-000.jsonl.zst ...          output shards, named after the unit (<unit>-<part>)
//!   excluded/00000-000.jsonl.zst     dropped documents of pass 0 (later passes: 00000-p1-000...)
//!   quarantine/00000.jsonl           bad records of unit 0
//!   reports/<stage>/...              global stages' reports (<stage>-2 for a second one)
//!   stats.json                       the merged statistics, written last
//!   report.html                      the run's report (datamill-report), after stats.json
//!   .datamill/plan.json              the plan (files, units, passes, decisions)
//!   .datamill/pass<k>/<unit>.done    a task's completion marker, holding its statistics
//!   .datamill/pass<k>/<unit>.summ    its summaries for the global stage ending pass k
//!   .datamill/pass<k>/<unit>-000.jsonl.zst  its documents for pass k + 1
//!   .datamill/pass<k>/<unit>.notes   notes its transform left for a report
//!   .datamill/decision<k>/decision.json  the decision after pass k (written last)
//!   .datamill/decision<k>/verdicts.bin   one code per document
//!   .datamill/decision<k>/transform.bin  the transform's state, if any
//!   .datamill/decision<k>/report.done    the report step after pass k + 1 is done
//! ```

use std::path::{Path, PathBuf};

/// The paths of one run's files, under its output folder (an empty folder gives the paths
/// relative to it).
#[derive(Clone, Debug)]
pub struct Layout {
    out: PathBuf,
}

/// The name of unit `u`'s files: five digits.
pub fn stem(unit: usize) -> String {
    format!("{unit:05}")
}

impl Layout {
    /// The layout of output folder `out`.
    pub fn new(out: impl Into<PathBuf>) -> Layout {
        Layout { out: out.into() }
    }

    /// The output folder.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// `.datamill/`: the run's bookkeeping.
    pub fn state_dir(&self) -> PathBuf {
        self.out.join(".datamill")
    }

    /// `.datamill/plan.json`.
    pub fn plan(&self) -> PathBuf {
        self.state_dir().join("plan.json")
    }

    /// `.datamill/run.json`: where datamill before the plan layout kept its run identity.
    pub fn legacy_run(&self) -> PathBuf {
        self.state_dir().join("run.json")
    }

    /// `.datamill/pass<k>/`.
    pub fn pass_dir(&self, k: usize) -> PathBuf {
        self.state_dir().join(format!("pass{k}"))
    }

    /// The completion marker of task (pass `k`, unit `u`).
    pub fn marker(&self, k: usize, u: usize) -> PathBuf {
        self.pass_dir(k).join(format!("{}.done", stem(u)))
    }

    /// The summaries task (`k`, `u`) writes for the global stage ending pass `k`.
    pub fn summaries(&self, k: usize, u: usize) -> PathBuf {
        self.pass_dir(k).join(format!("{}.summ", stem(u)))
    }

    /// The notes task (`k`, `u`) keeps for the report of the transform it applied.
    pub fn notes(&self, k: usize, u: usize) -> PathBuf {
        self.pass_dir(k).join(format!("{}.notes", stem(u)))
    }

    /// The before/after examples task (`k`, `u`) keeps of the stages that rewrote text
    /// ([`crate::changes`]).
    pub fn changes(&self, k: usize, u: usize) -> PathBuf {
        self.pass_dir(k).join(format!("{}.changes.json", stem(u)))
    }

    /// The documents task (`k`, `u`) hands to pass `k + 1` (`suffix`: the codec's, e.g.
    /// `.zst`).
    pub fn hand_over(&self, k: usize, u: usize, suffix: &str) -> PathBuf {
        self.pass_dir(k)
            .join(format!("{}-000.jsonl{suffix}", stem(u)))
    }

    /// `.datamill/decision<k>/`: the decision made after pass `k`.
    pub fn decision_dir(&self, k: usize) -> PathBuf {
        self.state_dir().join(format!("decision{k}"))
    }

    /// The decision's description; its presence means the decision is complete.
    pub fn decision(&self, k: usize) -> PathBuf {
        self.decision_dir(k).join("decision.json")
    }

    /// The decision's verdict codes, unit after unit.
    pub fn verdicts(&self, k: usize) -> PathBuf {
        self.decision_dir(k).join("verdicts.bin")
    }

    /// The state of the decision's transform.
    pub fn transform(&self, k: usize) -> PathBuf {
        self.decision_dir(k).join("transform.bin")
    }

    /// The decider's scratch folder.
    pub fn work(&self, k: usize) -> PathBuf {
        self.decision_dir(k).join("work")
    }

    /// The marker of the report step of decision `k`.
    pub fn report_done(&self, k: usize) -> PathBuf {
        self.decision_dir(k).join("report.done")
    }

    /// `.datamill/decision<k>/details.bin`: details of drops (for `excluded_by`).
    pub fn details(&self, k: usize) -> PathBuf {
        self.decision_dir(k).join("details.bin")
    }

    /// The schema task's completion marker (holds what it changed).
    pub fn schema_done(&self) -> PathBuf {
        self.state_dir().join("schema.done")
    }

    /// The run-wide schema of the output shards.
    pub fn schema_file(&self) -> PathBuf {
        self.out.join("schema.json")
    }

    /// The Hugging Face dataset card of the output (`datasets.load_dataset(OUT)`).
    pub fn dataset_card(&self) -> PathBuf {
        self.out.join("README.md")
    }

    /// `reports/<name>/`.
    pub fn report_dir(&self, name: &str) -> PathBuf {
        self.out.join("reports").join(name)
    }

    /// `excluded/`.
    pub fn excluded_dir(&self) -> PathBuf {
        self.out.join("excluded")
    }

    /// The stem of the excluded documents of task (`k`, `u`).
    pub fn excluded_stem(&self, k: usize, u: usize) -> String {
        if k == 0 {
            stem(u)
        } else {
            format!("{}-p{k}", stem(u))
        }
    }

    /// `quarantine/<unit>.jsonl`.
    pub fn quarantine(&self, u: usize) -> PathBuf {
        self.out
            .join("quarantine")
            .join(format!("{}.jsonl", stem(u)))
    }

    /// `stats.json`.
    pub fn stats(&self) -> PathBuf {
        self.out.join("stats.json")
    }

    /// Removes everything a run writes to the folder (for `--force`); files of others stay.
    pub fn wipe(&self) -> std::io::Result<()> {
        for sub in [".datamill", "excluded", "quarantine", "reports"] {
            let p = self.out.join(sub);
            if p.exists() {
                std::fs::remove_dir_all(&p)?;
            }
        }
        if let Ok(entries) = std::fs::read_dir(&self.out) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if is_ours(&name) || is_ours_tmp(&name) {
                    std::fs::remove_file(e.path())?;
                }
            }
        }
        Ok(())
    }

    /// Removes temporary files an interrupted run left at the top of the folder.
    pub fn remove_stale_tmp(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.out) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if is_ours_tmp(&n) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// True for names of files a run writes at the top of its output folder: shards
/// (`NNNNN-NNN.<ext>`), `stats.json`, `schema.json` and `report.html` (the `datamill` binary's
/// report; the dataset card, `README.md`, is rewritten by each run but never removed: the name
/// is too common to claim).
fn is_ours(name: &str) -> bool {
    let b = name.as_bytes();
    (b.len() > 10
        && b[..5].iter().all(u8::is_ascii_digit)
        && b[5] == b'-'
        && b[6..9].iter().all(u8::is_ascii_digit)
        && b[9] == b'.')
        || name == "stats.json"
        || name == "schema.json"
        || name == "report.html"
}

/// True for a temporary name of one of [`is_ours`]' files: `<name>.tmp` or
/// `<name>.<pid>.tmp` (see [`crate::task::write_atomic`]).
fn is_ours_tmp(name: &str) -> bool {
    let Some(base) = name.strip_suffix(".tmp") else {
        return false;
    };
    if is_ours(base) || base == "README.md" {
        return true;
    }
    base.rsplit_once('.').is_some_and(|(b, pid)| {
        !pid.is_empty()
            && pid.bytes().all(|c| c.is_ascii_digit())
            && (is_ours(b) || b == "README.md")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let l = Layout::new("");
        assert_eq!(l.marker(1, 3), Path::new(".datamill/pass1/00003.done"));
        assert_eq!(
            l.hand_over(0, 12, ".zst"),
            Path::new(".datamill/pass0/00012-000.jsonl.zst")
        );
        assert_eq!(l.excluded_stem(0, 2), "00002");
        assert_eq!(l.excluded_stem(2, 2), "00002-p2");
        assert_eq!(l.report_dir("dsir"), Path::new("reports/dsir"));
        assert!(is_ours("00001-002.jsonl.zst") && is_ours("stats.json"));
        assert!(!is_ours("notes.txt") && !is_ours("0001-002.jsonl"));
        assert!(is_ours_tmp("stats.json.123.tmp") && is_ours_tmp("00001-002.jsonl.tmp"));
        assert!(!is_ours_tmp("stats.json") && !is_ours_tmp("mine.tmp"));
    }
}
