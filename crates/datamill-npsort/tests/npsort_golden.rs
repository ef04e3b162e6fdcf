//! `np_argsort` and `np_argpartition` against numpy 2.4.6 on an AVX-512 CPU
//! (`tests/golden/make_golden_npsort.py` wrote the oracle; the keys are regenerated here from
//! the same xorshift64 seeds).

use datamill_npsort::{np_argpartition, np_argsort};
use serde_json::Value;

fn keys(n: usize, distinct: u64, kind: &str, seed: u64) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let r = x % distinct;
            match kind {
                "quarter" => r as f64 * 0.25 - 3.0,
                "prob" => r as f64 / distinct as f64,
                "zeros" => [-0.0, 0.0, 1.0][(r % 3) as usize],
                "nan" if r.is_multiple_of(5) => f64::NAN,
                "nan" => r as f64 * 0.5,
                "sorted" => (i as u64 / distinct) as f64,
                "reversed" => ((n - i) as u64 / distinct) as f64,
                _ => panic!("unknown kind {kind}"),
            }
        })
        .collect()
}

fn fnv(perm: &[usize]) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &i in perm {
        for b in (i as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[test]
fn np_argsort_and_argpartition_equal_numpy_on_avx512_including_ties() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/npsort.numpy.json"
    );
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(g["numpy"], "2.4.6");
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() > 1000);
    let mut bad = Vec::new();
    let mut stable_differs = 0;
    let mut partitions = 0;
    let mut partitions_differ = 0;
    for c in cases {
        let n = c["n"].as_u64().unwrap() as usize;
        let kind = c["kind"].as_str().unwrap();
        let distinct = c["distinct"].as_u64().unwrap();
        let seed = c["seed"].as_u64().unwrap();
        let k = keys(n, distinct, kind, seed);
        if let Some(kth) = c["kth"].as_u64() {
            // argpartition: the set of the first kth indices.
            let kth = kth as usize;
            let mut got = np_argpartition(&k, kth);
            got.truncate(kth);
            got.sort_unstable();
            let ok = match (&c["perm"], &c["fnv"]) {
                (Value::Array(p), _) => {
                    let want: Vec<usize> = p.iter().map(|v| v.as_u64().unwrap() as usize).collect();
                    got == want
                }
                (_, Value::String(h)) => &fnv(&got) == h,
                _ => panic!("bad case {c}"),
            };
            if !ok {
                bad.push(format!(
                    "argpartition n={n} kind={kind} distinct={distinct} seed={seed} kth={kth}"
                ));
            }
            partitions += 1;
            // The set is not simply the earliest indices among ties.
            let mut stable: Vec<usize> = (0..n).collect();
            stable.sort_by(|&a, &b| k[a].total_cmp(&k[b]));
            stable.truncate(kth);
            stable.sort_unstable();
            if stable != got {
                partitions_differ += 1;
            }
            continue;
        }
        let got = np_argsort(&k);
        let ok = match (&c["perm"], &c["fnv"]) {
            (Value::Array(p), _) => {
                let want: Vec<usize> = p.iter().map(|v| v.as_u64().unwrap() as usize).collect();
                got == want
            }
            (_, Value::String(h)) => &fnv(&got) == h,
            _ => panic!("bad case {c}"),
        };
        if !ok {
            bad.push(format!("n={n} kind={kind} distinct={distinct} seed={seed}"));
        }
        // The oracle is not a stable sort: most tie-heavy cases order ties otherwise.
        let mut stable: Vec<usize> = (0..n).collect();
        stable.sort_by(|&a, &b| k[a].total_cmp(&k[b]));
        if fnv(&stable) != fnv(&got) {
            stable_differs += 1;
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} cases differ: {:?}",
        bad.len(),
        cases.len(),
        &bad[..bad.len().min(20)]
    );
    assert!(
        stable_differs > 500,
        "only {stable_differs} cases differ from a stable sort"
    );
    assert!(partitions > 200, "{partitions} argpartition cases");
    assert!(
        partitions_differ > 50,
        "only {partitions_differ} argpartition sets differ from the earliest-index choice"
    );
}
