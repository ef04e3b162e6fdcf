"""The Ray executor against the local one on the same machine and the same pipeline: a Ray
cluster of two nodes (`ray start --head` + `ray start --address`, 1 CPU each, started and
stopped here) vs `datamill.run(workers=2)`; prints one RESULT line per executor and the
overhead per task. Needs the `datamill` wheel and `ray` in this Python (see bench/ray.sh).

    python bench/ray_executor.py [--repeat 3] [--unit-size 200KB]
"""

import argparse
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

import datamill
import datamill.ray as dray
import ray

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(tmp: Path):
    port = free_port()
    addr = f"127.0.0.1:{port}"
    exe = str(Path(sys.executable).parent / "ray")
    common = ["--num-cpus=1", "--block", "--disable-usage-stats", "--node-ip-address=127.0.0.1", "--object-store-memory=150000000"]
    log = open(tmp / "nodes.log", "w")
    procs = [subprocess.Popen([exe, "start", "--head", f"--port={port}", f"--temp-dir={tmp}", "--include-dashboard=false", *common], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)]
    deadline = time.time() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                raise RuntimeError((tmp / "nodes.log").read_text())
            time.sleep(0.5)
    procs.append(subprocess.Popen([exe, "start", f"--address={addr}", *common], stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    ray.init(address=addr, logging_level="ERROR")
    while ray.cluster_resources().get("CPU", 0) < 2:
        if time.time() > deadline:
            raise RuntimeError((tmp / "nodes.log").read_text())
        time.sleep(0.5)
    return addr, procs


def stop_cluster(procs) -> None:
    ray.shutdown()
    for p in reversed(procs):
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        p.wait(timeout=60)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--unit-size", default="200KB")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dmbench", dir="/tmp"))
    import pyarrow as pa

    plain = tmp / "en_prose_sample.jsonl"
    with pa.input_stream(str(REPO / "examples/data/en_prose_sample.jsonl.zst"), compression="zstd") as f:
        plain.write_bytes(f.read())

    def pipeline(out: Path) -> dict:
        return {
            "input": {"paths": [str(plain)], "unit_size": a.unit_size},
            "stage": [{"type": "length", "min_words": 10}, {"type": "gopher_repetition"}, {"type": "exact_dedup"}],
            "output": {"dir": str(out)},
        }

    addr, procs = start_cluster(tmp)
    try:
        times = {"local": [], "ray": []}
        tasks = 0
        for i in range(a.repeat):
            for ex in ("local", "ray"):
                out = tmp / f"{ex}{i}"
                t = time.perf_counter()
                s = datamill.run(pipeline(out), workers=2) if ex == "local" else dray.run(pipeline(out), address=addr)
                times[ex].append(time.perf_counter() - t)
                if ex == "ray":
                    tasks = s["ran_tasks"]
                docs = s["input_docs"]
        same = all(
            (tmp / f"local0" / p.relative_to(tmp / "ray0")).read_bytes() == p.read_bytes()
            for p in (tmp / "ray0").rglob("*.jsonl.zst")
        )
        best = {k: min(v) for k, v in times.items()}
        for k in ("local", "ray"):
            print(f"RESULT executor_{k:<6} docs={docs} wall_s={best[k]:.2f} (best of {a.repeat}: {' '.join(f'{x:.2f}' for x in times[k])})")
        over = (best["ray"] - best["local"]) * 2 / max(tasks, 1)
        print(f"RESULT ray_overhead   pass_tasks={tasks} overhead_per_task_s={over:.3f} (2 workers; same output bytes: {same})")
        print(json.dumps({"load_avg": os.getloadavg()}))
    finally:
        stop_cluster(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
