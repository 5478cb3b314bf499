"""Ray scale-out on this machine: the filter pipeline local vs on Ray Data, and the reward
server plain vs on Ray Serve.

On one 2-core machine Ray cannot be faster than the local pipeline; the target is that
it costs at most 2x the local throughput here, with a driver whose memory stays flat as
the rows grow (20k vs 200k), so that a cluster's extra machines are a real gain.

Each configuration runs in a fresh process (its peak RSS is its own), on GSM8K model
solutions (../shared/data, or the file $GSM8K_SOLUTIONS names) repeated with distinct
prompts up to the row count; the server part reuses serve_bench.py's client:

    python benchmarks/ray_bench.py                 # 20k and 200k rows, serve 5k requests
    python benchmarks/ray_bench.py --rows 20000 --requests 2000   # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOLUTIONS = Path(
    os.environ.get(
        "GSM8K_SOLUTIONS",
        Path(__file__).resolve().parents[2] / "shared/data/gsm8k_example_model_solutions.jsonl",
    )
)
MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
REWARD = "boxed_accuracy@boxed_only=false"


def records(n_rows: int):
    """Wide GSM8K records (4 solutions each), repeated with distinct prompts."""
    base = [json.loads(line) for line in SOLUTIONS.open(encoding="utf-8")]
    n_records = n_rows // len(MODELS)
    for i in range(n_records):
        record = dict(base[i % len(base)])
        record["question"] = f"{record['question']} (#{i})"
        yield record


def one_filter_run(executor: str, n_rows: int) -> dict:
    """Run the whole filter pipeline once here; what the parent prints."""
    from rewardkit.filters import Exporter, Scorer, read_completions, run_filter

    started = time.perf_counter()
    if executor == "ray":
        from rewardkit.ray.data import ensure_ray

        ensure_ray(num_cpus=2, include_dashboard=False)
    init_s = time.perf_counter() - started
    rows = read_completions(
        records(n_rows), prompt_field="question", completion_fields=list(MODELS)
    )
    out = tempfile.mkdtemp(prefix=f"ray-bench-{executor}-")
    started = time.perf_counter()
    report = run_filter(
        rows,
        Scorer(REWARD, batch_size=512),
        ["pass_rate"],
        Exporter("sft"),
        out,
        executor=executor,
        progress=False,
    )
    seconds = time.perf_counter() - started
    dataset = Path(report.dataset).read_bytes()
    return {
        "seconds": seconds,
        "init_s": init_s,
        "rows_per_s": n_rows / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "dataset_sha256": hashlib.sha256(dataset).hexdigest(),
        "kept": report.stats.kept_rows,
    }


def serve_run(mode: str, n_requests: int, concurrency: int) -> dict:
    """OpenRLHF-style single-sample requests against the plain server (its own process, 2
    scoring workers) or Ray Serve (2 replicas of 1 worker), with serve_bench's client."""
    import serve_bench

    from rewardkit.serve import single_route

    samples = serve_bench.load_samples(SOLUTIONS)
    requests = [samples[i % len(samples)] for i in range(n_requests)]
    port = serve_bench.free_port()
    server = None
    if mode == "ray":
        from rewardkit.ray.data import ensure_ray
        from rewardkit.ray.serve import run_on_ray

        ensure_ray(num_cpus=2, include_dashboard=False)
        config = single_route(f"{REWARD},timeout=5", processes=1)
        url = run_on_ray(config, port=port, num_replicas=2, num_cpus=0.5)[config.default]
    else:
        server = serve_bench.start_server(port, processes=2, verify_timeout=5)
        url = f"http://127.0.0.1:{port}"
    try:
        seconds, latencies, _, _ = serve_bench.load_test(url, requests, concurrency, 1, mode)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
    return {
        "requests": n_requests,
        "req_per_s": n_requests / seconds,
        "p50_ms": 1000 * serve_bench.pct(latencies, 50),
        "p99_ms": 1000 * serve_bench.pct(latencies, 99),
    }


def _child(args: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, mode, number = args.child
        if kind == "filter":
            print(json.dumps(one_filter_run(mode, int(number))))
        else:
            print(json.dumps(serve_run(mode, int(number), args.concurrency)))
        return
    if not SOLUTIONS.is_file():
        sys.exit(f"needs {SOLUTIONS}")
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    print("| pipeline | rows | seconds | rows/s | Ray init s | driver peak RSS MB | kept |")
    print("|---|---|---|---|---|---|---|")
    results = {}
    for n_rows in args.rows:
        for mode in ("local", "ray"):
            r = results[mode, n_rows] = _child(["filter", mode, str(n_rows)])
            print(f"| {mode} | {n_rows:,} | {r['seconds']:.1f} | {r['rows_per_s']:,.0f} | "
                  f"{r['init_s']:.1f} | {r['peak_rss_mb']:.0f} | {r['kept']:,} |")  # fmt: skip
        same = (
            results["local", n_rows]["dataset_sha256"] == results["ray", n_rows]["dataset_sha256"]
        )
        ratio = results["local", n_rows]["rows_per_s"] / results["ray", n_rows]["rows_per_s"]
        print(f"| {n_rows:,} rows: Ray costs {ratio:.2f}x local (target <= 2x); "
              f"same dataset: {same} | | | | | | |")  # fmt: skip
    print()
    print("| server | requests | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for mode in ("plain", "ray"):
        r = _child(["serve", mode, str(args.requests)])
        label = "plain (2 processes)" if mode == "plain" else "Ray Serve (2 replicas)"
        print(f"| {label} | {r['requests']:,} | {r['req_per_s']:,.0f} | {r['p50_ms']:.1f} | "
              f"{r['p99_ms']:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
