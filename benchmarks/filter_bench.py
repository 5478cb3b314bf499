"""Benchmark: scoring and filtering completions with rewardkit.filters vs naive approaches.

Input: GSM8K example solutions (real model outputs, 4 per question), their final
``A: N`` line rewritten as ``\\boxed{N}``, repeated (each repeat a new prompt) up to the
row count. Each measurement runs in a fresh subprocess, so ``ru_maxrss`` is that
method's own peak memory.

Methods:
- ``rewardkit run_filter``: read JSONL -> BoxedAccuracy -> resumable shards -> pass-rate
  band + top-2 distinct answers -> SFT JSONL + stats + histogram (the whole pipeline).
- ``rerun of a finished run``: the same command again in the same output directory: the
  input is read and checked against the digests the shards recorded, the shards are
  read back and verified against their checksums, nothing is scored (the cost of resuming).
- ``naive loop``: load every row into a list, call the reward once per row, group in a
  dict, filter, write JSONL (no shards, no resume).
- ``datasets.map``: ``load_dataset("json")`` + batched ``map`` with the reward, then
  the same grouping and filtering in memory.

Usage: PYTHONPATH=. python benchmarks/filter_bench.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gsm8k_example_model_solutions.jsonl"
MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
FILTERS = ["pass_rate", "top_k_distinct:k=2,by=answer"]


def make_input(source: Path, n_rows: int, path: Path) -> None:
    """Write ``n_rows`` long-format rows (prompt_id, prompt, completion, answer)."""
    records = []
    if source.exists():
        with source.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                gold = row["ground_truth"].rsplit("A:", 1)[-1].strip()
                solutions = [
                    re.sub(r"A:\s*(.+)\s*$", r"The answer is \\boxed{\1}.", row[m]["solution"])
                    for m in MODELS
                ]
                records.append((row["question"], gold, solutions))
    else:  # synthetic fallback: 4 arithmetic attempts a question, about half right
        for i in range(2000):
            gold = str(i * 7)
            solutions = [
                f"{i} * 7 = {i * 7 + (j % 2) * j}. The answer is \\boxed{{{i * 7 + (j % 2) * j}}}."
                for j in range(4)
            ]
            records.append((f"What is {i} * 7?", gold, solutions))
    written = 0
    with path.open("w", encoding="utf-8") as out:
        prompt_id = 0
        while written < n_rows:
            question, gold, solutions = records[prompt_id % len(records)]
            for solution in solutions:
                if written == n_rows:
                    break
                row = {"prompt_id": prompt_id, "prompt": question, "completion": solution,
                       "answer": gold}  # fmt: skip
                out.write(json.dumps(row) + "\n")
                written += 1
            prompt_id += 1


def run_rewardkit(path: Path, out: Path, workers: int) -> dict:
    from rewardkit.filters import Exporter, Scorer, read_completions, run_filter

    report = run_filter(
        read_completions(path, id_field="prompt_id"),
        Scorer("boxed_accuracy", workers=workers, batch_size=1024),
        FILTERS,
        Exporter("sft"),
        out,
        progress=False,
    )
    return {"kept": report.stats.kept_rows, "records": report.stats.records}


def _naive_filter(rows: list[dict]) -> list[dict]:
    """Group in memory, then pass-rate band and top-2 distinct answers, as the pipeline."""
    from rewardkit.filters import FilterChain

    groups: dict = {}
    for row in rows:
        groups.setdefault(row["prompt_id"], []).append(row)
    chain = FilterChain(FILTERS)
    kept = []
    for group in groups.values():
        kept += chain.apply(group)[0]
    return kept


def run_naive_loop(path: Path, out: Path) -> dict:
    from rewardkit.rewards import BoxedAccuracy

    reward = BoxedAccuracy()
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    for row in rows:
        value = reward(prompts=[row["prompt"]], completions=[row["completion"]],
                       answer=[row["answer"]])[0]  # fmt: skip
        row["reward"], row["correct"] = value, None if value is None else value >= 1.0
    kept = _naive_filter(rows)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "sft.jsonl").open("w", encoding="utf-8") as sink:
        for row in kept:
            sink.write(
                json.dumps({"prompt": row["prompt"], "completion": row["completion"]}) + "\n"
            )
    return {"kept": len(kept), "records": len(kept)}


def run_datasets_map(path: Path, out: Path) -> dict:
    from datasets import load_dataset

    from rewardkit.rewards import BoxedAccuracy

    reward = BoxedAccuracy()

    def score(batch):
        values = reward(prompts=batch["prompt"], completions=batch["completion"],
                        answer=batch["answer"])  # fmt: skip
        return {"reward": values, "correct": [None if v is None else v >= 1.0 for v in values]}

    dataset = load_dataset("json", data_files=str(path), split="train", cache_dir=str(out / "hf"))
    dataset = dataset.map(score, batched=True, batch_size=1024)
    kept = _naive_filter(dataset.to_list())
    return {"kept": len(kept), "records": len(kept)}


def child(method: str, path: Path, out: Path, workers: int) -> None:
    if method == "rerun":  # finish a run first, then time its rerun
        run_rewardkit(path, out, workers)
        before = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    start = time.perf_counter()
    if method in ("rewardkit", "rerun"):
        result = run_rewardkit(path, out, workers)
    elif method == "loop":
        result = run_naive_loop(path, out)
    else:
        result = run_datasets_map(path, out)
    seconds = time.perf_counter() - start
    own, workers_usage = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    # Scoring workers are separate processes: their peak and CPU time count too.
    peak_kib = max(own.ru_maxrss, workers_usage.ru_maxrss)
    cpu = sum(u.ru_utime + u.ru_stime for u in (own, workers_usage))
    if method == "rerun":
        cpu -= sum(u.ru_utime + u.ru_stime for u in before)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": peak_kib / 1024, **result}))


def measure(method: str, path: Path, workers: int, tmp: Path) -> dict:
    out = Path(tempfile.mkdtemp(dir=tmp))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, __file__, "--child", method, "--input", str(path),
               "--out", str(out), "--workers", str(workers)]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-datasets", action="store_true", help="leave out datasets.map")
    parser.add_argument("--repeat", type=int, default=2, help="runs a cell; the fastest is shown")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.input, args.out, args.workers)
        return

    print(f"input: {args.data if args.data.exists() else 'synthetic (shared data not found)'}")
    print(f"cpu cores: {os.cpu_count()}  python {sys.version.split()[0]}")
    print()
    print(
        f"wall: elapsed seconds, fastest of {args.repeat} runs (the machine may be shared, so"
        " CPU seconds too); imports, reading, writing and the histogram included"
    )
    header = (
        f"{'method':<32}{'rows':>9}{'wall s':>8}{'rows/s':>9}{'cpu s':>8}{'rows/cpu s':>11}"
        f"{'peak MiB':>10}{'kept':>8}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        methods = [("rewardkit run_filter", "rewardkit", 1),
                   ("rewardkit run_filter, 2 workers", "rewardkit", 2),
                   ("rerun of a finished run", "rerun", 1),
                   ("naive loop (all in memory)", "loop", 1)]  # fmt: skip
        if not args.skip_datasets:
            methods.append(("datasets.map + group", "datasets", 1))
        for size in args.sizes:
            path = tmp / f"input_{size}.jsonl"
            make_input(args.data, size, path)
            for label, method, workers in methods:
                runs = [measure(method, path, workers, tmp) for _ in range(args.repeat)]
                result = min(runs, key=lambda run: run["seconds"])
                rate = size / result["seconds"]
                print(
                    f"{label:<32}{size:>9}{result['seconds']:>8.2f}{rate:>9.0f}"
                    f"{result['cpu']:>8.2f}{size / result['cpu']:>11.0f}"
                    f"{result['peak_mib']:>10.1f}{result['kept']:>8}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
