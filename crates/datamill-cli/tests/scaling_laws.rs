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
