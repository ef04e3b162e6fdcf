//! Run statistics: plain values that add up. Each worker fills its own, the executor sums
//! them in work-unit order and writes `stats.json`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::AddAssign;

/// Statistics of one stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageStats {
    /// The stage's type, as written in the pipeline file.
    #[serde(rename = "type")]
    pub kind: String,
    /// Documents that reached the stage.
    #[serde(rename = "in")]
    pub input: u64,
    /// Documents the stage passed on.
    pub kept: u64,
    /// Documents dropped, by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Time spent in the stage, summed over workers.
    pub seconds: f64,
    /// Stage-specific counters (replacements made, lines removed, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, u64>,
}

impl StageStats {
    /// Empty statistics for a stage of type `kind`.
    pub fn new(kind: &str) -> StageStats {
        StageStats {
            kind: kind.to_string(),
            ..Default::default()
        }
    }

    /// Documents dropped, all reasons together.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

impl AddAssign<&StageStats> for StageStats {
    fn add_assign(&mut self, o: &StageStats) {
        if self.kind.is_empty() {
            self.kind = o.kind.clone();
        }
        self.input += o.input;
        self.kept += o.kept;
        self.seconds += o.seconds;
        for (k, v) in &o.dropped {
            *self.dropped.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.counters {
            *self.counters.entry(k.clone()).or_default() += v;
        }
    }
}

/// Statistics of a run (or of one work unit, before merging).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Records read: every non-blank input line or Parquet row, quarantined ones included.
    pub input_docs: u64,
    /// Bytes of those records (uncompressed JSON lines with their newline; Parquet: the
    /// uncompressed size of the row groups read).
    pub input_bytes: u64,
    /// Documents written to the output.
    pub output_docs: u64,
    /// Bytes of the output documents as uncompressed JSON lines.
    pub output_bytes: u64,
    /// Bytes of the output shard files on disk.
    pub output_file_bytes: u64,
    /// Output shard files written.
    pub output_files: u64,
    /// Records quarantined (not documents: invalid JSON, missing text, ...).
    pub quarantined: u64,
    /// Quarantined records by reason.
    pub quarantine: BTreeMap<String, u64>,
    /// Blank lines skipped in JSONL input (they are not records).
    #[serde(default)]
    pub blank_lines: u64,
    /// Documents read from lines that were not valid UTF-8, repaired (`[input] invalid_utf8
    /// = "replace"`); they count as input documents like any other.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub invalid_utf8_replaced: u64,
    /// Per-stage statistics, in pipeline order.
    pub stages: Vec<StageStats>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RunStats {
    /// Sum of documents dropped by all stages.
    pub fn dropped_total(&self) -> u64 {
        self.stages.iter().map(StageStats::dropped_total).sum()
    }

    /// Checks `input_docs == output_docs + dropped + quarantined` and that each stage's
    /// `in == kept + dropped` and feeds the next stage; returns a description of the first
    /// violation.
    pub fn check_invariant(&self) -> Result<(), String> {
        let q: u64 = self.quarantine.values().sum();
        if q != self.quarantined {
            return Err(format!(
                "quarantined = {} but the reasons sum to {q}",
                self.quarantined
            ));
        }
        let total = self.output_docs + self.dropped_total() + self.quarantined;
        if self.input_docs != total {
            return Err(format!(
                "input_docs = {} but output_docs + dropped + quarantined = {total}",
                self.input_docs
            ));
        }
        let mut flowing = self.input_docs - self.quarantined;
        for (i, s) in self.stages.iter().enumerate() {
            if s.input != flowing {
                return Err(format!(
                    "stage {i} ({}) saw {} documents, {flowing} reached it",
                    s.kind, s.input
                ));
            }
            if s.input != s.kept + s.dropped_total() {
                return Err(format!(
                    "stage {i} ({}): in {} != kept {} + dropped {}",
                    s.kind,
                    s.input,
                    s.kept,
                    s.dropped_total()
                ));
            }
            flowing = s.kept;
        }
        if flowing != self.output_docs {
            return Err(format!(
                "{flowing} documents left the last stage, {} were written",
                self.output_docs
            ));
        }
        Ok(())
    }
}

impl AddAssign<&RunStats> for RunStats {
    fn add_assign(&mut self, o: &RunStats) {
        self.input_docs += o.input_docs;
        self.input_bytes += o.input_bytes;
        self.output_docs += o.output_docs;
        self.output_bytes += o.output_bytes;
        self.output_file_bytes += o.output_file_bytes;
        self.output_files += o.output_files;
        self.quarantined += o.quarantined;
        self.blank_lines += o.blank_lines;
        self.invalid_utf8_replaced += o.invalid_utf8_replaced;
        for (k, v) in &o.quarantine {
            *self.quarantine.entry(k.clone()).or_default() += v;
        }
        if self.stages.len() < o.stages.len() {
            self.stages.resize_with(o.stages.len(), StageStats::default);
        }
        for (a, b) in self.stages.iter_mut().zip(&o.stages) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_and_invariant() {
        let mut a = RunStats {
            input_docs: 10,
            output_docs: 6,
            quarantined: 1,
            quarantine: [("invalid_json".to_string(), 1)].into(),
            stages: vec![StageStats {
                kind: "length".into(),
                input: 9,
                kept: 6,
                dropped: [("min_words".to_string(), 3)].into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        a.check_invariant().unwrap();
        let b = a.clone();
        a += &b;
        assert_eq!(a.input_docs, 20);
        assert_eq!(a.stages[0].dropped["min_words"], 6);
        a.check_invariant().unwrap();
        a.output_docs += 1;
        assert!(a.check_invariant().is_err());
    }
}
