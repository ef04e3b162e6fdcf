//! k-means parity on the shipped samples' MiniLM embeddings (tests/golden/minilm_samples.npy)
//! from fixed initial centroids: scikit-learn 1.9.1's Lloyd KMeans and NeMo Curator's cuVS
//! loop (shared/tools/peers/semdedup_reference.py) give the same labels, and the inertia to
//! 1e-6 relative (tests/golden/make_kmeans_golden.py).

mod common;

use datamill_embed::kmeans::{KMeansParams, MemRows, StopRule, assign, fit, kmeans_plusplus};

fn golden() -> serde_json::Value {
    let p = common::golden_dir().join("kmeans_samples.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn check(stop: StopRule, key: &str, threads: usize) {
    let (x, n, d) = common::samples_matrix();
    let g = golden();
    let init: Vec<f32> = g["init_rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let r = r.as_u64().unwrap() as usize;
            x[r * d..(r + 1) * d].to_vec()
        })
        .collect();
    let rows = MemRows { data: &x, dim: d };
    let p = KMeansParams {
        max_iter: 300,
        tol: 1e-4,
        stop,
        threads,
    };
    let km = fit(&rows, &init, &p).unwrap();
    let (labels, dist) = assign(&rows, &km.centroids, threads).unwrap();
    let want: Vec<u32> = g[key]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(labels.len(), n);
    let diff = labels.iter().zip(&want).filter(|(a, b)| a != b).count();
    assert_eq!(diff, 0, "{key}: {diff} labels differ");
    let inertia: f64 = dist.iter().sum();
    let want_inertia = g[key]["inertia"].as_f64().unwrap();
    assert!(
        ((inertia - want_inertia) / want_inertia).abs() < 1e-6,
        "{key}: inertia {inertia} vs {want_inertia}"
    );
    assert_eq!(
        km.n_iter as u64,
        g[key]["n_iter"].as_u64().unwrap(),
        "{key}: iterations"
    );
}

#[test]
fn same_labels_and_inertia_as_scikit_learn() {
    check(StopRule::Sklearn, "sklearn", 1);
}

#[test]
fn same_labels_and_inertia_as_nemo_cuvs_loop_for_any_thread_count() {
    check(StopRule::Cuvs, "cuvs_reference", 1);
    check(StopRule::Cuvs, "cuvs_reference", 3);
}

#[test]
fn kmeans_plusplus_is_deterministic_and_picks_distinct_rows() {
    let (x, _, d) = common::samples_matrix();
    let rows = MemRows {
        data: &x[..400 * d],
        dim: d,
    };
    let a = kmeans_plusplus(&rows, 8, 42).unwrap();
    assert_eq!(a, kmeans_plusplus(&rows, 8, 42).unwrap());
    assert_ne!(a, kmeans_plusplus(&rows, 8, 43).unwrap());
    let picked: Vec<&[f32]> = a.chunks_exact(d).collect();
    for (i, c) in picked.iter().enumerate() {
        assert!(
            x.chunks_exact(d).any(|r| r == *c),
            "centroid {i} is a data row"
        );
        assert!(!picked[..i].contains(c), "centroid {i} repeats");
    }
}

#[test]
fn bad_inputs_are_errors() {
    let x = vec![0.0f32, 1.0, f32::NAN, 1.0];
    let rows = MemRows { data: &x, dim: 2 };
    let e = assign(&rows, &[0.0, 0.0], 1).unwrap_err().to_string();
    assert!(e.contains("row 1"), "{e}");
    let e = assign(&rows, &[0.0, 0.0, 1.0], 1).unwrap_err().to_string();
    assert!(e.contains("dimension 2"), "{e}");
    let p = KMeansParams {
        max_iter: 5,
        tol: 1e-4,
        stop: StopRule::Cuvs,
        threads: 1,
    };
    let e = fit(
        &MemRows {
            data: &[0.0, 1.0],
            dim: 2,
        },
        &[0.0, 0.0, 1.0, 1.0],
        &p,
    )
    .unwrap_err();
    assert!(e.to_string().contains("at least 2"), "{e}");
}
