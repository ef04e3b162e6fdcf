"""The Ray executor on a real local Ray cluster: a head node and a second node started with
`ray start` by these tests (and stopped by them). Output byte-identical to a local run; a
worker killed mid-task retried without counting anything twice; a killed driver resumed; an
unreachable address refused at once; the Ray Data adapter."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import datamill
import datamill.ray as dray
from conftest import REPO, check_report, files, stats_core

RAY = str(Path(sys.executable).parent / "ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """`ray start --head` plus a second node (`ray start --address`), 1 CPU each."""
    tmp = Path(tempfile.mkdtemp(prefix="dmray", dir="/tmp"))  # short: Ray's socket paths
    port = free_port()
    addr = f"127.0.0.1:{port}"
    common = ["--num-cpus=1", "--block", "--disable-usage-stats", "--node-ip-address=127.0.0.1", "--object-store-memory=150000000"]
    log = open(tmp / "nodes.log", "w")
    env = dict(os.environ, RAY_ENABLE_UV_RUN_RUNTIME_ENV="0")
    head = subprocess.Popen(
        [RAY, "start", "--head", f"--port={port}", f"--temp-dir={tmp}", "--include-dashboard=false", *common],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
    )
    procs = [head]
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or head.poll() is not None:
                    raise RuntimeError(f"the Ray head did not start:\n{(tmp / 'nodes.log').read_text()}")
                time.sleep(0.5)
        procs.append(subprocess.Popen(
            [RAY, "start", f"--address={addr}", *common],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
        ))
        ray.init(address=addr, logging_level="ERROR")
        while ray.cluster_resources().get("CPU", 0) < 2:
            if time.time() > deadline:
                raise RuntimeError(f"the second Ray node did not join:\n{(tmp / 'nodes.log').read_text()}")
            time.sleep(0.5)
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        yield addr
    finally:
        ray.shutdown()
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


INPUTS = []


@pytest.fixture(scope="module", autouse=True)
def inputs(tmp_path_factory):
    """The prose sample as plain JSONL (3.8 MB: about 19 work units of 200 KB) and the
    near-duplicate sample (gzip: one unit)."""
    import pyarrow as pa

    d = tmp_path_factory.mktemp("inputs")
    plain = d / "en_prose_sample.jsonl"
    with pa.input_stream(str(REPO / "examples" / "data" / "en_prose_sample.jsonl.zst"), compression="zstd") as f:
        plain.write_bytes(f.read())
    INPUTS[:] = [str(plain), str(REPO / "examples" / "data" / "neardup_sample.jsonl.gz")]
    return INPUTS


def pipeline(out: Path) -> dict:
    return {
        "input": {"paths": list(INPUTS), "unit_size": "200KB"},
        "stage": [
            {"type": "length", "min_words": 10},
            {"type": "gopher_repetition"},
            {"type": "exact_dedup"},
            {"type": "line_dedup"},
            {"type": "c4_quality"},
        ],
        "output": {"dir": str(out), "excluded": True},
    }


@pytest.fixture(scope="module")
def local(tmp_path_factory, inputs):
    out = tmp_path_factory.mktemp("local") / "out"
    s = datamill.run(pipeline(out))
    return out, s


def same_as_local(out: Path, stats: dict, local) -> None:
    lout, ls = local
    assert files(out) == files(lout)
    assert stats_core(stats) == stats_core(ls)
    on_disk = json.loads((out / "stats.json").read_text())
    assert stats_core(on_disk) == stats_core(ls)


def test_ray_run_is_byte_identical_to_a_local_run(cluster, tmp_path, local):
    out = tmp_path / "ray"
    seen = []
    s = dray.run(pipeline(out), address=cluster, progress=seen.append)
    same_as_local(out, s, local)
    # The report, written by the driver once every task is done, as a local run's.
    assert s["report"] == str(out / "report.html")
    check_report(out, s)
    passes = sum(1 for p in seen if p["phase"].startswith("pass:") and p["units_done"] == 0)
    assert s["ran_tasks"] > 10 and s["resumed_tasks"] == 0
    assert {p["phase"] for p in seen} >= {"pass:0", "decide:0", "pass:1", "report:1"}
    assert passes >= 3
    # Every pass task had a marker after the run; the hand-over documents are gone.
    assert not list((out / ".datamill").rglob("*.jsonl*"))
    # Again: nothing to do.
    again = dray.run(pipeline(out), address=cluster)
    assert again["ran_tasks"] == 0 and again["resumed_tasks"] == s["ran_tasks"]
    same_as_local(out, again, local)


@pytest.mark.parametrize("fault", ["outputs:0:2", "marker:1:1", "decision:0:1", "outputs:2:1"])
def test_a_worker_killed_mid_task_is_retried_and_nothing_counts_twice(cluster, tmp_path, local, fault):
    out = tmp_path / "ray"
    once = tmp_path / "fired"
    env = {"env_vars": {"DATAMILL_FAULT": fault, "DATAMILL_FAULT_ONCE": str(once)}}
    s = dray.run(pipeline(out), address=cluster, runtime_env=env, max_retries=2)
    assert once.exists(), f"the fault {fault} never fired"
    same_as_local(out, s, local)


def test_a_killed_driver_loses_nothing(cluster, tmp_path, local):
    out = tmp_path / "ray"
    toml = tmp_path / "p.toml"
    d = pipeline(out)
    lines = ["version = 1", "[input]", f"paths = {json.dumps(d['input']['paths'])}", 'unit_size = "200KB"']
    for st in d["stage"]:
        lines += ["[[stage]]"] + [f"{k} = {json.dumps(v)}" for k, v in st.items()]
    lines += ["[output]", f'dir = "{out}"', "excluded = true"]
    toml.write_text("\n".join(lines) + "\n")
    cmd = [sys.executable, "-m", "datamill.ray", str(toml), "--address", cluster, "--quiet"]
    driver = subprocess.Popen(cmd, start_new_session=True)
    markers = out / ".datamill" / "pass1"
    deadline = time.time() + 300
    while not (markers.is_dir() and list(markers.glob("*.done"))):
        assert driver.poll() is None, "the driver ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    assert not (out / "stats.json").exists()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "stats.json").read_text())
    same_as_local(out, s, local)
    # Nothing is left to do.
    again = dray.run(str(toml), address=cluster)
    assert again["ran_tasks"] == 0 and again["resumed_tasks"] > 0


def test_an_unreachable_address_fails_fast_in_one_line(tmp_path, datamill_bin):
    toml = tmp_path / "p.toml"
    toml.write_text(f'version = 1\n[input]\npaths = ["{REPO}/examples/data/neardup_sample.jsonl.gz"]\n[output]\ndir = "{tmp_path}/o"\n')
    port = free_port()  # nothing listens there
    t = time.time()
    r = subprocess.run([sys.executable, "-m", "datamill.ray", str(toml), "--address", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and time.time() - t < 30
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot reach the Ray cluster at 127.0.0.1:"), r.stderr
    with pytest.raises(ConnectionError):
        dray.run(str(toml), address=f"127.0.0.1:{port}")
    # The command line's --executor ray runs the same driver.
    env = dict(os.environ, DATAMILL_PYTHON=sys.executable)
    r = subprocess.run([str(datamill_bin), "run", str(toml), "--executor", "ray", "--address", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == err


def test_the_command_line_executor_ray(cluster, tmp_path, local, datamill_bin):
    toml = tmp_path / "p.toml"
    d = pipeline(tmp_path / "cli")
    lines = ["version = 1", "[input]", f"paths = {json.dumps(d['input']['paths'])}", 'unit_size = "200KB"']
    for st in d["stage"]:
        lines += ["[[stage]]"] + [f"{k} = {json.dumps(v)}" for k, v in st.items()]
    lines += ["[output]", f'dir = "{tmp_path / "cli"}"', "excluded = true"]
    toml.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, DATAMILL_PYTHON=sys.executable)
    r = subprocess.run([str(datamill_bin), "run", str(toml), "--executor", "ray", "--address", cluster], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "cli" / "stats.json").read_text())
    same_as_local(tmp_path / "cli", s, local)
    check_report(tmp_path / "cli", s)
    # --no-report is passed on to the driver.
    r = subprocess.run([str(datamill_bin), "run", str(toml), "--executor", "ray", "--address", cluster, "-o", str(tmp_path / "quiet"), "--no-report"], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "quiet" / "stats.json").exists() and not (tmp_path / "quiet" / "report.html").exists()


def test_a_relative_pipeline_path_resolves_at_the_driver(cluster, tmp_path, monkeypatch, datamill_bin):
    """A pipeline file given by a relative path, with relative input paths and output
    folder, run from its folder: the Ray workers (started in another folder) read the
    right inputs and write the right folder, as a local run from the same folder does;
    the command line's ``--executor ray`` too."""
    d = tmp_path / "project"
    (d / "data").mkdir(parents=True)
    for src in INPUTS:
        shutil.copy(src, d / "data" / Path(src).name)
    stages = "".join(f"[[stage]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in st.items()) for st in pipeline(d)["stage"])
    paths = json.dumps([f"data/{Path(src).name}" for src in INPUTS])
    for name, out in (("p.toml", "out"), ("cli.toml", "cli"), ("local.toml", "local")):
        (d / name).write_text(f'version = 1\n[input]\npaths = {paths}\nunit_size = "200KB"\n{stages}[output]\ndir = "{out}"\nexcluded = true\n')
    assert Path.cwd() != d
    monkeypatch.chdir(d)
    local = datamill.run("local.toml")
    s = dray.run("p.toml", address=cluster)
    assert s["output_dir"] == str(d / "out")
    assert files(d / "out") == files(d / "local") and stats_core(s) == stats_core(local)
    assert local["output_docs"] > 0
    env = dict(os.environ, DATAMILL_PYTHON=sys.executable)
    r = subprocess.run([str(datamill_bin), "run", "cli.toml", "--executor", "ray", "--address", cluster], cwd=d, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert files(d / "cli") == files(d / "local")


def test_ray_data_map_batches_adapter(cluster, prose):
    rd = pytest.importorskip("ray.data")
    import pyarrow as pa
    import pyarrow.json as pj

    with pa.input_stream(str(prose), compression="zstd") as f:
        table = pj.read_json(f)
    want = datamill.Stage("length", min_words=50)(table).column("id").to_pylist()
    ds = rd.from_arrow(table).map_batches(
        dray.BatchStage, fn_constructor_args=("length",), fn_constructor_kwargs={"min_words": 50},
        batch_format="pyarrow", concurrency=2, num_cpus=0.5,
    )
    got = [r["id"] for r in ds.take_all()]
    assert sorted(got) == sorted(want) and len(got) < table.num_rows
