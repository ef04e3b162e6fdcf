//! Shared helpers for the integration tests: data paths relative to the repo root.
#![allow(dead_code)]

use datamill_scaling::data::{ColumnMap, Needs, RowFilter, Runs, Table, extract_runs};

/// `../shared/data/scaling/` relative to the repository root.
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/scaling/");

pub fn table(rel: &str) -> Table {
    Table::read(std::path::Path::new(&format!("{DATA}{rel}"))).expect("reference data present")
}

/// Epoch's 240 rows: D = C/(6N), the 5 highest losses dropped.
pub fn epoch_runs() -> Runs {
    let t = table("epoch-chinchilla/svg_extracted_data.csv");
    let runs = extract_runs(
        &t,
        &ColumnMap::default(),
        &[],
        Needs {
            n: true,
            d: true,
            u: false,
        },
    )
    .unwrap();
    assert_eq!(runs.len(), 245);
    runs.drop_highest_losses(5)
}

pub fn datablations_runs() -> Runs {
    let t = table("datablations/datablations_fit_points_182.csv");
    extract_runs(
        &t,
        &ColumnMap::default(),
        &[],
        Needs {
            n: true,
            d: true,
            u: true,
        },
    )
    .unwrap()
}

pub fn gadre_runs(filters: &[&str]) -> Runs {
    let t = table("gadre-overtraining/gadre2024_models_loss.csv");
    let f: Vec<RowFilter> = filters
        .iter()
        .map(|s| RowFilter::parse(s).unwrap())
        .collect();
    extract_runs(
        &t,
        &ColumnMap::parse("N=params_N,D=tokens_D,loss=loss_c4_val").unwrap(),
        &f,
        Needs {
            n: true,
            d: true,
            u: false,
        },
    )
    .unwrap()
}

pub fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}
