//! `datamill_npsort::random` against numpy 2.4.6 (`tests/golden/make_golden_random.py` wrote
//! the oracle): seed sequences, PCG64 draws, `random()` and `permutation(n)`.

use datamill_npsort::random::{Pcg64, SeedSequence};
use serde_json::Value;

fn fnv(perm: &[u64]) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &i in perm {
        for b in i.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[test]
fn matches_numpy() {
    let golden: Value = serde_json::from_str(include_str!("golden/random.numpy.json")).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let mut perms = 0;
    for c in cases {
        let ent: Vec<u64> = c["entropy"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let want: Vec<u32> = c["state_u32"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(
            SeedSequence::new(&ent).generate_state_u32(8),
            want,
            "{ent:?}"
        );
        let mut g = Pcg64::from_entropy(&ent);
        let raw: Vec<u64> = (0..5).map(|_| g.next_u64()).collect();
        let want: Vec<u64> = c["raw"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(raw, want, "{ent:?}");
        let mut g = Pcg64::from_entropy(&ent);
        for v in c["random"].as_array().unwrap() {
            assert_eq!(g.next_f64(), v.as_f64().unwrap(), "{ent:?}");
        }
        for (n, want) in c["perms"].as_object().unwrap() {
            let n: usize = n.parse().unwrap();
            let p = Pcg64::from_entropy(&ent).permutation(n);
            match want {
                Value::Array(a) => {
                    let a: Vec<u64> = a.iter().map(|v| v.as_u64().unwrap()).collect();
                    assert_eq!(p, a, "{ent:?} n={n}");
                }
                Value::String(h) => assert_eq!(&fnv(&p), h, "{ent:?} n={n}"),
                _ => panic!(),
            }
            perms += 1;
        }
    }
    assert!(perms >= 100);
}
