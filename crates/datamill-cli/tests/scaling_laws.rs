//! `datamill scaling dcpt|vocab|quant` end to end through the binary: reports, JSON with
//! labelled intervals, the mixture snippet, and bad input (exit 2, the value named).

use std::path::Path;
use std::process::{Command, Output};

use datamill_scaling::dcpt::Dcpt;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_datamill"))
        .args(args)
        .output()
        .expect("datamill runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Exit code 2 and the error text.
fn fails(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn law(e: f64, a: f64, b: f64, c: f64, ex: [f64; 5]) -> Dcpt {
    Dcpt {
        e,
        a,
        b,
        c,
        alpha: ex[0],
        beta: ex[1],
        eta: ex[2],
        gamma: ex[3],
        eps: ex[4],
        f: None,
        mu: None,
    }
}

/// Continual pre-training runs generated from known general and domain laws.
fn write_dcpt_runs(path: &Path) {
    let g = law(1.9, 300.0, 200.0, 0.3, [0.3, 0.3, 0.2, 0.4, 0.02]);
    let d = law(0.9, 150.0, 400.0, 0.25, [0.28, 0.32, 0.3, 0.5, 0.05]);
    let mut csv = String::from("model,params,tokens,r_d,general_loss,domain_loss\n");
    for (name, n) in [("0.5B", 0.5e9), ("1.8B", 1.8e9), ("4B", 4e9)] {
        for i in 0..6 {
            let t = 1e8 * 260f64.powf(i as f64 / 5.0);
            for r in [0.0, 0.1, 0.2, 0.33, 0.5, 0.67, 0.8, 0.9, 1.0] {
                csv.push_str(&format!(
                    "{name},{n},{t},{r},{},{}\n",
                    g.loss(n, t, 1.0 - r, None),
                    d.loss(n, t, r, None)
                ));
            }
        }
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn dcpt_fit_plan_json_and_mix_snippet() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cpt.csv");
    write_dcpt_runs(&csv);
    let lawf = dir.path().join("cpt.json");
    let csv_s = csv.to_str().unwrap();
    let law_s = lawf.to_str().unwrap();
    let out = stdout(&run(&[
        "scaling",
        "dcpt",
        "fit",
        csv_s,
        "--bootstrap",
        "20",
        "-o",
        law_s,
    ]));
    for want in [
        "general loss",
        "domain loss",
        "gamma",
        "eps",
        "bootstrap  20 resamples",
    ] {
        assert!(out.contains(want), "missing {want} in\n{out}");
    }
    // The budget answer, with a labelled interval in JSON.
    let json = stdout(&run(&[
        "scaling",
        "dcpt",
        "plan",
        law_s,
        "--n",
        "1.8e9",
        "--d",
        "1e10",
        "--max-general-increase",
        "0.03",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let r = &v["tradeoff"]["ratio"];
    let value = r["value"].as_f64().unwrap();
    assert!(value > 0.0 && value <= 1.0, "{v}");
    let (lo, hi) = (
        r["interval"]["low"].as_f64().unwrap(),
        r["interval"]["high"].as_f64().unwrap(),
    );
    assert!(lo <= value && value <= hi, "{r}");
    assert_eq!(r["interval"]["level"].as_f64(), Some(0.95));
    assert!(v["tradeoff"]["general_bound"].as_f64().unwrap() > 0.0);
    // The chosen ratio as a mixture phase.
    let mix = dir.path().join("phase.toml");
    let out = stdout(&run(&[
        "scaling",
        "dcpt",
        "plan",
        law_s,
        "--n",
        "1.8e9",
        "--domain-tokens",
        "2e9",
        "--d",
        "2e10",
        "--emit-mix",
        mix.to_str().unwrap(),
        "--general-source",
        "web",
        "--domain-source",
        "chemistry",
    ]));
    assert!(
        out.contains("limited domain") || out.contains("domain tokens used once"),
        "{out}"
    );
    let snippet = std::fs::read_to_string(&mix).unwrap();
    assert!(
        snippet.contains("[[phase]]") && snippet.contains("web = "),
        "{snippet}"
    );
    let parsed: toml::Value = toml::from_str(&snippet).unwrap();
    let w = &parsed["phase"][0]["weights"];
    let sum = w["web"].as_float().unwrap() + w["chemistry"].as_float().unwrap();
    assert!((sum - 1.0).abs() < 1e-9, "{snippet}");
    // Data for a target domain loss, and the compute-optimal split at a ratio.
    let out = stdout(&run(&[
        "scaling",
        "dcpt",
        "plan",
        law_s,
        "--n",
        "1.8e9",
        "--ratio",
        "0.5",
        "--target-domain-loss",
        "1.7",
    ]));
    assert!(out.contains("tokens to reach L_d = 1.7"), "{out}");
    let out = stdout(&run(&[
        "scaling",
        "dcpt",
        "plan",
        law_s,
        "--ratio",
        "0.5",
        "--compute",
        "1e21",
    ]));
    assert!(out.contains("N_opt"), "{out}");

    // Bad input: exit 2 and the value named.
    let e = fails(&run(&[
        "scaling", "dcpt", "plan", law_s, "--n", "1.8e9", "--d", "1e10", "--ratio", "1.5",
    ]));
    assert!(e.contains("--ratio 1.5 is outside (0, 1]"), "{e}");
    let e = fails(&run(&[
        "scaling", "dcpt", "plan", law_s, "--n", "1.8e9", "--d", "1e10", "--ratio", "0",
    ]));
    assert!(e.contains("--ratio 0 is outside (0, 1]"), "{e}");
    let e = fails(&run(&[
        "scaling",
        "dcpt",
        "plan",
        law_s,
        "--n",
        "1.8e9",
        "--d",
        "1e10",
        "--max-general-increase",
        "0.03",
        "--general-baseline",
        "1.5",
    ]));
    assert!(
        e.contains("--max-general-increase 0.03: unreachable") && e.contains("1.5"),
        "{e}"
    );
    let e = fails(&run(&[
        "scaling",
        "dcpt",
        "plan",
        law_s,
        "--n",
        "1.8e9",
        "--ratio",
        "0.5",
        "--target-domain-loss",
        "0.5",
    ]));
    assert!(e.contains("--target-domain-loss 0.5: unreachable"), "{e}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "params,tokens,general_loss\n1e9,1e10,2.9\n").unwrap();
    let e = fails(&run(&["scaling", "dcpt", "fit", bad.to_str().unwrap()]));
    assert!(e.contains("missing a column for the domain ratio r"), "{e}");
    std::fs::write(
        &bad,
        "N,D,r,general_loss\n1e9,1e10,0.5,2.9\n1e9,1e10,-0.2,2.9\n",
    )
    .unwrap();
    let e = fails(&run(&["scaling", "dcpt", "fit", bad.to_str().unwrap()]));
    assert!(
        e.contains("row 2") && e.contains("-0.2 is outside [0, 1]"),
        "{e}"
    );
}

#[test]
fn vocab_prints_the_three_approaches_and_fits_the_authors_columns() {
    let out = stdout(&run(&["scaling", "vocab", "--params", "7e9,70e9"]));
    for want in [
        "62,280", "67,450", "59,547", "211,860", "230,861", "217,961",
    ] {
        assert!(out.contains(want), "missing {want} in\n{out}");
    }
    let json = stdout(&run(&[
        "scaling",
        "vocab",
        "--params",
        "302e6",
        "--compute",
        "1e20",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["compute"].as_f64(), Some(1e20));
    assert!(
        v[0]["approach3"]["vocab_size"].as_u64().unwrap() > 10_000,
        "{v}"
    );
    assert!(v[0]["approach3_vocab"]["value"].as_f64().is_some(), "{v}");
    // Runs in the authors' columns, generated from the published law.
    use datamill_scaling::vocab::fit::flops;
    use datamill_scaling::vocab::{VocabLaw, embed_dim};
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("exp.csv");
    let mut text =
        String::from("vocab_size,embed_dim,num_characters,Non_vocab_parameters,FLOPs,Lossu\n");
    for n in [33.2e6, 151e6, 631e6, 1129.9e6] {
        let d = embed_dim(n);
        for v in [4096.0, 8192.0, 16384.0, 32768.0, 96256.0] {
            for h in [1e9, 5e9, 2e10, 1e11] {
                let l = VocabLaw::PUBLISHED.loss(n, v, d, h);
                text.push_str(&format!("{v},{d},{h},{n},{},{l}\n", flops(n, v, d, h)));
            }
        }
    }
    std::fs::write(&csv, text).unwrap();
    let lawf = dir.path().join("vocab.json");
    let out = stdout(&run(&[
        "scaling",
        "vocab",
        "fit",
        csv.to_str().unwrap(),
        "-o",
        lawf.to_str().unwrap(),
    ]));
    assert!(
        out.contains("486 starts") && out.contains("alpha2"),
        "{out}"
    );
    let out = stdout(&run(&[
        "scaling",
        "vocab",
        "--params",
        "70e9",
        "--law",
        lawf.to_str().unwrap(),
    ]));
    assert!(out.contains("fitted"), "{out}");
    // Bad input.
    let e = fails(&run(&["scaling", "vocab", "--params=-7e9"]));
    assert!(
        e.contains("--params -7000000000: must be finite and positive"),
        "{e}"
    );
    let e = fails(&run(&["scaling", "vocab"]));
    assert!(e.contains("--params"), "{e}");
    let e = fails(&run(&[
        "scaling",
        "vocab",
        "--params",
        "7e9",
        "--compute",
        "1e10",
    ]));
    assert!(e.contains("--compute 1e10: unreachable"), "{e}");
    std::fs::write(
        &csv,
        "vocab_size,embed_dim,num_characters,FLOPs,Lossu\n1,2,3,4,-5\n",
    )
    .unwrap();
    let e = fails(&run(&["scaling", "vocab", "fit", csv.to_str().unwrap()]));
    assert!(
        e.contains("non-vocabulary parameters") && e.contains("Non_vocab_parameters"),
        "{e}"
    );
}

#[test]
fn quant_inverse_fit_and_bad_input() {
    let out = stdout(&run(&[
        "scaling",
        "quant",
        "--params",
        "7e9",
        "--bits",
        "4",
        "--max-increase",
        "0.2",
        "--tokens",
        "1e14",
    ]));
    // scaling-laws-2.md §3: D_max(7e9, 4 bits, 0.2) = 3.80T; dq(7e9, 1e14, 4) = 1.113.
    assert!(out.contains("3.80") && out.contains("1.113"), "{out}");
    assert!(out.contains("knowledge capacity"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("q.csv");
    let mut text = String::from("params,tokens,bits,delta_loss\n");
    let law = datamill_scaling::quant::PUBLISHED;
    for n in [160e6, 1e9, 6.9e9] {
        for d in [1e9, 3e10, 2e11] {
            for p in [2.0, 3.0, 4.0] {
                text.push_str(&format!("{n},{d},{p},{}\n", law.delta(n, d, p)));
            }
        }
    }
    std::fs::write(&csv, &text).unwrap();
    let lawf = dir.path().join("q.json");
    let out = stdout(&run(&[
        "scaling",
        "quant",
        "fit",
        csv.to_str().unwrap(),
        "--bootstrap",
        "20",
        "-o",
        lawf.to_str().unwrap(),
    ]));
    assert!(out.contains("0.5251") && out.contains("5.4967"), "{out}");
    let json = stdout(&run(&[
        "scaling",
        "quant",
        "--law",
        lawf.to_str().unwrap(),
        "--params",
        "7e9",
        "--bits",
        "4",
        "--max-increase",
        "0.2",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let t = &v["token_limits"][0]["tokens"];
    assert!(
        (t["value"].as_f64().unwrap() / 3.80e12 - 1.0).abs() < 0.01,
        "{v}"
    );
    assert!(t["interval"]["low"].as_f64().is_some(), "{v}");
    let e = fails(&run(&[
        "scaling", "quant", "--params", "7e9", "--bits", "0", "--tokens", "1e12",
    ]));
    assert!(e.contains("--bits 0: must be finite and positive"), "{e}");
    std::fs::write(&csv, "params,tokens,delta_loss\n1e9,1e10,0.1\n").unwrap();
    let e = fails(&run(&["scaling", "quant", "fit", csv.to_str().unwrap()]));
    assert!(e.contains("bit width P") && e.contains("bits, P"), "{e}");
}

/// The three laws' plots: PNG and SVG written, the SVG drawn on a 10x canvas shown at its
/// size (sub-pixel coordinates), legends naming every line.
#[test]
fn plots_of_the_three_laws() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cpt.csv");
    write_dcpt_runs(&csv);
    let lawf = dir.path().join("cpt.json");
    stdout(&run(&[
        "scaling",
        "dcpt",
        "fit",
        csv.to_str().unwrap(),
        "--bootstrap",
        "10",
        "-o",
        lawf.to_str().unwrap(),
    ]));
    let check = |prefix: &Path, size: (u32, u32), wants: &[&str]| {
        let png = std::fs::read(prefix.with_extension("png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = std::fs::read_to_string(prefix.with_extension("svg")).unwrap();
        let head = format!(
            "width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\"",
            size.0,
            size.1,
            size.0 * 4,
            size.1 * 4
        ); // datamill_plot::SVG_SCALE: a quarter pixel
        assert!(svg.contains(&head), "{}", &svg[..200.min(svg.len())]);
        for w in wants {
            assert!(svg.contains(w), "missing {w} in the SVG");
        }
    };
    let p = dir.path().join("dcpt");
    stdout(&run(&[
        "scaling",
        "plot",
        lawf.to_str().unwrap(),
        "--n",
        "1.8e9",
        "--d",
        "1e10",
        "--max-general-increase",
        "0.03",
        "-o",
        p.to_str().unwrap(),
    ]));
    check(
        &p,
        (1160, 520),
        &[
            "general loss",
            "domain loss",
            "D/4",
            "best r_d within the budget",
            "<polygon",
        ],
    );
    let p = dir.path().join("vocab");
    stdout(&run(&[
        "scaling",
        "plot",
        "builtin:vocab",
        "-o",
        p.to_str().unwrap(),
    ]));
    check(
        &p,
        (600, 520),
        &[
            "approach 1 (isoFLOPs)",
            "approach 2 (derivative)",
            "N_nv = 7.00e9",
        ],
    );
    let p = dir.path().join("quant");
    stdout(&run(&[
        "scaling",
        "plot",
        "builtin:quant",
        "--n",
        "7e9",
        "--max-increase",
        "0.2",
        "-o",
        p.to_str().unwrap(),
    ]));
    check(&p, (600, 520), &["2 bits", "8 bits", "tolerance dq = 0.2"]);
    let e = fails(&run(&[
        "scaling",
        "plot",
        lawf.to_str().unwrap(),
        "--n",
        "1.8e9",
    ]));
    assert!(e.contains("needs --n and --d"), "{e}");
}
