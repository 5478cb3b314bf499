"""Judge throughput: 1,024 completions judged against the loopback fake judge with 200 ms
latency per request, cold and then from the cache.

Targets (issue 5): cold wall time within 1.2x of the ideal ceil(N / concurrency) * latency
at concurrency 64; the rerun from cache at least 100x faster than the cold run. A naive
sequential loop (one blocking request at a time, as hand-written judge glue often is) is
timed on a slice for comparison.

Two fault rows (issue 16), against an in-process fake judge that injects the fault:
- frozen: a judge that never answers; every call must return within call_timeout + 1 s
  (the worst is printed), compared with the same settings without a deadline;
- restart: the judge goes down mid-batch for --restart-down seconds and comes back on the
  same port; with retry_for=60 no completion may be lost, compared with max_retries=4.

    PYTHONPATH=. python benchmarks/judge_bench.py [--n 1024] [--concurrency 64] [--latency 0.2]
        [--faults-only] [--restart-down 30]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tqdm import tqdm

from rewardkit.judge import RubricJudgeReward, SyncRubricJudgeReward
from rewardkit.judge.testing_server import FakeJudgeServer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gsm8k_example_model_solutions.jsonl"
RUBRIC = [
    {"text": "Reaches the correct final answer", "category": "essential"},
    {"text": "Shows each arithmetic step", "category": "important"},
    {"text": "Makes an arithmetic slip", "category": "pitfall"},
]


def load_completions(path: Path, n: int) -> tuple[list[str], list[str], str]:
    """n (prompt, completion) pairs from the GSM8K model solutions, or synthetic ones."""
    prompts, completions = [], []
    if path.is_file():
        with path.open(encoding="utf-8") as rows:
            for line in rows:
                row = json.loads(line)
                for key in (
                    "6b_finetuning",
                    "6b_verification",
                    "175b_finetuning",
                    "175b_verification",
                ):
                    if isinstance(row.get(key), dict) and row[key].get("solution"):
                        prompts.append(row["question"])
                        completions.append(row[key]["solution"])
                if len(completions) >= n:
                    return prompts[:n], completions[:n], f"{path.name}"
    prompts = [f"What is {i} + {i + 1}?" for i in range(n)]
    completions = [f"{i} + {i + 1} = {2 * i + 1}. The answer is {2 * i + 1}." for i in range(n)]
    return prompts, completions, "synthetic"


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    """The fake judge in its own process, so its threads do not share our interpreter."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rewardkit.judge.testing_server", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError(f"the fake judge did not start: {url!r}")
    return process, url


def judge_once(url: str, cache: Path, concurrency: int, prompts, completions):
    """(wall seconds, CPU seconds of this process, values, logged metrics) of one call."""
    reward = RubricJudgeReward(
        RUBRIC,
        mode="implicit",
        model="fake-judge",
        base_url=url,
        cache=cache,
        max_concurrency=concurrency,
        timeout=30,
    )
    metrics: dict[str, float] = {}

    async def run():
        try:
            return await reward(
                prompts=prompts, completions=completions, log_metric=metrics.__setitem__
            )
        finally:
            await reward.backend.aclose()

    gc.collect()  # start each timed run with no garbage from the last one (as timeit does)
    cpu = time.process_time()
    start = time.perf_counter()
    values = asyncio.run(run())
    return time.perf_counter() - start, time.process_time() - cpu, values, metrics


def sequential_baseline(url: str, prompts, completions) -> float:
    """Seconds per completion for a blocking one-at-a-time loop over httpx.Client."""
    import httpx

    from rewardkit.judge import PromptTemplates, Rubric

    templates, rubric = PromptTemplates(), Rubric.from_dict(RUBRIC)
    start = time.perf_counter()
    with httpx.Client(base_url=url, timeout=30) as client:
        for prompt, completion in zip(prompts, completions, strict=True):
            messages = templates.likert_messages(prompt, completion, rubric)
            body = {"model": "fake-judge", "messages": messages, "temperature": 0.0}
            client.post("/chat/completions", json=body).raise_for_status()
    return (time.perf_counter() - start) / len(completions)


def fault_reward(url: str, **options) -> SyncRubricJudgeReward:
    return SyncRubricJudgeReward(
        RUBRIC, mode="implicit", model="fake-judge", base_url=url, cache=False, **options
    )


def frozen_row(calls: int, call_timeout: float) -> None:
    """Every call against a judge that never answers returns within call_timeout + 1 s."""
    prompts, completions = ["q"] * 12, [f"answer {i}" for i in range(12)]
    settings = {"timeout": 3, "max_concurrency": 2, "max_retries": 4}  # the case
    with FakeJudgeServer(faults=lambda i, body: "freeze") as server:
        reward = fault_reward(server.base_url, call_timeout=call_timeout, **settings)
        walls, reasons = [], set()
        for _ in tqdm(range(calls), desc="frozen judge", leave=False):
            start = time.perf_counter()
            results = reward.score(prompts=prompts, completions=completions)
            walls.append(time.perf_counter() - start)
            reasons |= {r.reason for r in results}
        sent = server.count
        # The peer: the same settings without a deadline or breaker, timed on one wave of
        # max_concurrency requests (each waits timeout x (max_retries + 1) plus backoff)
        # and scaled to the 12 requests of a call.
        peer = fault_reward(server.base_url, call_timeout=math.inf, breaker_failures=0, **settings)
        start = time.perf_counter()
        peer.score(prompts=prompts[:2], completions=completions[:2])
        peer_wall = (time.perf_counter() - start) * len(prompts) / 2
    worst = max(walls)
    print(
        f"frozen judge, 12 completions a call, timeout=3 max_concurrency=2 max_retries=4, "
        f"call_timeout={call_timeout:g}: {calls} calls, wall s per call "
        f"{' '.join(f'{w:.2f}' for w in walls)}; reasons {sorted(reasons)}; "
        f"{sent} requests sent in all (the breaker stops sending)"
    )
    verdict = "PASS" if worst <= call_timeout + 1 else "FAIL"
    print(
        f"  worst call {worst:.2f} s (target <= call_timeout + 1 = {call_timeout + 1:g} s): "
        f"{verdict}; without a deadline (before issue 16): {peer_wall:.0f} s a call"
    )


def restart_row(n: int, down: float, latency: float) -> None:
    """A judge restarted mid-batch: retry_for=60 loses nothing; max_retries=4 does."""
    prompts, completions = ["q"] * n, [f"answer {i} " + "word " * (i % 9) for i in range(n)]
    rows = []
    for label, options in [("retry_for=60", {"retry_for": 60}), ("max_retries=4", {})]:
        with FakeJudgeServer(latency=latency) as server:
            reward = fault_reward(
                server.base_url, timeout=10, max_concurrency=16, call_timeout=120, **options
            )
            threading.Timer(latency / 2, server.restart, (down,)).start()
            start = time.perf_counter()
            results = reward.score(prompts=prompts, completions=completions)
            wall = time.perf_counter() - start
            lost = sum(r.value is None for r in results)
            rows.append((label, wall, lost, reward.backend.usage.retries, server.restarts))
    print(
        f"judge restarted mid-batch ({n} completions, concurrency 16, {latency * 1000:.0f} ms "
        f"a request, down {down:g} s):"
    )
    print(f"  {'setting':<14} {'wall s':>7} {'lost':>5} {'retries':>8} {'restarts':>9}")
    for label, wall, lost, retries, restarts in rows:
        print(f"  {label:<14} {wall:>7.1f} {lost:>5} {retries:>8} {restarts:>9}")
    verdict = "PASS" if rows[0][2] == 0 else "FAIL"
    print(f"  retry_for=60 lost {rows[0][2]} of {n} (target 0): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument(
        "--repeats", type=int, default=3, help="cold + cached runs, fresh cache each"
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--sequential-n", type=int, default=16, help="completions for the naive loop"
    )
    parser.add_argument("--faults-only", action="store_true", help="only the two fault rows")
    parser.add_argument("--frozen-calls", type=int, default=6)
    parser.add_argument("--call-timeout", type=float, default=5.0)
    parser.add_argument("--restart-n", type=int, default=64)
    parser.add_argument("--restart-down", type=float, default=30.0, help="seconds down")
    args = parser.parse_args()

    if not args.faults_only:
        throughput(args)
    # The judge's once-per-run warnings would land between the rows' lines.
    logging.getLogger("rewardkit").setLevel(logging.ERROR)
    frozen_row(args.frozen_calls, args.call_timeout)
    restart_row(args.restart_n, args.restart_down, args.latency)


def throughput(args: argparse.Namespace) -> None:
    """Cold and cached runs of n completions against the fake judge in its own process."""
    prompts, completions, source = load_completions(args.data, args.n)
    ideal = math.ceil(args.n / args.concurrency) * args.latency
    server, url = start_server(args.latency)
    runs = []
    try:
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp) / "judge.sqlite"
                cold = judge_once(url, cache, args.concurrency, prompts, completions)
                warm = judge_once(url, cache, args.concurrency, prompts, completions)
            runs.append((cold, warm))
        per_request = sequential_baseline(
            url, prompts[: args.sequential_n], completions[: args.sequential_n]
        )
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(
        f"judge_bench: n={args.n} completions ({source}), concurrency={args.concurrency}, "
        f"latency={args.latency * 1000:.0f} ms/request, fake judge in its own process; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"ideal cold wall = ceil({args.n}/{args.concurrency}) * {args.latency} s = {ideal:.3f} s")
    header = f"{'run':<5} {'cold s':>8} {'x ideal':>8} {'cold cpu s':>11} {'requests':>9} "
    print(header + f"{'cached s':>9} {'cached cpu s':>13} {'requests':>9} {'speedup':>8}")
    for k, ((c_wall, c_cpu, _, c_m), (w_wall, w_cpu, _, w_m)) in enumerate(runs, 1):
        print(
            f"{k:<5} {c_wall:>8.3f} {c_wall / ideal:>8.2f} {c_cpu:>11.3f} "
            f"{int(c_m['rubric_judge/judge/requests']):>9} {w_wall:>9.4f} {w_cpu:>13.4f} "
            f"{int(w_m['rubric_judge/judge/requests']):>9} {c_wall / w_wall:>7.0f}x"
        )
    cold_median = statistics.median(c[0] for c, _ in runs)
    warm_median = statistics.median(w[0] for _, w in runs)
    sequential = per_request * args.n
    print(
        f"naive sequential loop (httpx.Client, one request at a time; timed on "
        f"{args.sequential_n}, scaled to {args.n}): {sequential:.1f} s "
        f"= {sequential / ideal:.1f}x ideal"
    )
    (c_wall, _, cold_values, _), (_, _, warm_values, w_m) = runs[-1]
    print(
        f"scored {sum(v is not None for v in cold_values)}/{args.n}; cached rerun identical: "
        f"{warm_values == cold_values}; cache hits {int(w_m['rubric_judge/judge/cache_hits'])}"
    )
    verdict = "PASS" if cold_median <= 1.2 * ideal else "FAIL"
    print(f"median cold / ideal = {cold_median / ideal:.3f} (target <= 1.2): {verdict}")
    verdict = "PASS" if cold_median >= 100 * warm_median else "FAIL"
    print(
        f"median cold / median cached = {cold_median / warm_median:.0f}x "
        f"(target >= 100x): {verdict}"
    )


if __name__ == "__main__":
    main()
