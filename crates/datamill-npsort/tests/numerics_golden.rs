//! `percentile` and `Mt19937` against numpy 2.4.6 (`tests/golden/make_golden_numerics.py`
//! wrote the oracle): every value identical, bit for bit.

use datamill_npsort::{Mt19937, percentile};
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/numerics.numpy.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[test]
fn percentile_is_numpys_to_the_bit() {
    let g = golden();
    assert_eq!(g["numpy"], "2.4.6");
    let cases = g["percentile"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let mut checked = 0;
    for c in cases {
        let data = f64s(&c["data"]);
        for (q, want) in f64s(&c["q"]).into_iter().zip(f64s(&c["want"])) {
            let got = percentile(&data, q);
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "n={} q={q}: {got} vs {want}",
                data.len()
            );
            checked += 1;
        }
    }
    assert!(checked > 600);
}

#[test]
fn mt19937_draws_are_numpys() {
    let g = golden();
    for c in g["mt19937"].as_array().unwrap() {
        let seed = c["seed"].as_u64().unwrap() as u32;
        let mut r = Mt19937::new(seed);
        let u: Vec<u64> = (0..8).map(|_| u64::from(r.next_u32())).collect();
        assert_eq!(u, u64s(&c["u32"]), "seed {seed}");
        for (n, want) in c["choice"].as_object().unwrap() {
            let n: u32 = n.parse().unwrap();
            let mut r = Mt19937::new(seed);
            let got: Vec<u64> = (0..20).map(|_| u64::from(r.below(n))).collect();
            assert_eq!(got, u64s(want), "seed {seed} choice({n})");
        }
        let mut r = Mt19937::new(seed);
        let got: Vec<u64> = (0..8).map(|_| r.next_f64().to_bits()).collect();
        let want: Vec<u64> = f64s(&c["random_sample"])
            .iter()
            .map(|x| x.to_bits())
            .collect();
        assert_eq!(got, want, "seed {seed} random_sample");
        let mut r = Mt19937::new(seed);
        let got: Vec<u64> = (0..8).map(|_| r.gumbel().to_bits()).collect();
        let want: Vec<u64> = f64s(&c["gumbel"]).iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, want, "seed {seed} gumbel");
        let mut r = Mt19937::new(seed);
        let got: Vec<u64> = (0..8).map(|_| r.randint_u64(1, (1 << 61) - 1)).collect();
        assert_eq!(
            got,
            u64s(&c["randint_61"]),
            "seed {seed} randint(1, 2^61 - 1)"
        );
    }
}
