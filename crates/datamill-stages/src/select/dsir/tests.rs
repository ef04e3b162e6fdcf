//! Checks against data-selection 1.0.3 (`tests/golden/dsir/`, made by `make_golden.py`).

use super::*;
use crate::testing::{Fate, summaries};
use serde_json::Value;
use std::collections::HashSet;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/dsir");
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/samples/en_prose_sample.jsonl"
);

fn golden_json(name: &str) -> Value {
    let s = std::fs::read_to_string(format!("{GOLDEN}/{name}")).unwrap();
    serde_json::from_str(&s).unwrap()
}

fn pyf(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

fn pairs(v: &Value) -> Vec<(u32, u32)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap() as u32, p[1].as_u64().unwrap() as u32))
        .collect()
}

#[test]
fn features_equal_the_reference() {
    let g = golden_json("features.json");
    let f2 = Featurizer::new(2, 10000);
    let f3 = Featurizer::new(3, 1000);
    let f7 = Featurizer::new(2, 7);
    for (w, b) in g["hash_buckets_10000"].as_object().unwrap() {
        assert_eq!(f2.bucket(w.as_bytes()) as u64, b.as_u64().unwrap(), "{w:?}");
    }
    for (w, b) in g["hash_buckets_7"].as_object().unwrap() {
        assert_eq!(f7.bucket(w.as_bytes()) as u64, b.as_u64().unwrap(), "{w:?}");
    }
    let mut s = Scratch::default();
    let cases = g["features"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let text = c["text"].as_str().unwrap();
        assert_eq!(f2.counts(text, &mut s), pairs(&c["n2_b10000"]), "{text:?}");
        assert_eq!(
            f3.counts(text, &mut s),
            pairs(&c["n3_b1000"]),
            "{text:?} n=3"
        );
    }
}

#[test]
fn gumbel_noise_equals_numpy() {
    let g = golden_json("gumbel.json");
    for (seed, vals) in g.as_object().unwrap() {
        let mut r = Mt19937::new(seed.parse().unwrap());
        for v in vals.as_array().unwrap() {
            let want = pyf(v);
            let got = r.gumbel();
            assert!(
                (got - want).abs() <= 1e-15 * want.abs().max(1.0),
                "seed {seed}: {got} vs {want}"
            );
        }
    }
}

fn sample_lines() -> Vec<String> {
    std::fs::read_to_string(SAMPLE)
        .unwrap()
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn build(cfg: &str, base: &std::path::Path) -> Box<dyn GlobalStage> {
    let cfg: Dsir = toml::from_str(cfg).unwrap();
    let Step::Global(stage) = cfg
        .build(&BuildCx {
            seed: 0,
            base_dir: base.to_path_buf(),
        })
        .unwrap()
    else {
        panic!("global")
    };
    stage
}

/// Runs the built stage over `docs` the way the executor does (one unit).
fn run(
    cfg: &str,
    base: &std::path::Path,
    docs: &mut [Doc],
    report: Option<&std::path::Path>,
) -> Vec<Option<String>> {
    let stage = build(cfg, base);
    let s = summaries(&*stage, docs);
    decide(&*stage, &s, docs, report)
}

/// The decision pass over precomputed summaries; applies the transform to kept `docs`.
fn decide(
    stage: &dyn GlobalStage,
    summaries: &[Vec<u8>],
    docs: &mut [Doc],
    report: Option<&std::path::Path>,
) -> Vec<Option<String>> {
    let cx = DecideCx {
        report: report.map_or_else(datamill_core::ReportSink::memory, |p| {
            datamill_core::ReportSink::dir(p)
        }),
        ..Default::default()
    };
    let decided = crate::testing::decide(stage, summaries, usize::MAX, &cx);
    let fates = crate::testing::apply(&decided, docs.to_vec());
    for (d, f) in docs.iter_mut().zip(&fates) {
        if let Fate::Kept(k) = f {
            *d = k.clone();
        }
    }
    fates.iter().map(|f| f.reason().map(String::from)).collect()
}

fn golden_weights(name: &str) -> Vec<(String, f64, u64)> {
    use std::io::Read;
    let f = std::fs::File::open(format!("{GOLDEN}/weights_{name}.tsv.gz")).unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .skip(1)
        .map(|l| {
            let mut it = l.split('\t');
            let id = it.next().unwrap().to_string();
            let w = it.next().unwrap().parse().unwrap();
            let n = it.next().unwrap().parse().unwrap();
            (id, w, n)
        })
        .collect()
}

fn check_scenario(name: &str, mut docs: Vec<Doc>, target: &std::path::Path) {
    let model = &golden_json("model.json")[name];
    let k = model["k"].as_u64().unwrap();
    let min_len = model["min_example_length"].as_u64().unwrap();
    let weights = golden_weights(name);
    assert_eq!(weights.len(), docs.len());
    let dir = target.parent().unwrap();
    let tname = target.file_name().unwrap().to_str().unwrap();

    // Weights and lengths, through the model (log_diff) and the features (decoded from the
    // stage's summaries, which every selection below reuses).
    let b = Featurizer::new(2, 10000);
    let mut s = Scratch::default();
    let mut raw = vec![0u64; 10000];
    let stage = build(&format!("target = [\"{tname}\"]\nk = 1"), dir);
    let sums = summaries(&*stage, &docs);
    let feats: Vec<Vec<(u32, u32)>> = sums
        .iter()
        .map(|x| {
            let mut p = Vec::new();
            assert_eq!(decode(x, &mut p).unwrap(), 0);
            p
        })
        .collect();
    for f in &feats {
        for &(i, c) in f {
            raw[i as usize] += c as u64;
        }
    }
    let mut tgt = vec![0u64; 10000];
    for l in std::fs::read_to_string(target).unwrap().lines() {
        let d = Doc::from_json(l.to_string(), &Default::default(), || "x".into()).unwrap();
        for (i, c) in b.counts(d.text(), &mut s) {
            tgt[i as usize] += c as u64;
        }
    }
    assert_eq!(
        raw.iter().sum::<u64>(),
        model["raw_total"].as_u64().unwrap()
    );
    assert_eq!(
        tgt.iter().sum::<u64>(),
        model["target_total"].as_u64().unwrap()
    );
    let ld = log_diff(&tgt, &raw);
    for (i, x) in model["log_diff_first"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(ld[i], pyf(x), "log_diff[{i}]");
    }
    let sum: f64 = ld.iter().sum();
    assert!((sum - pyf(&model["log_diff_sum"])).abs() < 1e-9 * sum.abs());
    let mut worst = 0f64;
    for ((id, w, n), (d, f)) in weights.iter().zip(docs.iter().zip(&feats)) {
        assert_eq!(id, d.id());
        let total: u64 = f.iter().map(|x| x.1 as u64).sum();
        assert_eq!(b.length(total), *n, "{id}");
        let got = log_weight(&ld, f);
        assert_eq!(got.to_bits(), w.to_bits(), "{id}: {got} vs {w}");
        let rel = (got - w).abs() / w.abs().max(1e-300);
        worst = worst.max(rel);
        assert!(rel <= 1e-6 || (got - w).abs() < 1e-9, "{id}: {got} vs {w}");
    }
    eprintln!("scenario {name}: worst relative weight error {worst:e}");

    // Selections: Gumbel top-k with numpy seeds, and plain top-k.
    let ids: Vec<String> = docs.iter().map(|d| d.id().to_string()).collect();
    for (sel, want) in model["selected"].as_object().unwrap() {
        let want: HashSet<&str> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let mode = match sel.strip_prefix("gumbel_seed") {
            Some(seed) => format!("seed = {seed}"),
            None => "top_k = true".to_string(),
        };
        let cfg =
            format!("target = [\"{tname}\"]\nk = {k}\nmin_example_length = {min_len}\n{mode}");
        let report = dir.join(format!("report_{name}_{sel}"));
        let mut docs2 = docs.clone();
        let verdicts = decide(&*build(&cfg, dir), &sums, &mut docs2, Some(&report));
        let got: HashSet<&str> = ids
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| i.as_str())
            .collect();
        assert_eq!(got.len(), k as usize, "{name} {sel}");
        assert_eq!(got, want, "{name} {sel}: selected sets differ");
        let short = verdicts
            .iter()
            .filter(|v| v.as_deref() == Some("dsir_too_short"))
            .count();
        assert_eq!(
            docs.len() - short,
            model["eligible"].as_u64().unwrap() as usize
        );
        // Weights written to the kept documents.
        for ((d, v), (_, w, _)) in docs2.iter().zip(&verdicts).zip(&weights) {
            match v {
                None => {
                    let got = d.get_value("dsir_log_weight").unwrap().as_f64().unwrap();
                    assert!((got - w).abs() <= 1e-6 * w.abs().max(1e-3));
                }
                Some(_) => assert!(d.get_raw("dsir_log_weight").is_none()),
            }
        }
        let rep: Value =
            serde_json::from_slice(&std::fs::read(report.join("dsir.json")).unwrap()).unwrap();
        let klr = &model["klr"][sel];
        for (key, ours) in [
            ("kl_target_raw", "raw"),
            ("kl_target_selected", "selected"),
            ("kl_reduction", "gain_over_raw"),
        ] {
            let (g, w) = (rep["kl_to_target"][ours].as_f64().unwrap(), pyf(&klr[key]));
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1e-6),
                "{sel} {key}: {g} vs {w}"
            );
        }
        assert_eq!(rep["selected"], k);
    }
    let _ = &mut docs;
}

fn target_file(dir: &std::path::Path, lines: &[String]) -> std::path::PathBuf {
    let p = dir.join("target_manpages.jsonl");
    let mut s = String::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        if v["shard"] == "manpages" {
            s.push_str(l);
            s.push('\n');
        }
    }
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn golden_weights_and_selection_en_prose() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = sample_lines();
    let target = target_file(tmp.path(), &lines);
    let docs: Vec<Doc> = lines
        .iter()
        .map(|l| Doc::from_json(l.clone(), &Default::default(), || "x".into()).unwrap())
        .collect();
    check_scenario("A", docs, &target);
}

#[test]
fn golden_weights_and_selection_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = sample_lines();
    let target = target_file(tmp.path(), &lines);
    let mut docs = Vec::new();
    for l in &lines[..600] {
        let d = Doc::from_json(l.clone(), &Default::default(), || "x".into()).unwrap();
        let words: Vec<&str> = datamill_filters::pystr::split_whitespace(d.text()).collect();
        for (j, c) in words.chunks(16).enumerate() {
            docs.push(Doc::new(format!("{}#{j}", d.id()), c.join(" ")));
        }
    }
    check_scenario("C", docs, &target);
}

#[test]
fn budgets_fraction_and_params() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("t.jsonl"),
        "{\"text\":\"the cat sat on the mat\"}\n{\"text\":\"a cat and a dog\"}\n",
    )
    .unwrap();
    let mk = |text: &str, tokens: Option<u64>| {
        let mut d = Doc::new("x", text);
        if let Some(t) = tokens {
            d.set("token_count", &t);
        }
        d
    };
    let docs = vec![
        mk("the cat sat on the mat with a hat", Some(10)),
        mk("stock markets fell sharply today", Some(6)),
        mk("a cat and a dog sat on a mat", Some(9)),
        mk("the dog and the cat", None),
        mk("x", Some(1)),
    ];
    let base = "target = [\"t.jsonl\"]\nmin_example_length = 2\ntop_k = true\n";
    // Token budget 20: best-ranked docs while they fit; doc 3 lacks tokens, doc 4 is too short.
    let v = run(
        &format!("{base}token_budget = 20"),
        tmp.path(),
        &mut docs.clone(),
        None,
    );
    assert_eq!(v[0], None);
    assert_eq!(v[2], None);
    assert_eq!(v[1].as_deref(), Some("dsir_not_selected"));
    assert_eq!(v[3].as_deref(), Some("dsir_tokens_missing"));
    assert_eq!(v[4].as_deref(), Some("dsir_too_short"));
    let v = run(
        &format!("{base}token_budget = 18"),
        tmp.path(),
        &mut docs.clone(),
        None,
    );
    assert_eq!(v.iter().filter(|x| x.is_none()).count(), 1);
    // fraction of 5 docs: 0.5 -> 2.
    let v = run(
        &format!("{base}fraction = 0.5"),
        tmp.path(),
        &mut docs.clone(),
        None,
    );
    assert_eq!(v.iter().filter(|x| x.is_none()).count(), 2);
    // k larger than the eligible count keeps all eligible docs.
    let mut d2 = docs.clone();
    let v = run(
        &format!("{base}k = 100\nweight_field = \"w\""),
        tmp.path(),
        &mut d2,
        None,
    );
    assert_eq!(v.iter().filter(|x| x.is_none()).count(), 4);
    assert!(
        d2[0].get_value("w").unwrap().as_f64().unwrap()
            > d2[1].get_value("w").unwrap().as_f64().unwrap()
    );

    let err = |s: &str| match toml::from_str::<Dsir>(s)
        .unwrap()
        .build(&BuildCx::default())
    {
        Err(StageError::Config { param, .. }) => param,
        _ => panic!("{s} should fail"),
    };
    assert_eq!(err("target = [\"t\"]"), "k");
    assert_eq!(err("target = [\"t\"]\nk = 1\nfraction = 0.5"), "k");
    assert_eq!(err("target = []\nk = 1"), "target");
    assert_eq!(err("target = [\"t\"]\nfraction = 2.0"), "fraction");
    assert_eq!(
        err("target = [\"t\"]\nk = 1\ntokenizer = \"word_tokenize\""),
        "tokenizer"
    );
    assert_eq!(
        err("target = [\"t\"]\nk = 1\nnum_tokens_to_fit = \"most\""),
        "num_tokens_to_fit"
    );
    assert_eq!(err("target = [\"t\"]\nk = 1\nseed = 5000000000"), "seed");
    assert_eq!(
        err("target = [\"t\"]\nk = 1\nnum_buckets = 0"),
        "num_buckets"
    );
    // A missing target is reported when deciding.
    let cfg: Dsir = toml::from_str("target = [\"nope.jsonl\"]\nk = 1").unwrap();
    let Step::Global(g) = cfg
        .build(&BuildCx {
            seed: 0,
            base_dir: tmp.path().into(),
        })
        .unwrap()
    else {
        panic!()
    };
    assert!(matches!(
        g.decider(&DecideCx::default()),
        Err(StageError::Config { .. })
    ));
}

#[test]
fn fit_cap_stops_after_the_crossing_document() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("t.jsonl"), "{\"text\":\"b b b\"}\n").unwrap();
    // Doc 0 has 3 n-grams (2 words: "a", "a", "a a"), doc 1 too; a cap of 2 is crossed by
    // doc 0, so doc 1's n-grams ("b b") are not in the raw model: its weight is larger than
    // with "all".
    let docs = vec![Doc::new("0", "a a"), Doc::new("1", "b b")];
    let w = |fit: &str| {
        let mut d = docs.clone();
        run(
            &format!(
                "target = [\"t.jsonl\"]\nk = 2\nmin_example_length = 0\nnum_tokens_to_fit = {fit}"
            ),
            tmp.path(),
            &mut d,
            None,
        );
        d[1].get_value("dsir_log_weight").unwrap().as_f64().unwrap()
    };
    assert!(w("2") > w("\"all\"") + 10.0);
    // A cap of 3 is not passed by doc 0 (3 n-grams): doc 1 is fitted too.
    assert_eq!(w("3"), w("\"all\""));
}

#[test]
fn spilled_features_decide_like_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("t.jsonl"),
        "{\"text\":\"the cat sat on the mat\"}\n",
    )
    .unwrap();
    let docs: Vec<Doc> = (0..300)
        .map(|i| {
            Doc::new(
                format!("{i}"),
                format!("the cat {i} sat on mat {} and dog {}", i % 7, i % 13),
            )
        })
        .collect();
    let stage = build(
        "target = [\"t.jsonl\"]\nk = 50\nmin_example_length = 3\nseed = 3",
        tmp.path(),
    );
    let sums = summaries(&*stage, &docs);
    let in_mem = decide(&*stage, &sums, &mut docs.clone(), None);
    let work = tmp.path().join("work");
    let cx = DecideCx {
        work_dir: work.clone(),
        ..Default::default()
    };
    let spilled = crate::testing::decide(&*stage, &sums, usize::MAX, &cx).reasons();
    assert_eq!(spilled, in_mem);
    assert_eq!(in_mem.iter().filter(|x| x.is_none()).count(), 50);
    assert!(
        !work.join("dsir_features.bin").exists(),
        "the work file is removed"
    );
}

#[test]
fn report_compares_the_selection_with_a_random_subset_of_its_size() {
    let tmp = tempfile::tempdir().unwrap();
    let target: String = (0..40)
        .map(|i| {
            format!(
                "{{\"text\":\"the option -{i} prints the manual page of the command and exits\"}}\n"
            )
        })
        .collect();
    std::fs::write(tmp.path().join("t.jsonl"), target).unwrap();
    let mut docs: Vec<Doc> = (0..200)
        .map(|i| {
            let text = if i % 4 == 0 {
                format!("the option -{i} prints the manual page of the tool {i} and exits")
            } else {
                format!("a recipe {i}: stir the flour into warm milk, bake it for {i} minutes")
            };
            Doc::new(format!("{i}"), text)
        })
        .collect();
    let report = tmp.path().join("report");
    let rep = |k: usize, docs: &mut [Doc]| -> Value {
        let cfg = format!("target = [\"t.jsonl\"]\nk = {k}\nmin_example_length = 3\ntop_k = true");
        run(&cfg, tmp.path(), docs, Some(&report));
        serde_json::from_slice(&std::fs::read(report.join("dsir.json")).unwrap()).unwrap()
    };
    let f = |v: &Value, k: &str| v["kl_to_target"][k].as_f64().unwrap();
    // 50 of 200, the on-target quarter: far closer to the target than 50 random documents.
    let r = rep(50, &mut docs.clone());
    assert!(f(&r, "gain_over_random") > 0.5, "{r}");
    let diff = f(&r, "random_same_size") - f(&r, "selected");
    assert!((f(&r, "gain_over_random") - diff).abs() < 1e-12);
    let diff = f(&r, "raw") - f(&r, "selected");
    assert!((f(&r, "gain_over_raw") - diff).abs() < 1e-12);
    // The report reads in order: the verdict first, the explanation with it.
    let keys: Vec<&String> = r["kl_to_target"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "about",
            "gain_over_random",
            "gain_over_raw",
            "selected",
            "random_same_size",
            "raw"
        ]
    );
    assert!(r.get("kl_reduction").is_none(), "{r}");
    // Everything selected: the random subset is the same set.
    let r = rep(200, &mut docs);
    assert_eq!(f(&r, "random_same_size"), f(&r, "selected"), "{r}");
    assert_eq!(f(&r, "gain_over_random"), 0.0);
}

/// Several targets selected for separately (data-selection's `separate_targets`, with and
/// without `target_proportions`, Gumbel and top-k): the same selected sets as the reference
/// (tests/golden/dsir/make_golden_separate.py), each kept document labelled with its target.
#[test]
fn golden_separate_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = sample_lines();
    for shard in ["manpages", "fortunes"] {
        let mut s = String::new();
        for l in &lines {
            let v: Value = serde_json::from_str(l).unwrap();
            if v["shard"] == shard {
                s.push_str(l);
                s.push('\n');
            }
        }
        std::fs::write(tmp.path().join(format!("{shard}.jsonl")), s).unwrap();
    }
    let mut docs = Vec::new();
    for l in &lines[..600] {
        let d = Doc::from_json(l.clone(), &Default::default(), || "x".into()).unwrap();
        let words: Vec<&str> = datamill_filters::pystr::split_whitespace(d.text()).collect();
        for (j, c) in words.chunks(16).enumerate() {
            docs.push(Doc::new(format!("{}#{j}", d.id()), c.join(" ")));
        }
    }
    let g = golden_json("separate.json");
    let k = g["k"].as_u64().unwrap();
    let cases = g["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 4);
    for (name, c) in cases {
        let mut cfg = format!(
            "target = [\"manpages.jsonl\", \"fortunes.jsonl\"]\nseparate_targets = true\n\
             k = {k}\nmin_example_length = {}\n",
            g["min_example_length"]
        );
        if let Some(p) = c["target_proportions"].as_array() {
            let p: Vec<String> = p.iter().map(|x| x.to_string()).collect();
            cfg += &format!("target_proportions = [{}]\n", p.join(", "));
        }
        if c["top_k"].as_bool().unwrap() {
            cfg += "top_k = true\n";
        } else {
            cfg += &format!("seed = {}\n", c["seed"]);
        }
        let report = tmp.path().join(format!("report_{name}"));
        let mut kept_docs = docs.clone();
        let verdicts = run(&cfg, tmp.path(), &mut kept_docs, Some(&report));
        let got: Vec<&str> = docs
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| v.is_none())
            .map(|(d, _)| d.id())
            .collect();
        let want: Vec<&str> = c["selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{name}");
        assert!(got == want, "{name}: selected sets differ");
        // Quotas as the reference's, and every kept document says which target chose it.
        let rep: Value =
            serde_json::from_slice(&std::fs::read(report.join("dsir.json")).unwrap()).unwrap();
        let quotas: Vec<u64> = rep["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["quota"].as_u64().unwrap())
            .collect();
        let want_q: Vec<u64> = c["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(quotas, want_q, "{name}");
        let mut per = [0u64; 2];
        for (d, v) in kept_docs.iter().zip(&verdicts) {
            if v.is_none() {
                match d.get_str("dsir_target").unwrap().as_ref() {
                    "manpages.jsonl" => per[0] += 1,
                    "fortunes.jsonl" => per[1] += 1,
                    o => panic!("{o}"),
                }
                assert!(d.get_value("dsir_log_weight").unwrap().is_f64());
            }
        }
        assert_eq!(per.to_vec(), want_q, "{name}");
    }
}

#[test]
fn separate_target_parameters_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let err = |cfg: &str| {
        let c: Dsir = toml::from_str(cfg).unwrap();
        match c.build(&BuildCx {
            seed: 0,
            base_dir: tmp.path().to_path_buf(),
        }) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {cfg}"),
        }
    };
    let e = err("target = [\"a\", \"b\"]\nk = 5\ntarget_proportions = [1, 1]");
    assert!(e.contains("separate_targets"), "{e}");
    let e =
        err("target = [\"a\", \"b\"]\nk = 5\nseparate_targets = true\ntarget_proportions = [1]");
    assert!(e.contains("one share per"), "{e}");
    let e =
        err("target = [\"a\", \"b\"]\nk = 5\nseparate_targets = true\ntarget_proportions = [0, 0]");
    assert!(e.contains("not all zero"), "{e}");
    let e = err("target = [\"a\", \"b\"]\ntoken_budget = 5\nseparate_targets = true");
    assert!(e.contains("token_budget"), "{e}");
}

/// `top_k` on duplicated documents (equal weights straddling the cut): the same set as
/// data-selection's `np.argpartition`, which on AVX-512 keeps a later copy at k = 1030 and 1033.
#[test]
fn golden_top_k_ties_choose_as_numpy() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = sample_lines();
    target_file(tmp.path(), &lines);
    let mut docs = Vec::new();
    for l in &lines[..600] {
        let d = Doc::from_json(l.clone(), &Default::default(), || "x".into()).unwrap();
        let words: Vec<&str> = datamill_filters::pystr::split_whitespace(d.text()).collect();
        for (j, c) in words.chunks(16).enumerate() {
            for copy in 0..3 {
                docs.push(Doc::new(format!("{}#{j}~{copy}", d.id()), c.join(" ")));
            }
        }
    }
    let g = golden_json("separate.json");
    let stage = build(
        "target = [\"target_manpages.jsonl\"]\nk = 1\nmin_example_length = 8\ntop_k = true",
        tmp.path(),
    );
    let sums = summaries(&*stage, &docs);
    let mut later_copy = false;
    for (k, want) in g["ties_top_k"].as_object().unwrap() {
        let stage = build(
            &format!(
                "target = [\"target_manpages.jsonl\"]\nk = {k}\nmin_example_length = 8\ntop_k = true"
            ),
            tmp.path(),
        );
        let v = decide(&*stage, &sums, &mut docs.clone(), None);
        let got: Vec<&str> = docs
            .iter()
            .zip(&v)
            .filter(|(_, v)| v.is_none())
            .map(|(d, _)| d.id())
            .collect();
        let want: Vec<&str> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert!(got == want, "k = {k}: selected sets differ");
        // Some group is cut with its first copy left out (not the earliest-index choice).
        later_copy |= got
            .iter()
            .any(|id| id.ends_with("~1") && !got.contains(&id.replace("~1", "~0").as_str()));
    }
    assert!(later_copy, "no case where numpy keeps a later copy");
}

const MULTI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/dsir/multi");

/// data-selection's virtual shards, as `_get_virtually_sharded_datasets` makes them.
#[test]
fn virtual_shards_split_processes_over_files() {
    let counts = |files, p| {
        let s = VirtualShards::new(files, p);
        (0..files).map(|f| s.count(f)).collect::<Vec<_>>()
    };
    assert_eq!(counts(2, 1), [1, 1]);
    assert_eq!(counts(1, 4), [4]);
    assert_eq!(counts(3, 7), [3, 2, 2]);
    assert_eq!(counts(3, 4), [2, 1, 1]);
    assert_eq!(counts(5, 3), [1, 1, 1, 1, 1]);
    let s = VirtualShards::new(3, 7);
    assert_eq!(s.total(), 7);
    assert_eq!((s.shard(0, 4), s.shard(1, 3), s.shard(2, 2)), (1, 4, 5));
}

/// Several raw files, checked against data-selection (`multi/make_golden_multi.py`): the fit
/// split over virtual shards, the example order the Gumbel noise follows, the weights (bit for
/// bit) and the selected sets, for 1 to 7 processes; each file is cut into several work units
/// (a unit is not a file).
#[test]
fn golden_several_raw_files() {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(format!("{MULTI}/multi.json.gz")).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    let g: Value = serde_json::from_str(&s).unwrap();
    let mut pile = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(format!("{MULTI}/toy_pile_400.jsonl.gz")).unwrap(),
    )
    .read_to_string(&mut pile)
    .unwrap();
    let pile: Vec<&str> = pile.lines().collect();
    assert_eq!(pile.len(), 400);
    // The pile's own `id`s repeat across the copies: name documents by file and line.
    let names = FieldNames {
        text: "contents".into(),
        id: "no_such_field".into(),
    };
    let tmp = tempfile::tempdir().unwrap();
    let scenarios: [(&str, Vec<&[&str]>, &str); 3] = [
        (
            "two_copies",
            vec![&pile[..], &pile[..]],
            "target = [\"toy_target_data.jsonl\"]\nnum_tokens_to_fit = 100000",
        ),
        (
            "three_files",
            vec![&pile[..50], &pile[50..200], &pile[200..]],
            "target = [\"toy_target_data.jsonl\"]\nnum_tokens_to_fit = 60000\nngrams = 3\n\
             num_buckets = 1009\nmin_example_length = 20",
        ),
        (
            "separate",
            vec![&pile[..50], &pile[50..200], &pile[200..]],
            "target = [\"toy_target_data.jsonl\", \"toy_target_data_2.jsonl\"]\n\
             separate_targets = true\nnum_tokens_to_fit = 20000",
        ),
    ];
    let mut checked = 0;
    for (name, files, base_cfg) in scenarios {
        let mut docs = Vec::new();
        let mut units = Vec::new();
        for (f, lines) in files.iter().enumerate() {
            for (j, l) in lines.iter().enumerate() {
                docs.push(Doc::from_json(l.to_string(), &names, || format!("{f}:{j}")).unwrap());
            }
            // Units of 37 documents: a file is several units.
            let mut left = lines.len() as u32;
            while left > 0 {
                units.push((f as u32 + 10, left.min(37)));
                left -= left.min(37);
            }
        }
        for case in g[name].as_array().unwrap() {
            let p = case["num_proc"].as_u64().unwrap();
            let pos: HashMap<String, usize> = case["order"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, at)| (format!("{}:{}", at[0], at[1]), i))
                .collect();
            let weights: Vec<f64> = case["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(pyf)
                .collect();
            let nt = weights.len() / pos.len();
            let mut sels: Vec<(String, Value)> = case["selected"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            // Every eligible document kept: all their weights are written.
            sels.push(("all".into(), Value::Null));
            for (sel, want) in sels {
                let mode = match sel.as_str() {
                    "top_k" => "top_k = true\nk = 50".to_string(),
                    "all" => "k = 1000000\nseed = 0".to_string(),
                    s => format!(
                        "seed = {}\nk = {}",
                        s.trim_start_matches("seed"),
                        want.as_array().unwrap().len()
                    ),
                };
                let cfg =
                    format!("{base_cfg}\ntarget_text_field = \"contents\"\nnum_proc = {p}\n{mode}");
                let stage = build(&cfg, std::path::Path::new(MULTI));
                let sums = summaries(&*stage, &docs);
                let report = tmp.path().join(format!("{name}_{p}_{sel}"));
                let cx = DecideCx {
                    report: datamill_core::ReportSink::dir(&report),
                    ..Default::default()
                };
                let decided = crate::testing::decide_files(&*stage, &sums, &units, &cx);
                let fates = crate::testing::apply(&decided, docs.clone());
                let rep: Value =
                    serde_json::from_slice(&std::fs::read(report.join("dsir.json")).unwrap())
                        .unwrap();
                let what = format!("{name} num_proc={p} {sel}");
                assert_eq!(rep["raw_ngrams_fitted"], case["fitted"], "{what}");
                assert_eq!(rep["virtual_shards"], case["shards"], "{what}");
                assert_eq!(rep["raw_files"], files.len(), "{what}");
                let mut kept = Vec::new();
                for f in &fates {
                    let Some(d) = f.doc() else { continue };
                    let i = *pos
                        .get(d.id())
                        .unwrap_or_else(|| panic!("{what}: id {:?}", d.id()));
                    let t = match d.get_value("dsir_target") {
                        Some(Value::String(t)) => {
                            usize::from(t.as_str() == "toy_target_data_2.jsonl")
                        }
                        _ => 0,
                    };
                    // The written text, parsed exactly (serde_json's own float parsing may
                    // be an ulp off).
                    let got: f64 = d.get_raw("dsir_log_weight").unwrap().parse().unwrap();
                    let w = weights[i * nt + t];
                    if nt == 1 {
                        assert_eq!(
                            got.to_bits(),
                            w.to_bits(),
                            "{what}: {} {got} vs {w}",
                            d.id()
                        );
                    } else {
                        // Several targets: numpy's matrix-vector product (OpenBLAS dgemv,
                        // whose order depends on its thread count) is not replayed.
                        assert!((got - w).abs() <= 1e-13 * w.abs(), "{what}: {got} vs {w}");
                    }
                    kept.push(d.id().to_string());
                }
                if sel == "all" {
                    let lengths = case["lengths"].as_array().unwrap();
                    let eligible = lengths
                        .iter()
                        .filter(|l| l.as_u64().unwrap() >= rep_min_len(&cfg))
                        .count();
                    assert_eq!(kept.len(), eligible, "{what}");
                    continue;
                }
                kept.sort();
                let mut want: Vec<String> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|at| format!("{}:{}", at[0], at[1]))
                    .collect();
                want.sort();
                assert_eq!(kept, want, "{what}: selected sets differ");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 2 + 4 + 2);
}

fn rep_min_len(cfg: &str) -> u64 {
    let c: Dsir = toml::from_str(cfg).unwrap();
    c.min_example_length
}

/// The case: with two raw files and `num_proc = 1`, data-selection fits each file up
/// to half the cap; fitting the input in order up to the whole cap (datamill before) gives
/// other weights.
#[test]
fn two_raw_files_split_the_fit_cap() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("t.jsonl"), "{\"text\":\"b b b\"}\n").unwrap();
    // File 0: "a a" (3 n-grams) twice; file 1: "b b" (3 n-grams). Cap 6 over 2 files = 3 per
    // file: file 0 stops after its first document, file 1 fits its document.
    let docs = vec![
        Doc::new("0", "a a"),
        Doc::new("1", "c c"),
        Doc::new("2", "b b"),
    ];
    let stage = build(
        "target = [\"t.jsonl\"]\nk = 3\nmin_example_length = 0\nnum_tokens_to_fit = 5",
        tmp.path(),
    );
    let sums = summaries(&*stage, &docs);
    let weight = |units: &[(u32, u32)]| {
        let d = crate::testing::decide_files(&*stage, &sums, units, &DecideCx::default());
        let fates = crate::testing::apply(&d, docs.clone());
        fates
            .iter()
            .map(|f| {
                f.doc()
                    .unwrap()
                    .get_value("dsir_log_weight")
                    .unwrap()
                    .as_f64()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    // One file: cap 5 crossed by doc 1 (6 n-grams): "b b" is not fitted.
    let one = weight(&[(0, 3)]);
    // Two files (cap 2 each): doc 0 closes file 0, doc 2 is fitted in file 1; "c c" is not.
    let two = weight(&[(0, 1), (0, 1), (1, 1)]);
    assert!(one[2] > two[2] + 10.0, "{one:?} {two:?}");
    assert!(two[1] > one[1] + 10.0, "{one:?} {two:?}");
}
